"""server.py's app: telling ASGI apps from WSGI apps, wrapping WSGI ones (Flask,
Django), and calling it for a request while watching how far its answer got."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Send

from .sync import is_async_callable

if TYPE_CHECKING:
    from .event import Event

__all__ = ["AnsweredError", "Held404", "as_asgi", "call_server_app", "is_asgi_app"]


def is_asgi_app(app: Any) -> bool:
    """True for an ASGI 3 callable: ``async (scope, receive, send)``."""
    return is_async_callable(app)


def as_asgi(app: Any) -> ASGIApp:
    """`app` as an ASGI app: ASGI apps as they are, WSGI apps wrapped (needs `a2wsgi`)."""
    if is_asgi_app(app):
        return app
    if callable(app) and _takes_two_args(app):
        try:
            from a2wsgi import WSGIMiddleware
        except ImportError:
            raise TypeError(
                'a WSGI app needs the wsgi extra: pip install "nitro-py[wsgi]"'
            ) from None
        return WSGIMiddleware(app)  # type: ignore[return-value]  # a2wsgi's stricter ASGI types
    raise TypeError(f"`app` must be an ASGI or WSGI application, got {type(app).__name__}")


def _takes_two_args(app: Any) -> bool:
    # inspect.signature sees through functions, methods and objects with __call__.
    try:
        params = inspect.signature(app).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 2


async def call_server_app(
    app: ASGIApp, event: Event, state: Mapping[str, Any] | None, send: Send
) -> None:
    """Let `app` answer `event` (its lifespan's `state` in the scope). An error before
    it started its answer propagates for nitro to answer; after, it is `AnsweredError`:
    nothing may be sent on top of what went out."""
    scope = event.scope
    if state:
        scope = {**scope, "state": {**scope.get("state", {}), **state}}
    progress = _SendProgress(send)
    try:
        await app(scope, event.receive, progress)
    except Exception as error:
        if not progress.started:
            raise  # nothing was sent: nitro answers with its error response
        raise AnsweredError(error, complete=progress.complete) from error


class _SendProgress:
    """An ASGI `send` that remembers how far the response has got."""

    __slots__ = ("complete", "send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False
        self.complete = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
        elif kind == "http.response.body" and not message.get("more_body", False):
            self.complete = True
        await self.send(message)


class Held404:
    """An ASGI `send` for server.py's app that holds back a 404 answer (so the
    `fallback` may answer instead) and passes any other straight through."""

    __slots__ = ("messages", "send")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        if self.messages or (
            message["type"] == "http.response.start" and message.get("status") == 404
        ):
            self.messages.append(message)
        else:
            await self.send(message)

    async def replay(self) -> None:
        for message in self.messages:
            await self.send(message)


class AnsweredError(Exception):
    """`error` was raised after the response had started (`complete`: and ended)."""

    def __init__(self, error: Exception, *, complete: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.complete = complete
