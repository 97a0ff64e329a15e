"""Vite's dev server as a child of `nitro dev`.

`nitro dev` (its supervising process, which outlives the app's reloads) starts
``npx vite`` in the front-end's root on a free port of 127.0.0.1, waits until it
answers, and hands its URL to the app (`VITE_URL_ENV`), which proxies to it what
nothing else answers. Vite's output is shown line by line with a ``[vite]`` prefix
(minus its own URL banner: the page is opened through nitro's port).

Vite and whatever it starts run in their own process group, and that whole group
is stopped with `nitro dev` (SIGTERM, then SIGKILL after a grace period). Should
`nitro dev` itself be killed outright, Linux's parent-death signal stops the Vite
command too, so no node process is left behind either way.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from ..config.frontend import Frontend, vite_base_args
from ..runtime.workers import end_with_parent

__all__ = ["ViteDevServer", "ViteStartError"]

START_TIMEOUT = 60.0  # seconds: a first start may pre-bundle dependencies
STOP_GRACE = 5.0
# Vite's banner lines that would send the user to Vite's own port.
_HIDDEN = ("Local:", "Network:", "press h + enter", "use --host to expose")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ViteStartError(RuntimeError):
    """Vite's dev server did not start; the message says why."""


class ViteDevServer:
    """One Vite dev server process (group) for a front-end.

    Example::

        vite = ViteDevServer(frontend, port=free_port())
        vite.start()        # returns once it answers
        ...                 # proxy to vite.url
        vite.stop()
    """

    def __init__(
        self,
        frontend: Frontend,
        *,
        port: int,
        base: str = "/",
        output: Callable[[str], None] | None = None,
    ) -> None:
        self.frontend = frontend
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.base = base
        self.output = output or _to_stderr
        self.process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def command(self) -> list[str]:
        args = ["--host", "127.0.0.1", "--port", str(self.port), "--strictPort"]
        args += ["--clearScreen", "false", *vite_base_args(self.base)]
        return self.frontend.command(*args, *self.frontend.dev_args)

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start Vite and wait until it answers HTTP (a `ViteStartError` if it exits
        or stays silent for `timeout` seconds)."""
        self.frontend.check_installed()
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.frontend.root,
            stdin=subprocess.DEVNULL,  # no TTY: Vite binds no keyboard shortcuts
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,  # its own group: stopped as a whole, not by the terminal's ^C
            # Linux: SIGTERMed when `nitro dev` dies, even by SIGKILL: no Vite left behind.
            preexec_fn=end_with_parent,
            env=_color_env(),
        )
        self._reader = threading.Thread(target=self._copy_output, name="vite-output", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._answers():
            code = self.process.poll()
            if code is not None:
                raise ViteStartError(
                    f"[nitro:vite] Vite's dev server exited with code {code} before it "
                    "answered: see its output above"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ViteStartError(
                    f"[nitro:vite] Vite's dev server did not answer on {self.url} within "
                    f"{timeout:.0f}s: see its output above"
                )
            time.sleep(0.05)  # polling the child's port: there is nothing to wait on

    def _answers(self) -> bool:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("GET", self.base + "@vite/client")
            connection.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop Vite's whole process group: SIGTERM, then SIGKILL after a grace period."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            pass
        # Whatever Vite started in its group (a stray worker) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_GRACE)
        if self._reader is not None:
            self._reader.join(STOP_GRACE)

    def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            text = line.decode("utf-8", "replace").rstrip()
            plain = _ANSI.sub("", text)
            if plain.strip() and not any(hidden in plain for hidden in _HIDDEN):
                self.output(text)


def _color_env() -> dict[str, str]:
    """Vite's environment: colours when ours go to a terminal (its own output is a
    pipe, so it would not know), none otherwise."""
    env = dict(os.environ)
    if "NO_COLOR" not in env and "FORCE_COLOR" not in env:
        if sys.stderr.isatty():
            env["FORCE_COLOR"] = "1"
        else:
            env["NO_COLOR"] = "1"
    return env


def _to_stderr(text: str) -> None:
    print(f"[vite] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A port of 127.0.0.1 that is free now (Vite is told it with --strictPort)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
