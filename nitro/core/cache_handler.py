"""`define_cached_handler`: whole responses cached with the engine of `cache.py`.

Only GET and HEAD are cached. The handler sees only the request headers listed in
`varies` (cookies and `Authorization` included only when listed), and only those
shape the key, so one user's answer cannot leak to another. A response of status
400 or more, with `Set-Cookie`, or with ``Cache-Control: private|no-store|no-cache``
is never stored (nor handed to other waiting requests). Cached answers carry a weak
`ETag`, `Last-Modified` and `Cache-Control`, and conditional requests get a 304.

A stored response is decoded once per process: while it is fresh, the process
serves it from memory for up to `HOT_SECONDS` before reading storage again, so an
invalidation made by another instance reaches this one within that time (one made
here, at once).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING, Any, overload

from .cache import CacheOptions, Engine, default_name, integrity, uncacheable
from .context import as_current
from .event import Event
from .handlers import EventHandler, chain_middleware
from .response import PlainResponse, to_response

if TYPE_CHECKING:
    from .response import AnyResponse

__all__ = ["CachedHandler", "define_cached_handler"]

_NOT_STORED = re.compile(r"\b(private|no-store|no-cache)\b", re.IGNORECASE)
_HOP = {b"content-length", b"set-cookie", b"date", b"server"}
_VALIDATORS = (b"etag", b"last-modified", b"cache-control", b"vary")
HOT_SECONDS = 1.0
_HOT_LIMIT = 4096  # responses kept in memory per handler; the oldest go first


class CachedHandler(EventHandler):
    """A handler whose responses are cached (``define_cached_handler``)."""

    __slots__ = ("_hot", "_keys", "engine", "inner", "options", "varies")

    def __init__(
        self,
        fn: Any,
        *,
        varies: Sequence[str] = (),
        sync_to_thread: bool | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(fn, EventHandler):
            inner = EventHandler(fn, sync_to_thread=sync_to_thread)
        elif sync_to_thread is None or sync_to_thread == fn.sync_to_thread:
            inner = fn
        else:
            inner = EventHandler(
                fn.fn, middleware=fn.middleware, meta=fn.meta, sync_to_thread=sync_to_thread
            )
        super().__init__(
            inner.fn,
            middleware=inner.middleware,
            meta=inner.meta,
            sync_to_thread=inner.sync_to_thread,
        )
        options.setdefault("group", "nitro/handlers")
        self.inner = inner
        self.options = CacheOptions(**options)
        self.varies = tuple(sorted({h.lower() for h in varies}))
        name = self.options.name or default_name(inner.fn)
        self.engine = Engine(self.options, name, integrity(inner.fn, self.options))
        # The handler's own middleware runs before the cache, on hits too.
        self.invoke = self._cached
        self.call = (
            chain_middleware(self.middleware, self._cached) if self.middleware else self._cached
        )
        self._hot: dict[str, _Stored] = {}
        self._keys: dict[tuple[Any, ...], str] = {}

    async def _cached(self, event: Event) -> Any:
        options = self.options
        if event.method not in ("GET", "HEAD") or options.max_age <= 0:
            return await self.inner.invoke(event)
        run = event.app.run_user_code
        if options.should_bypass_cache and await run(options.should_bypass_cache, event):
            return await self.inner.invoke(event)
        invalidate = bool(
            options.should_invalidate_cache and await run(options.should_invalidate_cache, event)
        )
        key = self._key(event) if options.get_key is None else await self._custom_key(event)
        hot = self._hot.get(key)
        if hot is not None:
            if not invalidate and hot.until > time.time():
                return hot.respond(event)
            del self._hot[key]
        value, entry, state = await self.engine.resolve(
            key, lambda: self._render(event), invalidate=invalidate
        )
        if not isinstance(value, dict):  # computed for this request only (not cacheable)
            return value.value if hasattr(value, "value") else value
        stored = _Stored(value, entry["mtime"] if entry else None, self.options)
        if entry is not None and state in ("hit", "miss"):
            stored.until = min(entry["expires"], time.time() + HOT_SECONDS)
            if len(self._hot) >= _HOT_LIMIT:
                del self._hot[next(iter(self._hot))]
            self._hot[key] = stored
        return stored.respond(event)

    async def _custom_key(self, event: Event) -> str:
        assert self.options.get_key is not None
        key = str(await event.app.run_user_code(self.options.get_key, event))
        for name in self.varies:
            key += f":{name}.{_hash(event.headers.get(name, ''))}"
        return key

    def _key(self, event: Event) -> str:
        scope = event.scope
        varied = tuple(event.headers.get(name, "") for name in self.varies) if self.varies else ()
        identity = (event.pathname, scope.get("query_string", b""), varied)
        key = self._keys.get(identity)
        if key is None:
            query = identity[1].decode("latin-1")
            target = event.pathname + ("?" + query if query else "")
            slug = re.sub(r"[^A-Za-z0-9]+", "_", event.pathname).strip("_")[:40] or "index"
            key = f"{slug}.{_hash(target)}"
            for name, value in zip(self.varies, varied, strict=True):
                key += f":{name}.{_hash(value)}"
            if len(self._keys) >= _HOT_LIMIT:
                self._keys.clear()
            self._keys[identity] = key
        return key

    async def _render(self, event: Event) -> Any:
        """Run the handler on a copy of the request that carries only `varies` headers."""
        allowed = {name.encode() for name in self.varies}
        scope = {
            **event.scope,
            "headers": [(n, v) for n, v in event.scope["headers"] if n in allowed],
        }
        sub = event.derive(scope)
        with as_current(sub):  # use_event() must not reach the full request either
            response = await to_response(sub, await self.inner.invoke(sub))
        if type(response) is PlainResponse:
            body = response.body
        else:
            # A Starlette response: its module is loaded already, so this is free.
            from starlette.responses import FileResponse

            if isinstance(response, FileResponse):
                return uncacheable(response)
            stream = getattr(response, "body_iterator", None)
            if stream is not None:  # read it once to store it
                body = b"".join([c if isinstance(c, bytes) else c.encode() async for c in stream])
            else:  # Response and its subclasses such as JSONResponse
                body = bytes(response.body)
        headers = [(n, v) for n, v in response.raw_headers if n not in _HOP]
        cookies = any(n == b"set-cookie" for n, _ in response.raw_headers)
        control = dict(response.raw_headers).get(b"cache-control", b"").decode("latin-1")
        if response.status_code >= 400 or cookies or _NOT_STORED.search(control):
            kept = [h for h in response.raw_headers if h[0] != b"content-length"]
            length = (b"content-length", str(len(body)).encode())
            return uncacheable(PlainResponse(body, response.status_code, [*kept, length]))
        return {
            "status": response.status_code,
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in headers],
            "body": base64.b64encode(body).decode("ascii"),
            "etag": 'W/"' + _hash(body) + '"',
        }

    def __repr__(self) -> str:
        return f"<CachedHandler {self.engine.name}>"


class _Stored:
    """A stored response, decoded once, with the validators every answer carries."""

    __slots__ = ("body", "etag", "headers", "mtime", "status", "until")

    def __init__(
        self, snapshot: dict[str, Any], mtime: float | None, options: CacheOptions
    ) -> None:
        self.body = base64.b64decode(snapshot["body"])
        self.status = int(snapshot["status"])
        self.mtime = mtime
        self.until = 0.0
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in snapshot["headers"]]
        names = {n for n, _ in headers}
        self.etag = dict(headers).get(b"etag", b"").decode("latin-1") or snapshot["etag"]
        if b"etag" not in names:
            headers.append((b"etag", self.etag.encode("latin-1")))
        if mtime is not None and b"last-modified" not in names:
            headers.append((b"last-modified", formatdate(mtime, usegmt=True).encode()))
        if b"cache-control" not in names:
            seconds = int(options.max_age)
            control = (
                f"s-maxage={seconds}, stale-while-revalidate"
                if options.swr
                else f"max-age={seconds}"
            )
            headers.append((b"cache-control", control.encode()))
        self.headers = [*headers, (b"content-length", str(len(self.body)).encode())]

    def respond(self, event: Event) -> AnyResponse:
        if self._not_modified(event.scope["headers"]):
            return PlainResponse(b"", 304, [h for h in self.headers if h[0] in _VALIDATORS])
        return PlainResponse(
            self.body, self.status, list(self.headers)
        )  # a copy: hooks may edit it

    def _not_modified(self, request_headers: list[tuple[bytes, bytes]]) -> bool:
        if_none_match = since = None
        for name, value in request_headers:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"if-modified-since":
                since = value.decode("latin-1")
        if if_none_match:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag.removeprefix("W/") in tags
        if since and self.mtime is not None:
            try:
                return int(self.mtime) <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False


def _hash(data: str | bytes) -> str:
    return hashlib.blake2b(
        data.encode() if isinstance(data, str) else data, digest_size=10
    ).hexdigest()


@overload
def define_cached_handler(fn: Callable[..., Any], /) -> CachedHandler: ...
@overload
def define_cached_handler(**options: Any) -> Callable[[Callable[..., Any]], CachedHandler]: ...
def define_cached_handler(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """A route handler whose responses are cached; a decorator, with or without options.

    Example (``routes/products.py``)::

        from nitro import define_cached_handler

        @define_cached_handler(max_age=60, varies=["accept-language"])
        async def handler(event):
            return await load_products()

    Options are `define_cached_function`'s (group defaults to "nitro/handlers") plus
    `varies`: request headers that reach the handler and shape the key, and
    `sync_to_thread` (as `define_handler`'s). Middleware always runs before it, on
    hits too.
    """
    if fn is None:
        return lambda f: CachedHandler(f, **options)
    return CachedHandler(fn, **options)
