"""Small HTTP servers for driver tests, each in a thread on 127.0.0.1: `serve(handler)`
for a stub endpoint, and `RecordingProxy`, which stands between a driver and its
emulator to record (or change) what goes over the wire.

    with RecordingProxy("http://127.0.0.1:10000/devstoreaccount1") as proxy:
        ...  # point the driver at proxy.url
        listings = [r for r in proxy.requests if r[2].get("comp") == "list"]
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

# (status, body, headers), as the proxy sends it back.
Answer = tuple[int, bytes, dict[str, str]]
HOP_BY_HOP = ("content-length", "transfer-encoding", "connection")


@contextlib.contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` on a free port, in a thread; yields ``http://127.0.0.1:<port>``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class RecordingProxy:
    """Forwards every request to `upstream` as it is and records ``(method, path,
    query)``; a subclass may answer some requests itself (`answer`). `url` is the
    proxy's address with `upstream`'s path (what a driver is given instead)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = f"{parts.scheme}://{parts.netloc}"
        self.url = ""
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._path = parts.path
        self._running = contextlib.ExitStack()

    def answer(self, method: str, path: str, query: dict[str, str]) -> Answer | None:
        """The answer to a request instead of the upstream's (None: forward it)."""
        return None

    def __enter__(self) -> RecordingProxy:
        self.url = self._running.enter_context(serve(self._handler())) + self._path
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._running.close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_any(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                proxy.requests.append((self.command, parts.path, dict(query)))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = proxy.answer(self.command, parts.path, query)
                if answer is None:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    reply = httpx.request(
                        self.command, proxy.upstream + self.path, headers=headers, content=body
                    )
                    answer = (reply.status_code, reply.content, dict(reply.headers))
                status, content, reply_headers = answer
                self.send_response(status)
                for key, value in reply_headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = do_PATCH = do_any

        return Handler
