"""The baseline: a bare ASGI callable doing the same work as the frameworks.

Per request it routes on the path (including the `/users/{id}` param), encodes
the payload with `json.dumps` and sends content-type and content-length, so the
gap to the frameworks is their overhead, not skipped work.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

USERS_PREFIX = "/users/"


def route(method: str, path: str) -> tuple[int, dict[str, str]]:
    """Status and JSON payload for a request."""
    if method not in ("GET", "HEAD"):
        return 405, {"error": "method not allowed"}
    if path == "/":
        return 200, {"hello": "world"}
    if path.startswith(USERS_PREFIX):
        user_id = path[len(USERS_PREFIX) :]
        if user_id and "/" not in user_id:
            return 200, {"id": user_id}
    return 404, {"error": "not found"}


async def lifespan(receive: Receive, send: Send) -> None:
    # Answer the lifespan protocol like the frameworks do, so uvicorn's
    # startup path is the same for every app.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    status, payload = route(scope["method"], scope["path"])
    # Compact separators: the same bytes Starlette, FastAPI and nitro send.
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
