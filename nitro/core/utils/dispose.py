"""`on_dispose`: work to run once a request is over, however it ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..handlers import maybe_await

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["on_dispose"]


def on_dispose(event: Event, fn: Callable[[], Any]) -> None:
    """Run `fn` (sync or async, no arguments) once, when the response has been sent
    or the client went away before that.

    Example::

        @define_handler
        async def handler(event):
            lock = await acquire(event.params["id"])
            on_dispose(event, lock.release)
            return await work()

    It runs after the response (error responses included) on every preset, before
    the invocation ends on serverless ones; an exception in `fn` is logged, never
    sent. It is the event's `on_cleanup` mechanism, guarded to run `fn` only once.
    """
    done = False

    async def dispose() -> None:
        nonlocal done
        if done:
            return
        done = True
        await maybe_await(fn())

    event.on_cleanup(dispose)
