"""A double of API Gateway's WebSocket management API, on 127.0.0.1 at a free port.

moto 5.2 has ``apigatewaymanagementapi`` but cannot serve these tests: it appends
every post to one byte string per connection (message boundaries are lost, and it
has no call that reads them back) and it never answers 410, since any connection id
is a connected one. This double keeps each post as a message, answers
``410 GoneException`` for connections marked `gone` (the shape boto3 turns into
``GoneException``), and `DELETE`s (``delete_connection``) are recorded.

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class ManagementAPI:
    def __init__(self) -> None:
        self.posts: dict[str, list[bytes]] = defaultdict(list)
        self.deleted: list[str] = []
        self.gone: set[str] = set()
        self.calls = 0
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _connection(self) -> str | None:
                if "/@connections/" not in self.path:
                    return None
                return unquote(self.path.split("/@connections/", 1)[1])

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                connection = self._connection()
                with api._lock:
                    api.calls += 1
                    if connection is None:
                        self._reply(404, b'{"message":"not found"}')
                        return
                    if connection in api.gone:
                        self._reply(
                            410, b'{"message":"gone"}', {"x-amzn-ErrorType": "GoneException"}
                        )
                        return
                    api.posts[connection].append(body)
                self._reply(200, b"")

            def do_DELETE(self) -> None:
                connection = self._connection()
                with api._lock:
                    api.calls += 1
                    if connection is not None:
                        api.deleted.append(connection)
                        api.gone.add(connection)
                self._reply(204, b"")

            def _reply(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def messages(self, connection: str) -> list[str]:
        with self._lock:
            return [m.decode() for m in self.posts[connection]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
