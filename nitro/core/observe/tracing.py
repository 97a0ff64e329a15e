"""Tracing through the OpenTelemetry API: a server span per request, child spans for
storage, database, cache and proxy calls.

On with ``NITRO_TRACING=1`` (and `opentelemetry-api` installed; the app brings the SDK
and an exporter, configured in a plugin or by ``opentelemetry-instrument``); off
otherwise, and then nothing of OpenTelemetry is imported and no call path changes.

- Each request is a ``SERVER`` span named ``METHOD /route/pattern`` (``GET
  /users/:id``; the method alone when no route matched), child of the incoming
  ``traceparent`` (the globally configured propagator: W3C Trace Context unless
  ``OTEL_PROPAGATORS`` says otherwise), with the stable HTTP semantic-convention
  attributes (``http.request.method``, ``url.path``, ``url.scheme``, ``http.route``,
  ``http.response.status_code``, ``server.address``, ``client.address``...). A 5xx
  answer or an unhandled error marks it ERROR and records the exception.
- Child spans: ``storage get_item`` (``nitro.storage.mount``, ``nitro.storage.driver``;
  never the key, which may be a session id), ``SELECT``/``INSERT``... for
  ``db.sql``/``exec`` (``db.system.name``, ``db.query.text`` with its placeholders,
  never the values), ``cache <name>`` (``nitro.cache.state``: hit, stale, miss,
  bypass) and the proxy's upstream request (a ``CLIENT`` span, its ``traceparent``
  sent on).

The child spans come from wrapping those methods once tracing turns on (as
OpenTelemetry's own instrumentations do), so they cost nothing while it is off.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import HTTPError

if TYPE_CHECKING:
    from starlette.types import Scope

    from ..app import NitroApp
    from ..event import Event

__all__ = ["Tracing", "instrument", "uninstrument"]

logger = logging.getLogger("nitro")

ERROR_TYPE = "nitro.error_type"  # scope key: the error a request's 5xx answer stands for


class Tracing:
    """The server span of each request of `app` (see the module's doc)."""

    def __init__(self, app: NitroApp) -> None:
        from opentelemetry import context, propagate, trace

        self.app = app
        self.tracer = _tracer()
        self._trace = trace
        self._context = context
        self._propagate = propagate
        self._server = trace.SpanKind.SERVER
        self._error = trace.Status(trace.StatusCode.ERROR)
        instrument()
        app.hooks.hook("error", self._on_error)
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            logger.warning(
                "[nitro:tracing] NITRO_TRACING is on but no tracer provider is configured: "
                "spans go nowhere until one is (opentelemetry-sdk set up in a plugin, or the "
                "app run under opentelemetry-instrument)"
            )

    def start(self, scope: Scope, request_id: str | None) -> tuple[Any, object]:
        """The request's span, current until `finish` (returns it and the token)."""
        parent = self._propagate.extract(scope.get("headers", ()), getter=_HEADERS)
        method = scope["method"]
        route = self._route(scope)
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.path": scope.get("path", ""),
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        query = scope.get("query_string")
        if query:
            attributes["url.query"] = query.decode("latin-1")
        if route is not None:
            attributes["http.route"] = route
        server = scope.get("server")
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host, _, port = value.decode("latin-1").rpartition(":")
                if not host or not port.isdigit():
                    host, port = value.decode("latin-1"), ""
                attributes["server.address"] = host
                if port:
                    attributes["server.port"] = int(port)
            elif name == b"user-agent":
                attributes["user_agent.original"] = value.decode("latin-1")
        if "server.address" not in attributes and server:
            attributes["server.address"] = server[0]
            if server[1] is not None:
                attributes["server.port"] = server[1]
        client = scope.get("client")
        if client:
            attributes["client.address"] = client[0]
        if request_id is not None:
            attributes["nitro.request_id"] = request_id
        name = f"{method} {route}" if route is not None else method
        span = self.tracer.start_span(name, parent, kind=self._server, attributes=attributes)
        token = self._context.attach(self._trace.set_span_in_context(span, parent))
        return span, token

    def finish(
        self, span: Any, token: object, scope: Scope, status: int, error: BaseException | None
    ) -> None:
        try:
            if status:
                span.set_attribute("http.response.status_code", status)
            if error is not None:
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__qualname__)
                span.set_status(self._error)
            elif status >= 500:
                # The error the app turned into this answer (`_on_error`), else the status.
                span.set_attribute("error.type", scope.get(ERROR_TYPE) or str(status))
                span.set_status(self._error)
            span.end()
        finally:
            self._context.detach(token)  # type: ignore[arg-type]

    def _route(self, scope: Scope) -> str | None:
        from ..paths import canonical_path, strip_base

        app = self.app
        try:
            pathname = canonical_path(scope)
        except HTTPError:
            return None
        if app.base_url != "/":
            pathname = strip_base(pathname, app.base_url)
        found = app.router.match(scope["method"], pathname)
        if found is None:
            return None
        entry = getattr(found[0], "entry", None)
        return None if entry is None else str(entry.route)

    async def _on_error(self, error: BaseException, event: Event | None) -> None:
        # An error handled into a response: the span still tells what happened.
        if isinstance(error, HTTPError) and error.status < 500:
            return
        span = self._trace.get_current_span()
        if span.is_recording():
            span.record_exception(error)
        if event is not None:
            event.scope[ERROR_TYPE] = type(error).__qualname__


