"""nitro's own Lambda runtime loop: the Runtime API client that can stream.

AWS's Python runtime client (awslambdaric) posts one buffered answer per
invocation: it has no streaming response mode. With ``aws_lambda={"streaming":
True}`` the build keeps the managed Python runtime (its interpreter, boto3) and
swaps only the loop: ``AWS_LAMBDA_EXEC_WRAPPER`` runs the build's ``nitro-runtime``
script, which starts ``bootstrap.py`` (this loop) instead of AWS's. The loop:

1. ``GET /2018-06-01/runtime/invocation/next`` (no timeout: it waits for work);
2. a Function URL event (`aws_lambda_stream.is_function_url`) is answered as a
   stream: ``POST .../invocation/{id}/response`` with
   ``Lambda-Runtime-Function-Response-Mode: streaming``, ``Transfer-Encoding:
   chunked`` and the HTTP integration content type; each write of the app is one
   chunk, sent as it happens; an error after the first bytes ends the stream with
   the trailers ``Lambda-Runtime-Function-Error-Type`` and
   ``Lambda-Runtime-Function-Error-Body`` (base64 JSON);
3. any other event (API Gateway, ALB, WebSocket, tasks, schedules, SQS) goes
   through `LambdaHandler` as under awslambdaric and its JSON answer is posted
   buffered; a failure posts ``.../invocation/{id}/error``;
4. a failed start posts ``/runtime/init/error`` and exits.

One HTTP/1.1 connection to the Runtime API is kept for the container's life (as
awslambdaric keeps its own).

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html,
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html (response streaming),
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-modify.html (wrapper scripts)
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .aws_lambda_stream import CONTENT_TYPE, is_function_url, stream_function_url

if TYPE_CHECKING:
    from .aws_lambda import LambdaHandler

__all__ = ["LambdaContext", "RuntimeClient", "serve"]

logger = logging.getLogger("nitro")

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY = "Lambda-Runtime-Function-Error-Body"


class LambdaContext:
    """The context object a handler gets (what awslambdaric passes):
    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html"""

    def __init__(self, headers: http.client.HTTPMessage) -> None:
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.client_context = None
        self.identity = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class RuntimeClient:
    """The Runtime API at `address` (``host:port``, ``$AWS_LAMBDA_RUNTIME_API``)."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.connection = http.client.HTTPConnection(host, int(port))

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        try:
            self.connection.request(method, PREFIX + path, body=body, headers=headers or {})
            return self.connection.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.connection.close()  # reconnect once: the API may have closed an idle one
            self.connection.request(method, PREFIX + path, body=body, headers=headers or {})
            return self.connection.getresponse()

    def next(self) -> tuple[Any, LambdaContext]:
        response = self._request("GET", "/invocation/next")
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"[nitro:aws-lambda] Runtime API /next answered {response.status}")
        trace = response.headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        return json.loads(body), LambdaContext(response.headers)

    def respond(self, request_id: str, answer: Any) -> None:
        body = json.dumps(answer, separators=(",", ":")).encode()
        self._request("POST", f"/invocation/{request_id}/response", body).read()

    def error(self, request_id: str | None, error: BaseException) -> None:
        payload = _error_payload(error)
        path = f"/invocation/{request_id}/error" if request_id else "/init/error"
        headers = {ERROR_TYPE: payload["errorType"], "Content-Type": "application/json"}
        self._request("POST", path, json.dumps(payload).encode(), headers).read()

    def stream(self, request_id: str) -> StreamingResponse:
        return StreamingResponse(self.connection, request_id)


class StreamingResponse:
    """One streamed ``/response``: chunked writes, then the last chunk (and the error
    trailers when it failed).

    The request's head goes out with the first write, and the last chunk with the
    final one: a response written at once (every buffered body) is one send.
    """

    def __init__(self, connection: http.client.HTTPConnection, request_id: str) -> None:
        self.connection = connection
        connection.putrequest("POST", f"{PREFIX}/invocation/{request_id}/response")
        connection.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("Content-Type", CONTENT_TYPE)
        connection.putheader("Trailer", f"{ERROR_TYPE}, {ERROR_BODY}")
        self.started = False
        self.ended = False
        self.error: BaseException | None = None

    def _send(self, data: bytes) -> None:
        if self.started:
            self.connection.send(data)
        else:
            self.started = True
            self.connection.endheaders(data)

    def write(self, data: bytes, more: bool = True) -> None:
        frame = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
        if not more:
            self.ended = True
            frame += b"0\r\n\r\n"
        if frame:
            self._send(frame)

    def fail(self, error: BaseException) -> None:
        self.error = error

    def finish(self) -> None:
        if self.error is not None:
            payload = _error_payload(self.error)
            encoded = base64.b64encode(json.dumps(payload).encode()).decode()
            self._send(
                f"0\r\n{ERROR_TYPE}: {payload['errorType']}\r\n{ERROR_BODY}: {encoded}\r\n\r\n".encode()
            )
        elif not self.ended:
            self._send(b"0\r\n\r\n")
        self.connection.getresponse().read()


def _error_payload(error: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_exception(error)[-10:],
    }


def serve(make_handler: Callable[[], LambdaHandler], *, address: str | None = None) -> None:
    """Start the handler (``make_handler()``, the build's entry), then answer
    invocations until the container is stopped."""
    client = RuntimeClient(address or os.environ["AWS_LAMBDA_RUNTIME_API"])
    _log_to_stdout()
    try:
        handler = make_handler()
    except Exception as error:
        logger.exception("[nitro:aws-lambda] the function could not start")
        client.error(None, error)
        sys.exit(1)
    while True:
        event, context = client.next()
        request_id = context.aws_request_id
        try:
            if isinstance(event, dict) and is_function_url(event):
                _stream(handler, client, event, context)
            else:
                client.respond(request_id, handler(event, context))
        except Exception as error:
            logger.exception("[nitro:aws-lambda] invocation %s failed", request_id)
            try:
                client.error(request_id, error)
            except Exception:  # a stream cut mid-way: the next request reconnects
                logger.exception("[nitro:aws-lambda] could not report the failure")
                client.connection.close()


def _log_to_stdout() -> None:
    """What awslambdaric does for the function's logs: a handler on the root logger
    writing to stdout (CloudWatch), at ``AWS_LAMBDA_LOG_LEVEL`` when set."""
    root = logging.getLogger()
    if root.handlers:
        return
    output = logging.StreamHandler(sys.stdout)
    output.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(name)s\t%(message)s"))
    root.addHandler(output)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level and level.upper() in logging.getLevelNamesMapping():
        root.setLevel(level.upper())


def _stream(
    handler: LambdaHandler, client: RuntimeClient, event: dict[str, Any], context: LambdaContext
) -> None:
    handler.start()  # a failed start is reported as the invocation's error, not a stream
    response = client.stream(context.aws_request_id)
    try:
        stream_function_url(handler, event, context, response)
    except Exception as error:  # nitro's own failure (the app's are stream_http's)
        logger.exception(
            "[nitro:aws-lambda] streaming invocation %s failed", context.aws_request_id
        )
        response.fail(error)
    response.finish()
