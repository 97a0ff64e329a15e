"""Driving another ASGI app's lifespan (the `app` of `server.py`, e.g. FastAPI).

nitro owns the server's lifespan; a mounted app's startup and shutdown run
inside it, so its `lifespan` context (database pools, clients) works as usual.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Send

__all__ = ["AppLifespan", "serve_lifespan"]

logger = logging.getLogger("nitro")


class Lifecycle(Protocol):
    async def startup(self) -> None: ...
    async def shutdown(self) -> None: ...


async def serve_lifespan(app: Lifecycle, receive: Receive, send: Send) -> None:
    """Answer the ASGI lifespan protocol with `app.startup()` and `app.shutdown()`."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await app.startup()
            except Exception as exc:
                logger.error("%s", exc, exc_info=exc.__cause__ or exc)
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await app.shutdown()
            except Exception as exc:
                logger.exception("[nitro] shutdown failed")
                await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return


class AppLifespan:
    """Start and stop one ASGI app's lifespan; `state` is what its lifespan yielded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())
        await self._inbox.put({"type": "lifespan.startup"})
        message = await self._outbox.get()
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message.get("message") or "startup failed")

    async def stop(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        message = await self._outbox.get()
        await self._task
        if message["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(message.get("message") or "shutdown failed")

    async def _run(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._inbox.get, self._outbox.put)
        except BaseException:
            # An app without lifespan support raises on this scope (ASGI spec): that is fine.
            self.supported = False
        finally:
            # Never leave start()/stop() waiting for an answer that will not come.
            for kind in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
                self._outbox.put_nowait({"type": kind})
