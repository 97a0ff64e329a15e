"""Serving a `NitroApp` with granian, a Rust HTTP server (``server={"engine": "granian"}``).

granian's own supervisor runs the workers: it binds the port once, starts `workers`
processes (each calls `load` and serves that app, ASGI lifespan included: plugins at
start, `close` hooks at the end), replaces a worker that dies, and on SIGTERM/SIGINT
stops every worker, each finishing its in-flight requests first.

So that an app behaves the same on both engines, the app is wrapped as uvicorn wraps
it: ``X-Forwarded-For``/``X-Forwarded-Proto`` are read only from the peers named in
``FORWARDED_ALLOW_IPS`` (default loopback), and logs go to stderr in uvicorn's format
(JSON with ``NITRO_LOG_FORMAT=json``), granian's own lines included.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp

__all__ = ["EXTRA_HINT", "serve"]

EXTRA_HINT = 'the granian engine needs granian: pip install "nitro-py[granian]"'


def serve(
    load: Callable[[], ASGIApp],
    *,
    workers: int,
    host: str,
    port: int,
    log_config: dict[str, Any],
    log_level: str = "info",
    shutdown_timeout: float = 30.0,
) -> None:
    """Serve the app `load` returns (called in each worker) on granian until a stop.

    `load` must survive pickling (a module-level function, or a `functools.partial`
    of one) for Pythons that start processes with ``spawn``.
    """
    try:
        from granian.constants import Interfaces
        from granian.log import LogLevels
        from granian.server import Server
    except ImportError:
        raise SystemExit(f"[nitro:server] {EXTRA_HINT}") from None

    config = dict(log_config)
    config["loggers"] = {
        **log_config.get("loggers", {}),
        "_granian": {"handlers": ["default"], "level": log_level.upper(), "propagate": False},
        "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    }
    server = Server(
        "nitro",  # granian's name for the target; `load` replaces its import
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        websockets=True,
        log_level=LogLevels(log_level),
        log_dictconfig=config,
        respawn_failed_workers=True,
        # A worker that outlives the graceful window by this much is killed.
        workers_kill_timeout=math.ceil(shutdown_timeout) + 5,
    )
    trusted = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    os.register_at_fork(after_in_child=_default_stop_signals)
    server.serve(target_loader=_Loader(load, trusted), wrap_loader=False)


def _default_stop_signals() -> None:
    """In a freshly forked worker: a stop exits until granian sets the worker's handlers.

    The fork copies the supervisor's handlers, which only flag the supervisor's loop, so
    a SIGTERM reaching a worker that is still loading (a stop right after start-up) was
    swallowed and the worker killed only after `workers_kill_timeout`. Nothing has been
    served yet, so exiting is the right answer; granian replaces these handlers with the
    worker's graceful ones before it serves.
    """
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


class _Loader:
    """Called once in each worker: the app, behind the proxy-headers rule uvicorn applies."""

    def __init__(self, load: Callable[[], ASGIApp], trusted: str) -> None:
        self.load = load
        self.trusted = trusted

    def __call__(self) -> ASGIApp:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app = self.load()
        wrapped: Any = ProxyHeadersMiddleware(app, trusted_hosts=self.trusted)  # type: ignore[arg-type]
        wrapped.app = _RepeatedStops(app, wrapped)
        return wrapped


class _RepeatedStops:
    """Stands before the app until its lifespan starts, and then makes a stop signal
    repeat every `REPEAT_STOP_SECONDS` until the worker exits.

    granian (2.8) can lose the stop that reaches a worker just as it begins serving:
    the worker logs "Started" and serves on, and the supervisor waits for it until its
    kill timeout (the shutdown timeout + 5 s). A repeat reaches the worker once it
    waits for one; a worker already stopping takes it as the same stop. The lifespan
    starts after granian set the worker's handlers (which this chains), before it
    serves; then this steps aside, so requests never pass through it.
    """

    def __init__(self, app: ASGIApp, proxy: Any) -> None:
        self.app = app
        self.proxy = proxy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            _repeat_stop_signals()
            self.proxy.app = self.app
        await self.app(scope, receive, send)


REPEAT_STOP_SECONDS = 1.0


def _repeat_stop_signals() -> None:
    import signal
    import threading

    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if not callable(handler):
            continue

        def repeating(signum: int, frame: Any, handler: Callable[..., Any] = handler) -> None:
            handler(signum, frame)
            again = threading.Timer(REPEAT_STOP_SECONDS, os.kill, (os.getpid(), signum))
            again.daemon = True
            again.start()

        signal.signal(sig, repeating)
