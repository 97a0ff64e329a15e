"""One Function URL request through an ASGI app, its response streamed as it is sent.

With ``InvokeMode: RESPONSE_STREAM`` a Function URL reads the function's response
as a stream in the HTTP integration format
(``application/vnd.awslambda.http-integration-response``): a JSON prelude with
``statusCode``, ``headers`` and ``cookies``, then 8 NUL bytes, then the body as the
function writes it. The prelude goes out with the first body bytes (or the end), so
a response whose body is one message (every buffered response) is one write.

Formats: https://docs.aws.amazon.com/lambda/latest/dg/config-rs-write-functions.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, Protocol

from starlette.types import ASGIApp, Message

from .aws_lambda_asgi import FAILED, Headers, UnexpectedMessageError
from .aws_lambda_http import HttpApiV2, request_body, scope_for

if TYPE_CHECKING:
    from .aws_lambda import LambdaHandler

__all__ = [
    "CONTENT_TYPE",
    "DELIMITER",
    "StreamSink",
    "is_function_url",
    "prelude",
    "stream_function_url",
    "stream_http",
]

logger = logging.getLogger("nitro")

CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8


class StreamSink(Protocol):
    """Where a streamed response goes (the Runtime API's streaming response)."""

    def write(self, data: bytes, more: bool) -> None:
        """Send `data`; `more` is False for the response's last bytes."""

    def fail(self, error: BaseException) -> None:
        """End the stream with an error (the response was torn mid-way)."""


def is_function_url(event: dict[str, Any]) -> bool:
    """A Function URL's event (the only HTTP event a streamed response can answer:
    API Gateway and ALB invoke the function for one buffered answer)."""
    context = event.get("requestContext")
    return (
        event.get("version") == "2.0"
        and isinstance(context, dict)
        and ".lambda-url." in str(context.get("domainName", ""))
    )


def prelude(event: dict[str, Any], status: int, headers: Headers) -> bytes:
    """The JSON prelude and its delimiter: HTTP API v2's header rules (repeats joined,
    ``set-cookie`` as ``cookies``)."""
    shaped = HttpApiV2.response(event, status, headers, b"")
    meta = {"statusCode": status, "headers": shaped.get("headers") or {}}
    if shaped.get("cookies"):
        meta["cookies"] = shaped["cookies"]
    return json.dumps(meta, separators=(",", ":")).encode() + DELIMITER


async def stream_http(
    app: ASGIApp, event: dict[str, Any], scope: dict[str, Any], body: bytes, sink: StreamSink
) -> None:
    """Run one request through `app`, writing its response to `sink` as it comes.

    Until the first bytes are written an exception, a message out of order or an
    app that returns mid-response gives a plain 500 (as buffered); after that the
    stream ends with an error (`sink.fail`): the client sees a torn response, which
    is what a server does too.
    """
    # the cycle of `aws_lambda_asgi.run_http` (see there why the two are not one)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    status = 0
    headers: Headers = []
    sent_body = False
    started = False
    written = False  # the prelude went out: a failure can no longer be a 500

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        # shielded: the app cancelling this wait (Starlette does when a streamed body
        # fails) must not cancel `done`, which would read as a complete response
        await asyncio.shield(done)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers, started, written
        kind = message["type"]
        if kind == "http.response.start" and not started:
            started = True
            status = message["status"]
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif kind == "http.response.body" and started and not done.done():
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            if not written:
                written = True
                sink.write(prelude(event, status, headers) + chunk, more)
            elif chunk or not more:
                sink.write(chunk, more)
            if not more:
                done.set_result(None)
        else:
            raise UnexpectedMessageError(f"[nitro:aws-lambda] the app sent {kind!r} in this state")

    failure: BaseException | None = None
    try:
        await app(scope, receive, send)
    except Exception as error:
        logger.exception("[nitro:aws-lambda] the app failed")
        failure = error
    finally:
        complete = done.done()
        if not complete:
            done.set_result(None)
    if complete:
        return
    if written:
        sink.fail(failure or RuntimeError("the app returned without completing its response"))
        return
    if failure is None:
        logger.error("[nitro:aws-lambda] the app returned without completing its response")
    failed_status, failed_headers, failed_body = FAILED
    sink.write(prelude(event, failed_status, failed_headers) + failed_body, False)


def stream_function_url(
    handler: LambdaHandler, event: dict[str, Any], context: Any, sink: StreamSink
) -> None:
    """Answer the Function URL `event` through `handler`'s app as a stream into `sink`
    (nitro's runtime loop does this; so does `nitro preview` of a streaming build)."""
    handler.start()
    scope = scope_for(HttpApiV2, event, context)
    handler.run(stream_http(handler.app, event, scope, request_body(event), sink))
