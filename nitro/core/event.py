"""The per-request `Event` and the response it stages (`event.res`).

An `Event` is created for every HTTP request. It is cheap to make: headers, URL,
query and the Starlette `Request` are built only when first asked for, and
Starlette itself is imported only for the URL, the client address and the request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from .headers import Headers, MutableHeaders

if TYPE_CHECKING:
    from starlette.datastructures import URL, Address
    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from .app import NitroApp

__all__ = ["Context", "Event", "ResponseState"]


class Context(dict[str, Any]):
    """A dict that also allows attribute access: ``event.context.user``.

    ``context.request_id`` is the request's id (the platform's, else a new one; see
    `nitro.core.observe.request_id`), worked out when first asked for.
    """

    __slots__ = ("_event",)

    def __missing__(self, key: str) -> Any:
        if key != "request_id":
            raise KeyError(key)
        try:
            event: Event = object.__getattribute__(self, "_event")
        except AttributeError:
            raise KeyError(key) from None
        from .observe.request_id import request_id

        value = self[key] = request_id(event.scope, event.app)
        return value

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


class ResponseState:
    """The response being built: `status`, `status_text` and `headers` (``event.res``).

    Values staged here apply to what the handler returns: a returned dict is sent
    with the staged status and headers; a returned `Response` gets the staged
    headers as defaults. `final_headers` (route rules' `headers` and CORS) go on
    whatever answers, error responses included, and win over its own.
    """

    __slots__ = ("_status", "final_headers", "raw_headers", "status_set", "status_text")

    def __init__(self) -> None:
        self._status = 200
        self.status_set = False
        self.status_text: str | None = None
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.final_headers: list[tuple[bytes, bytes]] | None = None

    def reset(self) -> None:
        """Forget the staged status and headers (an error answers instead); the final
        headers stay."""
        self._status = 200
        self.status_set = False
        self.status_text = None
        self.raw_headers = []

    @property
    def status(self) -> int:
        return self._status

    @status.setter
    def status(self, value: int) -> None:
        self._status = int(value)
        self.status_set = True

    @property
    def headers(self) -> MutableHeaders:
        return MutableHeaders(raw=self.raw_headers)


class Event:
    """One HTTP request on its way through nitro (h3's `H3Event`).

    Fields: `method`, `path` (path and query as received), `pathname` (the canonical
    path used for routing), `url` (a Starlette `URL`), `headers` (case-insensitive),
    `context` (a dict with attribute access; `context.params`), `params`, `client`,
    `res` (the response being built) and `wait_until(awaitable)`.
    """

    __slots__ = (
        "_cleanups",
        "_context",
        "_headers",
        "_limited_receive",
        "_params",
        "_query",
        "_receive",
        "_request",
        "_res",
        "_url",
        "app",
        "method",
        "pathname",
        "pending",
        "scope",
        "send",
    )

    def __init__(self, app: NitroApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.app = app
        self.scope = scope
        self._receive = receive
        self.send = send
        self.method: str = scope["method"]
        self.pathname: str = ""
        # context and params are made on first use: most requests never touch them.
        self._params: dict[str, str] | None = None
        self._context: Context | None = None
        self.pending: list[asyncio.Future[Any]] | None = None
        self._res: ResponseState | None = None
        self._headers: Headers | None = None
        self._url: URL | None = None
        self._query: dict[str, str | list[str]] | None = None
        self._request: Request | None = None
        self._cleanups: list[Any] | None = None
        self._limited_receive: Receive | None = None

    @property
    def params(self) -> dict[str, str]:
        """The matched route's params: ``/users/:id`` -> ``{"id": "42"}``."""
        if self._params is None:
            self._params = {}
        return self._params

    @params.setter
    def params(self, value: dict[str, str]) -> None:
        self._params = value
        if self._context is not None:
            self._context["params"] = value

    @property
    def context(self) -> Context:
        """Per-request data (middleware puts things here); ``context.params`` are the params."""
        if self._context is None:
            context = self._context = Context(params=self.params)
            object.__setattr__(context, "_event", self)  # for context.request_id
        return self._context

    @property
    def path(self) -> str:
        """Path and query string exactly as the client sent them."""
        raw = self.scope.get("raw_path")
        path = raw.decode("latin-1") if raw else self.scope["path"]
        query = self.scope.get("query_string")
        return f"{path}?{query.decode('latin-1')}" if query else path

    @property
    def headers(self) -> Headers:
        """Request headers (case-insensitive, read-only)."""
        if self._headers is None:
            self._headers = Headers(scope=self.scope)
        return self._headers

    @property
    def url(self) -> URL:
        """The full request URL as a Starlette `URL`."""
        if self._url is None:
            from starlette.datastructures import URL

            self._url = URL(scope=self.scope)
        return self._url

    @property
    def client(self) -> Address | None:
        """The socket peer (``client.host``, ``client.port``), when the server knows it."""
        client = self.scope.get("client")
        if not client:
            return None
        from starlette.datastructures import Address

        return Address(*client)

    @property
    def res(self) -> ResponseState:
        """The response being built: ``event.res.status = 201``."""
        if self._res is None:
            self._res = ResponseState()
        return self._res

    @property
    def request(self) -> Request:
        """A Starlette `Request` for this event; its body respects `max_body_size`."""
        if self._request is None:
            from starlette.requests import Request

            self._request = Request(self.scope, receive=self.receive)
        return self._request

    @property
    def receive(self) -> Receive:
        """The ASGI `receive` callable, limited to the app's `max_body_size`."""
        if self._limited_receive is None:
            limit = self.app.max_body_size
            if limit is None:
                self._limited_receive = self._receive
            else:
                from .utils.body import limited_receive

                self._limited_receive = limited_receive(self, self._receive, limit)
        return self._limited_receive

    def wait_until(self, awaitable: Awaitable[Any]) -> None:
        """Keep `awaitable` running after the response is sent.

        On servers it finishes in the background (shutdown waits for it); on
        serverless platforms the invocation returns only once it is done.

        Example::

            event.wait_until(storage.set_item("last-visit", now))

        A sync handler on a worker thread may call it too: the work is handed to the
        event loop, before the handler's result is.
        """
        from .sync import worker_loop

        loop = worker_loop()
        if loop is not None:
            loop.call_soon_threadsafe(self._keep_pending, awaitable)
        else:
            self._keep_pending(awaitable)

    def _keep_pending(self, awaitable: Awaitable[Any]) -> None:
        future = asyncio.ensure_future(awaitable)
        if self.pending is None:
            self.pending = [future]
        else:
            self.pending.append(future)

    def on_cleanup(self, callback: Any) -> None:
        """Run `callback` (sync or async) once the response has been sent."""
        if self._cleanups is None:
            self._cleanups = [callback]
        else:
            self._cleanups.append(callback)

    def query(self) -> dict[str, str | list[str]]:
        """Query parameters; repeated keys become lists (see `get_query`)."""
        if self._query is None:
            from .utils.request import parse_query

            self._query = parse_query(self.scope.get("query_string", b""))
        return self._query

    def derive(self, scope: Scope) -> Event:
        """An event for the same request seen through `scope` (a path served
        in-process, a copy with fewer headers): same app, body stream, `send`, params
        and context; its own response state. Its cleanups and `wait_until` work join
        this event's, so they run when the request ends.

        Example::

            inner = event.derive({**event.scope, "headers": []})
        """
        derived = Event(self.app, scope, self._receive, self.send)
        derived.pathname = self.pathname
        derived._params = self._params
        derived._context = self._context
        if self._cleanups is None:
            self._cleanups = []
        if self.pending is None:
            self.pending = []
        derived._cleanups = self._cleanups
        derived.pending = self.pending
        return derived

    def __repr__(self) -> str:
        return f"<Event {self.method} {self.path}>"