class _HeaderGetter:
    """OpenTelemetry's getter over ASGI headers (a list of byte pairs)."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier if k == wanted]
        return found or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier]


_HEADERS: Any = _HeaderGetter()  # duck-typed as OpenTelemetry's Getter


# --- child spans: the wrapped methods ---

_originals: dict[tuple[str, str, str], Any] = {}


def instrument() -> None:
    """Wrap storage, database, cache and proxy calls in spans (once per process)."""
    if _originals:
        return
    for module_name, owner_name, attribute, wrap in _targets():
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        original = getattr(owner, attribute)
        _originals[(module_name, owner_name, attribute)] = original
        setattr(owner, attribute, wrap(original))


def uninstrument() -> None:
    """Undo `instrument` (tests)."""
    for (module_name, owner_name, attribute), original in _originals.items():
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        setattr(owner, attribute, original)
    _originals.clear()


def _tracer() -> Any:
    """The tracer of nitro's spans (instrumentation scope ``nitro``, its version)."""
    from importlib.metadata import PackageNotFoundError, version

    from opentelemetry import trace

    try:
        found: str | None = version("nitro-py")
    except PackageNotFoundError:  # run from a checkout that is not installed
        found = None
    return trace.get_tracer("nitro", found)


def _targets() -> Iterator[tuple[str, str, str, Callable[[Any], Any]]]:
    storage = "nitro.core.storage"
    for operation in (
        "get_item", "get_item_raw", "set_item", "set_item_raw", "set_item_if_absent",
        "has_item", "remove_item", "get_meta",
    ):  # fmt: skip
        yield storage, "Storage", operation, functools.partial(_storage_key_span, operation)
    for operation in ("get_keys", "clear"):
        yield storage, "Storage", operation, functools.partial(_storage_base_span, operation)
    yield "nitro.core.database", "Database", "_run", _database_span
    yield "nitro.core.database", "Database", "exec", _database_span
    yield "nitro.core.cache", "Engine", "resolve", _cache_span
    yield "nitro.core.utils.proxy", "", "_client", _proxy_client


def _storage_key_span(operation: str, original: Callable[..., Any]) -> Callable[..., Any]:
    tracer = _tracer()

    @functools.wraps(original)
    async def traced(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        attributes: dict[str, Any] = {"nitro.storage.operation": operation}
        try:
            mount, _ = self._resolve(key)
        except Exception:
            pass  # the call itself reports the bad key
        else:
            attributes["nitro.storage.mount"] = mount.base.rstrip(":")
            attributes["nitro.storage.driver"] = mount.driver.name
        with tracer.start_as_current_span(f"storage {operation}", attributes=attributes):
            return await original(self, key, *args, **kwargs)

    return traced


def _storage_base_span(operation: str, original: Callable[..., Any]) -> Callable[..., Any]:
    tracer = _tracer()

    @functools.wraps(original)
    async def traced(self: Any, base: str | None = None) -> Any:
        attributes = {"nitro.storage.operation": operation, "nitro.storage.base": base or ""}
        with tracer.start_as_current_span(f"storage {operation}", attributes=attributes):
            return await original(self, base)

    return traced


def _database_span(original: Callable[..., Any]) -> Callable[..., Any]:
    from opentelemetry.trace import SpanKind

    tracer = _tracer()

    @functools.wraps(original)
    async def traced(self: Any, text: str, *args: Any) -> Any:
        words = text.split(None, 1)
        operation = words[0].upper() if words else ""
        attributes = {
            "db.system.name": self.dialect,
            "db.query.text": text,
            "nitro.database": self.name,
        }
        if operation.isalpha():
            attributes["db.operation.name"] = operation
        name = operation if operation.isalpha() else str(self.dialect)
        with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
            return await original(self, text, *args)

    return traced


def _cache_span(original: Callable[..., Any]) -> Callable[..., Any]:
    tracer = _tracer()

    @functools.wraps(original)
    async def traced(self: Any, key: str, compute: Any, **kwargs: Any) -> Any:
        attributes = {"nitro.cache.name": self.name}
        with tracer.start_as_current_span(f"cache {self.name}", attributes=attributes) as span:
            found = await original(self, key, compute, **kwargs)
            span.set_attribute("nitro.cache.state", found[2])
            return found

    return traced


def _proxy_client(original: Callable[..., Any]) -> Callable[..., Any]:
    tracer = _tracer()

    @functools.wraps(original)
    def traced(event: Any) -> _TracedClient:
        return _TracedClient(original(event), tracer)

    return traced


class _TracedClient:
    """The proxy's httpx client, each upstream request a CLIENT span whose context goes
    upstream in ``traceparent``."""

    def __init__(self, client: Any, tracer: Any) -> None:
        self.client = client
        self.tracer = tracer

    def build_request(self, *args: Any, **kwargs: Any) -> Any:
        return self.client.build_request(*args, **kwargs)

    async def send(self, request: Any, **kwargs: Any) -> Any:
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind, Status, StatusCode

        url = request.url
        attributes: dict[str, Any] = {
            "http.request.method": request.method,
            "url.full": str(url.copy_with(username=None, password=None)),
            "server.address": url.host,
        }
        if url.port is not None:
            attributes["server.port"] = url.port
        with self.tracer.start_as_current_span(
            request.method, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            propagate.inject(request.headers)
            response = await self.client.send(request, **kwargs)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response
