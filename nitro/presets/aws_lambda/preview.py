"""`nitro preview` for an `aws-lambda` build: local HTTP through the built handler.

Each request becomes an HTTP API v2 event (the shape Function URLs send:
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html) given to
``index.handler`` of ``.output/server``, which runs with its vendored
dependencies under the target Python when this machine has it, and with what
Lambda's runtime provides (boto3 and its companions, which the build does not
ship), linked from the environment that runs nitro into
``.output/.preview/provided`` (see `nitro.bundle.provided`). One request at a
time, as one Lambda container serves them. Only the standard library is used here
(and the build's own nitro): the target interpreter has nothing else installed.

A build with ``aws_lambda={"streaming": True}`` is previewed as its streaming
Function URL: the answer goes through the same streamed path as under nitro's
runtime loop and reaches the client chunk by chunk (``Transfer-Encoding: chunked``).
"""

from __future__ import annotations

import base64
import datetime
import importlib
import json
import os
import signal
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LocalContext", "http_v2_event", "main", "preview_command"]

# This file is run by path: a build ships no deploy code, only the nitro it runs on.
# argv: the code root, this file, then the directories of what Lambda provides.
BOOTSTRAP = (
    "import runpy, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/_vendor', *sys.argv[3:]]; "
    "runpy.run_path(sys.argv[2], run_name='nitro_preview')['main'](sys.argv[1])"
)
TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded")


def preview_command(root: Path) -> list[str]:
    """The command `nitro preview` runs: this module's `main` (stdlib only) serving
    the build's handler, with its vendored nitro and what Lambda provides, under the
    build's Python (else this one)."""
    from ...bundle.vendor import find_python
    from .package import runtime_packages

    server = root / ".output" / "server"
    python = sys.executable
    info_path = root / ".output" / "nitro.json"
    if info_path.is_file():
        runtime = json.loads(info_path.read_text(encoding="utf-8")).get("aws_lambda", {})
        version = str(runtime.get("runtime", "")).removeprefix("python")
        python = (find_python(version) if version else None) or sys.executable
    provided = runtime_packages(root / ".output" / ".preview", _log)
    return [python, "-c", BOOTSTRAP, str(server), str(Path(__file__).resolve()), str(provided)]


def _log(message: str) -> None:
    print(f"[nitro] {message}", file=sys.stderr, flush=True)


class LocalContext:
    """The attributes of Lambda's context object
    (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html)."""

    def __init__(self, name: str, memory: int, timeout: float) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        self.memory_limit_in_mb = str(memory)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def http_v2_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, client: str
) -> dict[str, Any]:
    """An HTTP API v2 / Function URL event for one request."""
    parts = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":  # v2 moves cookies to their own list
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            merged[key] = f"{merged[key]},{value}" if key in merged else value
    content_type = merged.get("content-type", "")
    text = any(t in content_type for t in TEXT_TYPES)
    if text:
        try:
            body_text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text = False
    if not text:
        body_text, encoded = base64.b64encode(body).decode("ascii"), True
    now = datetime.datetime.now(datetime.UTC)
    host = merged.get("host", "localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": client,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if body:
        event["body"] = body_text
    return event


def _send_head(
    client: BaseHTTPRequestHandler, answer: dict[str, Any], framing: str, value: str
) -> None:
    """The status line and headers of `answer` (a buffered answer or a stream's prelude:
    ``statusCode``, ``headers``, ``cookies``), framed by this server's own `framing`
    header (the app's framing headers are dropped: the preview decides them)."""
    client.send_response(int(answer.get("statusCode", 200)))
    for key, header in (answer.get("headers") or {}).items():
        if key.lower() not in ("content-length", "connection", "transfer-encoding"):
            client.send_header(key, header)
    for cookie in answer.get("cookies") or []:
        client.send_header("set-cookie", cookie)
    client.send_header(framing, value)
    client.end_headers()


class _ClientStream:
    """A streamed answer (prelude, 8 NULs, body: `aws_lambda_stream`) relayed to the
    preview's client as a chunked HTTP response, each write as it comes."""

    def __init__(self, client: BaseHTTPRequestHandler) -> None:
        self.client = client
        self.started = False
        self.ended = False

    def write(self, data: bytes, more: bool = True) -> None:
        client = self.client
        if not self.started:
            self.started = True
            prelude, _, data = data.partition(b"\0" * 8)
            _send_head(client, json.loads(prelude), "transfer-encoding", "chunked")
        if client.command == "HEAD":
            self.ended = not more
            return
        frame = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
        if not more:
            self.ended = True
            frame += b"0\r\n\r\n"
        if frame:
            client.wfile.write(frame)
            client.wfile.flush()

    def fail(self, error: BaseException) -> None:
        print(f"[nitro] the response failed mid-stream: {error!r}", file=sys.stderr)


def main(server_dir: str) -> None:
    server = Path(server_dir).resolve()
    manifest = json.loads((server / "manifest.json").read_text(encoding="utf-8"))
    options = (manifest.get("preset") or {}).get("options", {})  # the PresetRecord
    name = os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "nitro-preview")
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(options.get("memory", 1024)))
    os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    os.environ.setdefault("LAMBDA_TASK_ROOT", str(server))
    sys.path.insert(0, str(server))
    handler = importlib.import_module("index").handler
    memory, timeout = int(options.get("memory", 1024)), float(options.get("timeout", 30))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __getattr__(self, attribute: str) -> Any:
            if attribute.startswith("do_"):  # every method goes to the function
                return self.serve
            raise AttributeError(attribute)

        def serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            event = http_v2_event(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
            if streaming:
                self.stream(event)
                return
            try:
                answer = handler(event, LocalContext(name, memory, timeout))
            except Exception as error:  # Lambda answers a failed invocation with 502
                print(f"[nitro] invocation failed: {error!r}", file=sys.stderr)
                answer = {"statusCode": 502, "body": '{"message":"Internal Server Error"}'}
            self.reply(answer)

        def stream(self, event: dict[str, Any]) -> None:
            from nitro.presets.aws_lambda.entry import stream_function_url

            sink = _ClientStream(self)
            try:
                stream_function_url(handler, event, LocalContext(name, memory, timeout), sink)
            except Exception as error:
                print(f"[nitro] invocation failed: {error!r}", file=sys.stderr)
                sink.fail(error)
            if not sink.started:
                self.reply({"statusCode": 502, "body": '{"message":"Internal Server Error"}'})
            elif not sink.ended:
                self.close_connection = True  # torn, as a client of the Function URL sees it

        def reply(self, answer: dict[str, Any]) -> None:
            raw = answer.get("body") or ""
            payload = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
            _send_head(self, answer, "content-length", str(len(payload)))
            if self.command != "HEAD":
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            print(f"[nitro] {self.address_string()} {format % args}", file=sys.stderr)

    streaming = bool(options.get("streaming"))
    env = os.environ
    host = env.get("NITRO_HOST") or env.get("HOST") or "127.0.0.1"
    port = int(env.get("NITRO_PORT") or env.get("PORT") or 3000)
    httpd = HTTPServer((host, port), Handler)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(
        f"[nitro] aws-lambda preview on http://{host}:{httpd.server_port} "
        f"(each request runs index.handler with an HTTP API v2 event; Python {sys.version.split()[0]})",
        file=sys.stderr,
        flush=True,
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
