"""Server-sent events (h3's `createEventStream`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import StreamingResponse

from ..response import encode_json

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["EventStream", "create_event_stream"]

_CLOSE = object()


class EventStream:
    """A stream of server-sent events; return it from the handler.

    `push` waits while the client is slow to read (at most `buffer` messages are
    queued), so a fast producer cannot exhaust memory. Once the client goes away,
    `push` does nothing and `closed` is True.
    """

    def __init__(self, event: Event, *, buffer: int = 64) -> None:
        self.event = event
        self.closed = False
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=buffer)
        self._on_closed: list[Callable[[], Any]] = []

    async def push(self, message: str | dict[str, Any] | list[str]) -> None:
        """Send one event: a string (its `data`) or a dict with `data`, `event`, `id`, `retry`."""
        if self.closed:
            return
        await self._queue.put(_format(message))

    async def push_comment(self, comment: str) -> None:
        """Send an SSE comment line (clients ignore it; handy as a keep-alive)."""
        if not self.closed:
            await self._queue.put("".join(f": {line}\n" for line in comment.split("\n")) + "\n")

    async def close(self) -> None:
        """End the stream once queued events are sent."""
        if not self.closed:
            self.closed = True
            await self._queue.put(_CLOSE)

    def on_closed(self, callback: Callable[[], Any]) -> None:
        """Call `callback` (sync or async) when the stream ends for any reason."""
        self._on_closed.append(callback)

    async def _messages(self) -> AsyncIterator[bytes]:
        try:
            while True:
                item = await self._queue.get()
                if item is _CLOSE:
                    return
                yield item.encode()
        finally:
            self.closed = True
            while not self._queue.empty():  # unblock a producer waiting in push()
                self._queue.get_nowait()
            for callback in self._on_closed:
                await self.event.app.run_user_code(callback)

    def __nitro_response__(self) -> StreamingResponse:
        response = StreamingResponse(self._messages(), media_type="text/event-stream")
        response.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
        ]
        return response


def create_event_stream(event: Event, *, buffer: int = 64) -> EventStream:
    """Start a server-sent events stream for this request; the handler returns it.

    Example::

        @define_handler
        async def handler(event):
            stream = create_event_stream(event)

            async def tick():
                for i in range(3):
                    await stream.push({"event": "tick", "data": {"n": i}})
                await stream.close()

            event.wait_until(tick())
            return stream
    """
    return EventStream(event, buffer=buffer)


def _format(message: str | dict[str, Any] | list[str]) -> str:
    if isinstance(message, list):
        return "".join(_format(m) for m in message)
    if not isinstance(message, dict):
        message = {"data": message}
    lines: list[str] = []
    for field in ("id", "event", "retry"):
        if message.get(field) is not None:
            value = str(message[field]).replace("\n", " ").replace("\r", " ")
            lines.append(f"{field}: {value}\n")
    data = message.get("data", "")
    if not isinstance(data, str):
        data = encode_json(data).decode()
    for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines.append(f"data: {line}\n")
    return "".join(lines) + "\n"
