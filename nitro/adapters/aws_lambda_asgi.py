"""One HTTP request through an ASGI app, answered as a whole.

Lambda's Python runtime returns one answer per invocation (it cannot stream), so
the response is buffered; `run_http` also guards the answer: a response is the
app's only once complete.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message

__all__ = ["FAILED", "Headers", "UnexpectedMessageError", "run_http"]

logger = logging.getLogger("nitro")

Headers = list[tuple[bytes, bytes]]


class UnexpectedMessageError(RuntimeError):
    """The app sent an ASGI message out of order (a body before its start, a second start,
    anything after the end)."""


# The answer while nothing of the app's response has reached the client.
FAILED: tuple[int, Headers, bytes] = (
    500,
    [(b"content-type", b"text/plain; charset=utf-8")],
    b"Internal Server Error",
)


async def run_http(app: ASGIApp, scope: dict[str, Any], body: bytes) -> tuple[int, Headers, bytes]:
    """Run one request through `app` and return its buffered response.

    The response is the app's once it is complete: an exception raised after that
    (Starlette re-raises after its error handler answered) is logged and the answer
    stands. Until then nothing has reached the client, so an exception, a message out
    of order or an app that returns mid-response gives a plain 500 instead of a torn
    or doubled answer.
    """
    # `aws_lambda_stream.stream_http` runs the same cycle with a sink in place of
    # `chunks`. Kept apart: one cycle taking the body through a callback and its state
    # in one object cost about 0.5 us more per request (the cycle alone: 2.2 -> 2.7 us;
    # a warm invocation is ~18.5 us, so ~3%; busy 2-core machine) on Lambda's hot path,
    # and what a failure gives differs once bytes are out (a buffer still becomes a 500).
    loop = asyncio.get_running_loop()
    done = loop.create_future()  # set when the response is complete
    status = 0
    headers: Headers = []
    chunks: list[bytes] = []
    sent_body = False
    started = False

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        # the client "disconnects" once the response is complete; shielded: the app
        # cancelling this wait (Starlette does when a streamed body fails) must not
        # cancel `done`, which would pass a torn response off as complete
        await asyncio.shield(done)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers, started
        kind = message["type"]
        if kind == "http.response.start" and not started:
            started = True
            status = message["status"]
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif kind == "http.response.body" and started and not done.done():
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set_result(None)
        else:
            where = "after the response ended" if done.done() else "in this state"
            raise UnexpectedMessageError(
                f"[nitro:aws-lambda] the app sent {kind!r} {where}"
                if kind != "http.response.body" or started
                else f"[nitro:aws-lambda] the app sent {kind!r} before 'http.response.start'"
            )

    try:
        await app(scope, receive, send)
    except Exception:
        if not done.done():
            logger.exception("[nitro:aws-lambda] the app failed")
            return FAILED
        logger.exception("[nitro:aws-lambda] the app failed after its response was complete")
    finally:
        complete = done.done()
        if not complete:
            done.set_result(None)  # release a receive() still waiting for the end
    if not complete:
        logger.error("[nitro:aws-lambda] the app returned without completing its response")
        return FAILED
    return status, headers, b"".join(chunks)
