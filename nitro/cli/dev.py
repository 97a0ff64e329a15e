"""`nitro dev [DIR]`: uvicorn with reload, `.env` loaded, one log line per request.

Any change to a `.py` file in the project (routes, middleware, plugins, tasks,
`nitro.config.py`, `server.py`, helpers) or to `.env` restarts the app. If the
project cannot start (a broken config, a failing plugin), the server keeps
running and answers every request with the error page until the file is fixed.

A project with a Vite front-end (`vite` option, or a vite.config.* at its root) also
gets Vite's dev server, started here and kept across app reloads (`vite_dev.py`);
the app proxies to it what nothing else answers, its hot-reload socket included.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from .vite_dev import ViteDevServer

ROOT_ENV = "NITRO_DEV_ROOT"
WATCH_INCLUDES = ["*.py", ".env", ".env.local"]
WATCH_EXCLUDES = [
    ".output/*",
    ".venv/*",
    "venv/*",
    ".data/*",
    "node_modules/*",
    ".git/*",
    "public/*",
]

logger = logging.getLogger("nitro")


class DevApp:
    """The dev server's ASGI app: the project's app, or an error page while it cannot start."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.app: Any = None
        self.error: BaseException | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            from ..core.lifespan import serve_lifespan

            await serve_lifespan(self, receive, send)
        elif self.error is not None:
            await self._error_page(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def startup(self) -> None:
        """Load and start the project's app; a failure is kept and shown, not raised."""
        from ..runtime.app import load_app
        from ..runtime.frontend import VITE_URL_ENV, mount_vite_dev_server

        try:
            self.app = load_app(self.root, dev=True, scheduler=True)
            vite_url = os.environ.get(VITE_URL_ENV)
            if vite_url:
                mount_vite_dev_server(self.app, vite_url)
            await self.app.startup()
        except Exception as exc:
            self.error = exc
            logger.error(
                "%s\n[nitro] fix the file and save: the server reloads",
                exc,
                exc_info=exc.__cause__,
            )

    async def shutdown(self) -> None:
        if self.app is not None and self.error is None:
            await self.app.shutdown()

    async def _error_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1011})
            return
        from ..core.error_response import render_error
        from ..core.response import send_response

        assert self.error is not None
        await send_response(render_error(self.error, scope, dev=True), scope, receive, send)


def create_dev_app() -> DevApp:
    """uvicorn's factory for the reloaded worker process."""
    return DevApp(os.environ[ROOT_ENV])


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import uvicorn

    from ..adapters.uvicorn import log_config, resolve_bind
    from ..config import load_dotenv
    from ._project import log, project_root

    root = project_root(args.dir)
    loaded = load_dotenv(root)
    if loaded:
        log(f"loaded .env: {', '.join(loaded)}")
    os.environ[ROOT_ENV] = str(root)
    host, port = resolve_bind(args.host or os.environ.get("NITRO_HOST") or "127.0.0.1", args.port)
    # Vite runs beside the app, in this supervising process: an app reload (a .py
    # change) keeps it, and its own hot reload, running.
    vite = start_vite(root)
    log(f"dev server for {root.name} on http://{host}:{port}")
    log("API docs at /_docs, the OpenAPI document at /_openapi.json (under base_url, if set)")
    try:
        uvicorn.run(
            "nitro.cli.dev:create_dev_app",
            factory=True,
            host=host,
            port=port,
            reload=True,
            reload_dirs=[str(root)],
            reload_includes=WATCH_INCLUDES,
            reload_excludes=WATCH_EXCLUDES,
            lifespan="on",
            access_log=False,
            log_config=log_config("info"),
            server_header=False,
        )
    finally:
        if vite is not None:
            vite.stop()
    return 0


def start_vite(root: Path) -> ViteDevServer | None:
    """Start the project's Vite dev server, if it has a front-end, and tell the app
    where it is (`VITE_URL_ENV`)."""
    from ..config import ConfigError, NitroConfig, load_config
    from ..config.frontend import find_frontend
    from ..runtime.frontend import VITE_URL_ENV
    from ._errors import ProjectError
    from ._project import log
    from .vite_dev import ViteDevServer, ViteStartError, free_port

    try:
        config = load_config(root)
    except ConfigError:
        config = NitroConfig()  # the app shows the error; a vite.config.* still counts
    frontend = find_frontend(root, config)
    if frontend is None:
        os.environ.pop(VITE_URL_ENV, None)
        return None
    vite = ViteDevServer(frontend, port=free_port(), base=config.base_url)
    log(f"starting Vite in {frontend.shown_from(root)}: {' '.join(vite.command())}")
    started = time.perf_counter()
    try:
        vite.start()
    except ViteStartError as exc:
        raise ProjectError(str(exc)) from None  # one line on stderr, exit 1
    log(f"Vite is ready ({time.perf_counter() - started:.1f}s); nitro proxies to it")
    os.environ[VITE_URL_ENV] = vite.url
    return vite
