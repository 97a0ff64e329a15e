"""`nitro dev [DIR]`: uvicorn with reload, `.env` loaded, one log line per request.

Any change to a `.py` file in the project (routes, middleware, plugins, tasks,
`nitro.config.py`, `server.py`, helpers) or to `.env` restarts the app. If the
project cannot start (a broken config, a failing plugin), the server keeps
running and answers every request with the error page until the file is fixed.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from starlette.types import Receive, Scope, Send

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

        try:
            self.app = load_app(self.root, dev=True, scheduler=True)
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
    log(f"dev server for {root.name} on http://{host}:{port}")
    log("API docs at /_docs, the OpenAPI document at /_openapi.json (under base_url, if set)")
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
    return 0
