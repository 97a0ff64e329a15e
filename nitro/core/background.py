"""Work handed to `event.wait_until`: after the response on servers, before the
invocation returns on serverless platforms; failures go to the `error` hook."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .event import Event

__all__ = ["Background"]

logger = logging.getLogger("nitro")

Report = Callable[[BaseException, Event], Awaitable[None]]


class Background:
    """The app's unfinished `wait_until` work."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._running: set[asyncio.Future[Any]] = set()

    def __len__(self) -> int:
        return len(self._running)

    async def settle(self, event: Event, *, wait: bool) -> None:
        """Take over `event`'s pending work; with `wait`, finish it first (serverless)."""
        pending = event.pending or []
        if wait:
            for result in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(result, Exception):
                    await self._report(result, event)
            return
        for future in pending:
            self._running.add(future)
            future.add_done_callback(functools.partial(self._done, event=event))

    def _done(self, future: asyncio.Future[Any], event: Event) -> None:
        self._running.discard(future)
        if future.cancelled() or future.exception() is None:
            return
        task = asyncio.ensure_future(self._report(future.exception(), event))  # type: ignore[arg-type]
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self, timeout: float) -> None:
        """Wait for running work (at most `timeout` seconds), then cancel what is left."""
        if not self._running:
            return
        _, pending = await asyncio.wait(set(self._running), timeout=timeout)
        for future in pending:
            future.cancel()
        if pending:
            logger.warning(
                "[nitro] shutdown: cancelled %d background tasks still running", len(pending)
            )
