"""`nitro preview` for the vercel preset: the built output served as Vercel serves it.

    python -m nitro.presets.vercel.preview PROJECT_DIR     (what `nitro preview` runs)

The function runs under its vendored Vercel launcher in IPC mode (`VercelFunction`).
In front of it, a small proxy on `NITRO_HOST`:`NITRO_PORT` plays Vercel's CDN for
what `config.json` says, in its phases:

1. routes before ``filesystem``: headers (``continue``) and redirects (``status``);
2. ``filesystem``: GET/HEAD of a file in ``static/`` (``/docs`` and ``/docs/`` serve
   ``docs/index.html``, as Vercel does by default), with the ``hit`` routes' headers;
3. the routes after it: the catch-all sends the request, unchanged, to the function.

Route headers go on the function's responses unless the function set that header
itself. It emulates the subset of Vercel routing that nitro emits, not all of it:
no ``has``/``missing`` conditions, no rewrites to other destinations. Request bodies
over Vercel's 4.5 MB limit get 413, as there. Crons do not fire locally: call
``/_vercel/cron?schedule=...`` yourself.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from ...core.utils.static import content_type_for

__all__ = ["Decision", "VercelRouter", "main"]

BODY_LIMIT = 4_500_000  # https://vercel.com/docs/functions/limitations
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
}  # fmt: skip
# Set by the function's own uvicorn, or meant for the platform only: the CDN drops them.
UPSTREAM_ONLY = {"date", "server", "x-vercel-internal-timing"}
FORWARDED = {"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"}  # set anew
STATIC_CACHE = "public, max-age=0, must-revalidate"


@dataclass
class Decision:
    """What the CDN does with a request: `kind` is "redirect", "static" or "function"."""

    kind: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    file: Path | None = None


class VercelRouter:
    """Vercel's route phases for the routes of a `config.json`, over a `static/` directory."""

    def __init__(self, config: dict[str, Any], static: Path) -> None:
        self.static = static.resolve()
        self.phases: dict[str | None, list[dict[str, Any]]] = {None: []}
        phase: str | None = None
        for route in config.get("routes", []):
            if "handle" in route:
                phase = route["handle"]
                self.phases.setdefault(phase, [])
                continue
            self.phases.setdefault(phase, []).append(route)

    def decide(self, method: str, path: str) -> Decision:
        headers: dict[str, str] = {}
        for route, match in self._matches(None, method, path):
            headers.update(_substitute(route.get("headers", {}), match))
            if "status" in route:
                return Decision("redirect", headers, int(route["status"]))
            if not route.get("continue"):
                break
        if method in ("GET", "HEAD"):
            found = self._file(path)
            if found is not None:
                static_headers = {"cache-control": STATIC_CACHE}
                for route, match in self._matches("hit", method, path):
                    static_headers.update(_substitute(route.get("headers", {}), match))
                return Decision("static", {**headers, **static_headers}, file=found)
        for route, _ in self._matches("filesystem", method, path):
            if "dest" in route:
                return Decision("function", headers)
        return Decision("function", headers, status=404)  # never with nitro's catch-all

    def _matches(self, phase: str | None, method: str, path: str) -> Any:
        for route in self.phases.get(phase, []):
            methods = route.get("methods")
            if methods and method not in methods:
                continue
            flags = 0 if route.get("caseSensitive") else re.IGNORECASE
            match = re.search(route["src"], path, flags)
            if match:
                yield route, match

    def _file(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if any(part in ("..", ".") for part in relative.split("/")):
            return None
        candidate = (self.static / relative).resolve()
        if not candidate.is_relative_to(self.static):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        elif path.endswith("/"):
            return None
        return candidate if candidate.is_file() else None


def _substitute(headers: dict[str, str], match: re.Match[str]) -> dict[str, str]:
    def group(found: re.Match[str]) -> str:
        index = int(found.group(1))
        return (match.group(index) or "") if index <= (match.re.groups or 0) else ""

    return {name.lower(): re.sub(r"\$(\d+)", group, value) for name, value in headers.items()}


class PreviewProxy:
    """The ASGI app in front of the function."""

    def __init__(self, router: VercelRouter, function_url: str) -> None:
        self.router = router
        self.function_url = function_url
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10.0))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await self.client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return  # WebSockets: Vercel functions do not accept them either
        decision = self.router.decide(scope["method"], scope["path"])
        if decision.kind == "redirect":
            headers = dict(decision.headers)
            query = scope.get("query_string", b"").decode("latin-1")
            if query and "location" in headers:
                # Vercel passes the query string through to a redirect's target.
                location = headers["location"]
                headers["location"] = location + ("&" if "?" in location else "?") + query
            await _answer(send, decision.status, headers, b"")
        elif decision.kind == "static" and decision.file is not None:
            await self._static(scope, send, decision)
        else:
            await self._proxy(scope, receive, send, decision.headers)

    async def _static(self, scope: Scope, send: Send, decision: Decision) -> None:
        assert decision.file is not None
        data = decision.file.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest() + '"'
        headers = {
            "content-type": content_type_for(decision.file.name),
            "etag": etag,
            **decision.headers,
        }
        inm = dict(scope["headers"]).get(b"if-none-match", b"").decode("latin-1")
        if etag in [tag.strip() for tag in inm.split(",")]:
            await _answer(send, 304, headers, b"")
            return
        headers["content-length"] = str(len(data))
        await _answer(send, 200, headers, b"" if scope["method"] == "HEAD" else data)

    async def _proxy(
        self, scope: Scope, receive: Receive, send: Send, extra: dict[str, str]
    ) -> None:
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > BODY_LIMIT:
                await _answer(
                    send, 413, {"content-type": "text/plain"}, b"FUNCTION_PAYLOAD_TOO_LARGE"
                )
                return
            if not message.get("more_body"):
                break
        headers = [
            (k, v)
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in HOP_BY_HOP | FORWARDED
        ]
        client = (scope.get("client") or ("127.0.0.1", 0))[0]
        host = dict(scope["headers"]).get(b"host", b"localhost")
        headers += [
            (b"x-forwarded-for", client.encode()),
            (b"x-real-ip", client.encode()),
            (b"x-forwarded-host", host),
            (b"x-forwarded-proto", scope.get("scheme", "http").encode()),
        ]
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        # A bare Request, not client.build_request: the client's default headers
        # (user-agent, accept, accept-encoding) must not be added to the caller's.
        request = httpx.Request(
            scope["method"],
            self.function_url + target.decode("latin-1"),
            headers=headers,
            content=bytes(body),
        )
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError as exc:  # the function died or hung up
            body_text = f"FUNCTION_INVOCATION_FAILED: {exc}".encode()
            await _answer(send, 502, {"content-type": "text/plain"}, body_text)
            return
        try:
            raw = [
                (k, v)
                for k, v in response.headers.raw
                if k.decode("latin-1").lower() not in HOP_BY_HOP | UPSTREAM_ONLY
            ]
            present = {k.decode("latin-1").lower() for k, _ in raw}
            raw += [(k.encode(), v.encode()) for k, v in extra.items() if k not in present]
            await send(
                {"type": "http.response.start", "status": response.status_code, "headers": raw}
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


async def _answer(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    if "content-length" not in headers:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> int:
    from ...adapters.uvicorn import resolve_bind, serve
    from ...bundle.vendor import find_python
    from .launcher import LauncherError, VercelFunction

    root = Path((argv or sys.argv[1:] or ["."])[0]).resolve()
    output = root / ".vercel" / "output"
    info = json.loads((root / ".output" / "nitro.json").read_text(encoding="utf-8"))
    settings = info.get("vercel", {})
    version = str(settings.get("runtime", "python3.12")).removeprefix("python")
    python = find_python(version)
    if python is None:
        print(f"[nitro] the Vercel function needs Python {version} to run here", file=sys.stderr)
        return 1
    function_dir = output / settings.get("function", "functions/__nitro.func")
    router = VercelRouter(json.loads((output / "config.json").read_text()), output / "static")
    try:
        function = VercelFunction(function_dir, python).start()
    except LauncherError as exc:
        print(f"[nitro] {exc}", file=sys.stderr)
        return 1
    host, port = resolve_bind()
    print(f"[nitro] Vercel function on its launcher (Python {version}); http://{host}:{port}",
          file=sys.stderr, flush=True)  # fmt: skip
    try:
        serve(PreviewProxy(router, function.url), host=host, port=port)
    finally:
        function.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
