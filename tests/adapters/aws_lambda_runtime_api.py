"""A small Lambda Runtime API (the part a runtime client uses) for awslambdaric.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html: the runtime asks
``GET /2018-06-01/runtime/invocation/next`` for work (this answers when an event
is queued, with the request-id, deadline, function-ARN and trace headers), then
posts the answer to ``.../invocation/{id}/response`` or ``.../{id}/error``; a
failed start posts ``/runtime/init/error``. `invoke(event)` queues one event and
waits for its answer. Listens on 127.0.0.1 at a free port.

A streamed answer (``Lambda-Runtime-Function-Response-Mode: streaming``, chunked:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html) is read chunk by
chunk as it arrives and answered as a `Streamed`: the request's headers, each chunk
with the time it arrived, and the trailers.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fixture-prod"


class InvocationError(Exception):
    """The function reported an error (``/error``) for an invocation."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


@dataclass
class Streamed:
    headers: dict[str, str]
    chunks: list[tuple[float, bytes]] = field(default_factory=list)  # (monotonic time, bytes)
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)


class RuntimeAPI:
    def __init__(self) -> None:
        self._events: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._answers: dict[str, tuple[str, Any]] = {}
        self._answered = threading.Condition()
        self.init_errors: list[Any] = []
        self.next_calls = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as written

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._reply(404, b'{"errorMessage":"not found"}')
                    return
                api.next_calls += 1
                item = api._events.get()
                if item is None:  # stopping: leave the runtime waiting
                    self._reply(503, b'{"errorMessage":"stopping"}')
                    return
                request_id, body = item
                self._reply(
                    200,
                    body,
                    {
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(int((time.time() + 60) * 1000)),
                        "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                        "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
                    },
                )

            def do_POST(self) -> None:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    self._streamed()
                    return
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = self.path.removeprefix(PREFIX).strip("/").split("/")
                if parts == ["init", "error"]:
                    api.init_errors.append(_json(body))
                elif (
                    len(parts) == 3
                    and parts[0] == "invocation"
                    and parts[2] in ("response", "error")
                ):
                    with api._answered:
                        api._answers[parts[1]] = (parts[2], _json(body))
                        api._answered.notify_all()
                else:
                    self._reply(404, b'{"errorMessage":"not found"}')
                    return
                self._reply(202, b'{"status":"OK"}')

            def _streamed(self) -> None:
                streamed = Streamed({k.lower(): v for k, v in self.headers.items()})
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        break
                    chunk = self.rfile.read(size)
                    streamed.chunks.append((time.monotonic(), chunk))
                    self.rfile.readline()  # the chunk's CRLF
                while (line := self.rfile.readline().strip()) != b"":
                    name, _, value = line.decode().partition(":")
                    streamed.trailers[name.strip()] = value.strip()
                parts = self.path.removeprefix(PREFIX).strip("/").split("/")
                with api._answered:
                    api._answers[parts[1]] = ("response", streamed)
                    api._answered.notify_all()
                self._reply(202, b'{"status":"OK"}')

            def _reply(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                try:
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the runtime was stopped while it waited for work

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.address = f"127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def invoke(self, event: Any, timeout: float = 60.0, request_id: str | None = None) -> Any:
        """Queue `event` (as invocation `request_id`, default a new one), wait for the
        function's answer; raise `InvocationError` on /error."""
        request_id = request_id or str(uuid.uuid4())
        self._events.put((request_id, json.dumps(event).encode()))
        deadline = time.monotonic() + timeout
        with self._answered:
            while request_id not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to invocation {request_id} after {timeout}s")
                self._answered.wait(left)
            kind, payload = self._answers.pop(request_id)
        if kind == "error":
            raise InvocationError(payload)
        return payload

    def stop(self) -> None:
        self._events.put(None)
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A runtime stopped while it waited for work resets its connection: expected.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode("utf-8", "replace")
