"""The current app and request: `use_nitro_app()`, `use_event()` and a request's scope.

A request's scope is the same for HTTP and WebSocket: its event is the current one
(`use_event()`) from start to end, and when it ends its cleanup callbacks run and its
`wait_until` work is handed to the app (finished first on serverless platforms).

Outside a request, the current app is the one whose start-up, scheduler or platform
handler the code runs in (a context variable those set), else the app this process
started most recently and has not shut down; never an app merely constructed (for a
build's checks, say) or already stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import NitroApp
    from .event import Event

__all__ = ["RequestScope", "as_current", "finish_request", "use_event", "use_nitro_app"]

logger = logging.getLogger("nitro")

current_event: ContextVar[Event] = ContextVar("nitro.event")
current_app: ContextVar[NitroApp] = ContextVar("nitro.app")
_started: list[NitroApp] = []  # apps started and not yet shut down, oldest first


def use_event() -> Event:
    """The event of the request being handled, from anywhere in that request.

    Example::

        from nitro import use_event

        def current_user_agent() -> str | None:
            return use_event().headers.get("user-agent")

    Raises `RuntimeError` outside a request.
    """
    try:
        return current_event.get()
    except LookupError:
        raise RuntimeError(
            "[nitro] use_event() was called outside a request; pass the event explicitly"
        ) from None


def use_nitro_app() -> NitroApp:
    """The running `NitroApp`: the request's, else the one whose start-up, scheduler or
    platform handler this code runs in, else the one this process started last (and
    has not shut down).

    Example (a helper module used by routes and tasks)::

        from nitro import use_nitro_app

        def mailer():
            return use_nitro_app().state["mailer"]
    """
    try:
        return current_event.get().app
    except LookupError:
        pass
    try:
        return current_app.get()
    except LookupError:
        pass
    if _started:
        return _started[-1]
    raise RuntimeError(
        "[nitro] no nitro app is running in this process: use_nitro_app() works inside a "
        "request, task or plugin, or once an app has started"
    )


def app_started(app: NitroApp) -> None:
    if app not in _started:
        _started.append(app)


def app_stopped(app: NitroApp) -> None:
    if app in _started:
        _started.remove(app)


async def finish_request(event: Event) -> None:
    """The end of a request's scope: run its cleanups, then hand its `wait_until` work to
    the app (finished before returning on serverless platforms)."""
    app = event.app
    if event._cleanups is not None:
        for callback in event._cleanups:
            try:
                await app.run_user_code(callback)
            except Exception:
                logger.exception("[nitro] request cleanup failed")
    if event.pending is not None:
        await app.background.settle(event, wait=app.serverless)


@contextmanager
def as_current(event: Event) -> Iterator[Event]:
    """`event` is the current one inside the block (an event derived from the request's
    own, whose scope ends with the request's)."""
    token = current_event.set(event)
    try:
        yield event
    finally:
        current_event.reset(token)


class RequestScope:
    """One request's scope as an async context manager: its event is current inside,
    and `finish_request` runs on the way out. (The HTTP hot path in `NitroApp.handle`
    does the same inline.)

    Example::

        async with RequestScope(event):
            response = await app.dispatch(event)
    """

    __slots__ = ("event", "token")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.token: Token[Event] | None = None

    async def __aenter__(self) -> Event:
        self.token = current_event.set(self.event)
        return self.event

    async def __aexit__(self, *exc_info: object) -> None:
        if self.token is not None:
            current_event.reset(self.token)
            self.token = None
        event = self.event
        if event._cleanups is not None or event.pending is not None:
            await finish_request(event)
