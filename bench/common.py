"""Shared pieces: CPU pinning, ports, the uvicorn command, starting and stopping servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
APPS_DIR = BENCH_DIR / "apps"
HOST = "127.0.0.1"

# One set of settings for every app served by plain uvicorn (one worker is the default).
UVICORN_FLAGS = [
    "--loop", "uvloop",
    "--http", "httptools",
    "--no-access-log",
    "--log-level", "warning",
]  # fmt: skip


class BenchError(RuntimeError):
    """A server did not start or answered wrongly: the numbers would be meaningless."""


def pick_cpus() -> tuple[int | None, int | None]:
    """(server CPU, client CPU): the first two CPUs this process may use.

    On a machine with one usable CPU, or without `taskset`, nothing is pinned.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return None, None
    return cpus[0], cpus[1]


def taskset(cpu: int | None, cmd: list[str]) -> list[str]:
    """`cmd` pinned to `cpu` with taskset (unchanged when `cpu` is None)."""
    return cmd if cpu is None else ["taskset", "-c", str(cpu), *cmd]


def pin_in_child(cpu: int | None) -> Callable[[], None] | None:
    """A `preexec_fn` that pins the child, without the extra exec of taskset."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def free_port() -> int:
    """A TCP port on HOST that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def uvicorn_cmd(target: str, app_dir: Path, port: int) -> list[str]:
    """The one uvicorn command line used for every framework."""
    return [
        sys.executable, "-m", "uvicorn", target,
        "--app-dir", str(app_dir),
        *UVICORN_FLAGS,
        "--host", HOST, "--port", str(port),
    ]  # fmt: skip


def http_status(port: int, path: str = "/", timeout: float = 5.0) -> int | None:
    """The status of a GET on HOST:port, or None while nothing accepts connections.

    A raw socket keeps each probe cheap, which matters when polling every 2 ms.
    """
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = sock.recv(256)
                if not chunk:
                    return None
                head += chunk
    except (ConnectionRefusedError, ConnectionResetError):
        return None
    return int(head.split(b" ", 2)[1])


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM and wait, as a process manager would; SIGKILL only if it hangs."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def log_tail(log: IO[bytes], limit: int = 2000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:]


def spawn(
    cmd: list[str],
    log: IO[bytes],
    cwd: Path,
    env: dict[str, str] | None = None,
    cpu: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server; its output goes to `log` (a file, so it can never block on a full pipe)."""
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=pin_in_child(cpu),
    )


def wait_until_ready(
    proc: subprocess.Popen[bytes], port: int, log: IO[bytes], timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}:\n{log_tail(log)}")
        if http_status(port) is not None:
            return
        time.sleep(0.02)
    raise BenchError(f"server not answering on port {port} after {timeout}s:\n{log_tail(log)}")


@contextmanager
def running_server(
    cmd: list[str], port: int, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A server (its process) that answers HTTP for the duration of the block, then is
    stopped."""
    with tempfile.TemporaryFile() as log:
        proc = spawn(cmd, log, cwd, env)
        try:
            wait_until_ready(proc, port, log)
            yield proc
        finally:
            stop(proc)


def asgi_requester(
    app: Any,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    scheme: str = "http",
    server: tuple[str, int] = ("127.0.0.1", 3000),
) -> tuple[Callable[[], Awaitable[None]], dict[str, Any]]:
    """A zero-argument coroutine sending one GET to `app` through the ASGI interface
    (no server, no sockets: what is timed is the app), and the dict its answer's
    status, headers and body land in."""
    answer: dict[str, Any] = {}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", server[0].encode()), (b"accept", b"*/*"), *(headers or [])],
        "client": ("127.0.0.1", 40000),
        "server": server,
    }
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = message["headers"]
        elif message["type"] == "http.response.body":
            answer["body"] = message.get("body", b"")

    async def call() -> None:
        await app(dict(scope), receive, send)

    return call, answer
