"""Serving a `NitroApp` with uvicorn (dev, preview, the server and docker presets):
in this process (`serve`), or in several worker processes on one port (`serve_workers`).

Port and host come from `NITRO_PORT`/`NITRO_HOST`, then `PORT`/`HOST`. On SIGTERM or
SIGINT uvicorn stops accepting, lets in-flight requests finish (up to
`shutdown_timeout` seconds: the server entry passes the app's, which `load_app` read
from `NITRO_SHUTDOWN_TIMEOUT`, default 30), then nitro runs its `close` hooks.
"""

from __future__ import annotations

import copy
import math
import os
import signal
import threading
from typing import Any

from starlette.types import ASGIApp

__all__ = ["log_config", "resolve_bind", "serve", "serve_workers"]


def resolve_bind(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Host and port from the arguments, else the environment, else 0.0.0.0:3000."""
    env = os.environ
    host = host or env.get("NITRO_HOST") or env.get("HOST") or "0.0.0.0"
    raw_port = port or env.get("NITRO_PORT") or env.get("PORT") or 3000
    try:
        return host, int(raw_port)
    except ValueError:
        raise SystemExit(f"[nitro] invalid port {raw_port!r} (NITRO_PORT / PORT)") from None


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging config plus the `nitro` logger, all to stderr; every line
    JSON with ``NITRO_LOG_FORMAT=json`` (uvicorn's own too: one format per stream)."""
    from uvicorn.config import LOGGING_CONFIG

    from ..core.observe import json_logs_wanted

    config = copy.deepcopy(LOGGING_CONFIG)
    if json_logs_wanted(os.environ):
        json_lines = {"()": "nitro.core.observe.logs.JsonFormatter"}
        config["formatters"] = {name: dict(json_lines) for name in config["formatters"]}
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["nitro"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def serve(
    app: ASGIApp,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "info",
    shutdown_timeout: float = 30.0,
) -> None:
    """Run `app` on uvicorn until SIGTERM/SIGINT (uvloop and httptools when installed);
    a stop waits up to `shutdown_timeout` seconds for in-flight requests."""
    import uvicorn

    bind_host, bind_port = resolve_bind(host, port)
    if threading.current_thread() is threading.main_thread():
        # After a graceful shutdown uvicorn re-raises the signal it caught, through
        # the handlers it found at start. Those are no-ops here, so a stop asked
        # for by SIGTERM/SIGINT ends with exit code 0, as process managers expect.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
    uvicorn.run(app, host=bind_host, port=bind_port, **_options(log_level, shutdown_timeout))


def serve_workers(
    factory: str,
    *,
    workers: int,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "info",
    shutdown_timeout: float = 30.0,
) -> None:
    """Run `workers` uvicorn processes on one socket until SIGTERM/SIGINT.

    This process binds the socket and supervises (uvicorn's `Multiprocess`): each
    worker is a fresh interpreter (multiprocessing's ``spawn``) that imports
    `factory` (``"module:function"``) and serves the app it returns, lifespan
    included; a worker that dies or stops answering the supervisor's health check is
    replaced (logged as ``Child process [pid] died``). A stop signals every worker,
    which finishes its in-flight requests (up to `shutdown_timeout`), and this
    process then exits 0.
    """
    import uvicorn

    bind_host, bind_port = resolve_bind(host, port)
    uvicorn.run(
        factory,
        factory=True,
        workers=workers,
        host=bind_host,
        port=bind_port,
        **_options(log_level, shutdown_timeout),
    )


def _options(log_level: str, shutdown_timeout: float) -> dict[str, Any]:
    """uvicorn's settings for nitro's server, one worker or many."""
    return {
        "lifespan": "on",
        "access_log": False,  # nitro writes its own access line when asked
        "log_config": log_config(log_level),
        "log_level": log_level,
        "timeout_graceful_shutdown": math.ceil(shutdown_timeout),
        "server_header": False,
    }
