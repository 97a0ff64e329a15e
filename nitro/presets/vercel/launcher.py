"""Running a built Vercel function under Vercel's own launcher, as the platform does.

Vercel starts a Python function by importing its trampoline with
``VERCEL_IPC_PATH`` naming a unix socket it listens on. The launcher
(``vercel_runtime.vc_init``) connects to that socket, starts uvicorn on
127.0.0.1 with an ephemeral port, and announces it with a NUL-terminated JSON
message ``{"type": "server-started", "payload": {"httpPort": N}}``; the platform
then sends HTTP to that port. Afterwards the socket carries ``handler-started``,
``end``, ``metric`` and ``log`` messages (stdout, stderr and logging are
redirected there, base64-encoded), so it must be read continuously.

`VercelFunction` does exactly that, with the function's interpreter isolated
(``-I -S``: no site-packages, no environment paths) and only the function's
directory on the path, so it runs on what the build shipped and nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["LauncherError", "VercelFunction"]


class LauncherError(RuntimeError):
    """The function did not start (the message has its output)."""


class VercelFunction:
    """A `.func` directory served by its vendored `vercel-runtime` in IPC mode."""

    def __init__(
        self,
        function_dir: Path,
        python: str,
        *,
        env: Mapping[str, str] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.dir = function_dir
        self.python = python
        self.env = dict(os.environ if env is None else env)
        self.log = log or (lambda text: print(text, end="", file=sys.stderr, flush=True))
        self.port: int | None = None
        self.messages: list[dict[str, Any]] = []  # every IPC message but logs
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.mkdtemp(prefix="nitro-vercel-")
        self._socket_path = os.path.join(self._tmp, "ipc.sock")
        self._server: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._started = threading.Event()
        self._fatal: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> VercelFunction:
        config = json.loads((self.dir / ".vc-config.json").read_text(encoding="utf-8"))
        module = config["handler"].rsplit(".", 1)[0]
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self._socket_path)
        self._server.listen(1)
        env = {**self.env, **config.get("environment", {}), "VERCEL_IPC_PATH": self._socket_path}
        code = f"import sys; sys.path.insert(0, {str(self.dir)!r}); import {module}"
        self.process = subprocess.Popen(
            [self.python, "-I", "-S", "-c", code], cwd=self.dir, env=env
        )
        self._reader = threading.Thread(target=self._read, name="vercel-ipc", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._started.wait(0.05):
            if self._fatal is not None or self.process.poll() is not None:
                self.stop()
                raise LauncherError(
                    f"the Vercel function exited before serving: {self._fatal or 'see its output above'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise LauncherError(f"the Vercel function did not start within {timeout:.0f}s")
        return self

    def _read(self) -> None:
        assert self._server is not None
        self._server.settimeout(0.2)
        connection: socket.socket | None = None
        while connection is None:
            if self.process is None or self.process.poll() is not None:
                return
            with contextlib.suppress(TimeoutError):
                connection, _ = self._server.accept()
        connection.settimeout(None)
        buffer = b""
        with connection:
            while chunk := connection.recv(65536):
                buffer += chunk
                *complete, buffer = buffer.split(b"\0")
                for raw in complete:
                    if raw.strip():
                        self._handle(json.loads(raw))

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        payload = message.get("payload") or {}
        if kind == "log":
            text = base64.b64decode(payload.get("message", "")).decode("utf-8", "replace")
            if "level" in payload and not text.endswith("\n"):
                text += "\n"  # a logging record, not a raw stream write
            self.log(text)
            return
        self.messages.append(message)
        if kind == "server-started":
            self.port = int(payload["httpPort"])
            self._started.set()
        elif kind == "unrecoverable-error":
            self._fatal = str(payload.get("message", "unrecoverable error"))

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (uvicorn shuts down gracefully, lifespan included), then clean up."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            code = self.process.returncode
        if self._server is not None:
            self._server.close()
        if self._reader is not None:
            self._reader.join(5)
        shutil.rmtree(self._tmp, ignore_errors=True)
        return code

    def __enter__(self) -> VercelFunction:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
