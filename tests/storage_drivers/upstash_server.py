"""A local stand-in for the Upstash Redis REST API, backed by a real Redis.

It speaks what the `upstash` driver uses, as the service does
(https://upstash.com/docs/redis/features/restapi): a JSON command array POSTed
to ``/``, an array of them to ``/pipeline``; ``Authorization: Bearer <token>``
(401 ``{"error": "Unauthorized"}`` otherwise); ``Upstash-Encoding: base64``
encodes every bulk string of a reply but ``OK``; a failed command is
``{"error": "..."}`` (HTTP 400 alone, an item of a 200 in a pipeline). Only the
commands the driver sends are accepted.

    server = UpstashServer(token="t").start()   # http://127.0.0.1:<port>
    ...
    server.stop()
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
import uvicorn
from redis.exceptions import ResponseError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from helpers import free_port

COMMANDS = {"GET", "SET", "EXISTS", "DEL", "SCAN", "STRLEN", "PTTL", "GETRANGE"}


class CommandError(Exception):
    """An `{"error": ...}` reply."""


def _arg(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode()
    raise CommandError("ERR arguments must be strings or integers")


def _encode(value: Any, as_base64: bool) -> Any:
    """A Redis reply as Upstash's JSON shows it."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode() if as_base64 else value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_encode(item, as_base64) for item in value]
    return value  # int, None, "OK"


def create_app(token: str, redis_url: str) -> Starlette:
    state: dict[str, aioredis.Redis] = {}

    def redis() -> aioredis.Redis:
        if "client" not in state:  # on the server's own event loop
            state["client"] = aioredis.Redis.from_url(redis_url, protocol=2)
        return state["client"]

    async def run(command: Any) -> Any:
        if not isinstance(command, list) or not command or not isinstance(command[0], str):
            raise CommandError("ERR failed to parse command")
        name, args = command[0].upper(), [_arg(a) for a in command[1:]]
        if name not in COMMANDS:
            raise CommandError(f"ERR unknown command '{command[0]}'")
        try:
            reply = await redis().execute_command(name, *args)
        except ResponseError as exc:
            raise CommandError(str(exc)) from None
        if name == "SET":
            return "OK" if reply else None
        if name == "SCAN":
            cursor, keys = reply
            return [str(cursor).encode(), list(keys)]
        return reply

    async def one(request: Request) -> JSONResponse:
        return await handle(request, pipeline=False)

    async def pipeline(request: Request) -> JSONResponse:
        return await handle(request, pipeline=True)

    async def handle(request: Request, *, pipeline: bool) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        as_base64 = request.headers.get("upstash-encoding", "").lower() == "base64"
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "ERR failed to parse request body"}, status_code=400)
        if not pipeline:
            try:
                return JSONResponse({"result": _encode(await run(body), as_base64)})
            except CommandError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        if not isinstance(body, list) or not body:
            return JSONResponse({"error": "ERR empty pipeline"}, status_code=400)
        replies: list[dict[str, Any]] = []
        for command in body:
            try:
                replies.append({"result": _encode(await run(command), as_base64)})
            except CommandError as exc:
                replies.append({"error": str(exc)})
        return JSONResponse(replies)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if "client" in state:
            await state.pop("client").aclose()

    return Starlette(
        routes=[Route("/", one, methods=["POST"]), Route("/pipeline", pipeline, methods=["POST"])],
        lifespan=lifespan,
    )


class UpstashServer:
    """The app above on uvicorn, on 127.0.0.1, in a background thread."""

    def __init__(self, token: str, redis_url: str = "redis://127.0.0.1:6379/0") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(token, redis_url),
            host="127.0.0.1",
            port=self.port,
            loop="asyncio",
            ws="none",
            log_level="warning",
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="upstash-server", daemon=True)

    def start(self, timeout: float = 15.0) -> UpstashServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the local Upstash server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
