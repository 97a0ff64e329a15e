"""`NitroApp`: the ASGI application every platform adapter hosts.

The request path: canonical path -> hook `request` -> public assets ->
middleware (global) -> `server.py` handler -> router -> directory-scoped
middleware -> handler -> response -> hook `response` -> send -> hook
`after_response`. Errors go to hook `error`, then `error_handler`, then the
default error response. Nothing here knows which platform it runs on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import HTTPError
from .error_response import render_error
from .event import Event, _current_event
from .handlers import EventHandler, Middleware, Plugin, define_handler
from .hooks import Hooks
from .lifespan import AppLifespan
from .loader import LoadError, ModuleRef
from .manifest import PublicAsset, RouteEntry
from .paths import canonical_path
from .response import send_response, to_response
from .router import Router
from .runtime_config import RuntimeConfig
from .utils.body import DEFAULT_MAX_BODY_SIZE
from .utils.static import serve_public

__all__ = ["NitroApp", "StartupError", "use_nitro_app"]

logger = logging.getLogger("nitro")

_current_app: NitroApp | None = None


class StartupError(RuntimeError):
    """A plugin, middleware or server entry failed while the app was starting."""


class PublicLookup(Protocol):
    def lookup(self, pathname: str) -> tuple[Path, PublicAsset] | None: ...


def use_nitro_app() -> NitroApp:
    """The running `NitroApp` (the request's app, else the most recently created one)."""
    try:
        return _current_event.get().app
    except LookupError:
        pass
    if _current_app is None:
        raise RuntimeError("[nitro] no nitro app has been created in this process")
    return _current_app


class _Route:
    """A router value: the route's handler, imported on its first request."""

    __slots__ = ("app", "call", "entry", "handler")

    def __init__(self, app: NitroApp, entry: RouteEntry, handler: EventHandler | None = None) -> None:
        self.app = app
        self.entry = entry
        self.handler = handler
        self.call: Callable[[Event], Any] | None = handler.call if handler is not None else None

    def load(self) -> Callable[[Event], Any]:
        entry = self.entry
        if entry.problem:
            raise HTTPError(500, f"{entry.file}: {entry.problem}")
        root = self.app.root
        value = ModuleRef(root, entry.file, entry.export, (EventHandler,)).load()
        if isinstance(value, EventHandler):
            handler = value
        elif callable(value):
            handler = define_handler(value)
        else:
            raise LoadError(f"[nitro] {entry.file}: {entry.export or 'handler'} is not callable")
        call = handler.call
        if entry.middleware:
            scoped = [self.app._load_middleware(ModuleRef(root, f, None, (Middleware, EventHandler))) for f in entry.middleware]
            call = _chain(scoped, call)
        self.handler = handler
        self.call = call
        return call


def _chain(middleware: list[Middleware], call: Callable[[Event], Any]) -> Callable[[Event], Any]:
    async def run(event: Event) -> Any:
        for mw in middleware:
            result = await mw.call(event)
            if result is not None:
                return result
        return await call(event)

    return run


class NitroApp:
    """An ASGI application built from file routes, middleware, plugins and hooks.

    Usually made for you from a project (`nitro dev`, `nitro build`,
    `nitro.testing`); it can also be built in code::

        app = NitroApp()
        app.add_route("/hello", define_handler(lambda event: {"hello": "world"}))
    """

    def __init__(
        self,
        *,
        root: str | Path | None = None,
        dev: bool = False,
        routes: Iterable[RouteEntry] = (),
        middleware: Iterable[Middleware | ModuleRef | Callable[..., Any]] = (),
        plugins: Iterable[Plugin | ModuleRef | Callable[..., Any]] = (),
        public: PublicLookup | None = None,
        runtime_config: Mapping[str, Any] | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        base_url: str = "/",
        error_handler: Callable[[BaseException, Event], Any] | None = None,
        server_handler: EventHandler | ModuleRef | Callable[..., Any] | None = None,
        server_app: ASGIApp | ModuleRef | None = None,
        serverless: bool = False,
        log_requests: bool = False,
        shutdown_timeout: float = 30.0,
    ) -> None:
        global _current_app
        self.root = Path(root).resolve() if root is not None else Path.cwd()
        self.dev = dev
        self.hooks = Hooks()
        self.router: Router[_Route] = Router()
        self.public = public
        self.runtime_config = runtime_config if isinstance(runtime_config, RuntimeConfig) else RuntimeConfig(runtime_config or {})
        self.max_body_size = max_body_size
        self.base_url = "/" + base_url.strip("/") if base_url.strip("/") else "/"
        self.error_handler = error_handler
        self.serverless = serverless
        self.log_requests = log_requests
        self.shutdown_timeout = shutdown_timeout
        self.state: dict[str, Any] = {}
        self.middleware: list[Middleware] = []
        self._middleware_specs = list(middleware)
        self._plugins = list(plugins)
        self._server_handler_spec = server_handler
        self._server_app_spec = server_app
        self.server_handler: EventHandler | Middleware | None = None
        self.server_app: ASGIApp | None = None
        self._server_app_lifespan: AppLifespan | None = None
        self._started = False
        self._startup_lock: asyncio.Lock | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self._request_hooks = self.hooks.list("request")
        self._response_hooks = self.hooks.list("response")
        self._after_hooks = self.hooks.list("after_response")
        for entry in routes:
            self.add_entry(entry)
        _current_app = self

    # --- building in code ---

    def add_entry(self, entry: RouteEntry) -> None:
        """Register a file route; its module is imported on its first request."""
        self.router.add(entry.route, _Route(self, entry), entry.method)

    def add_route(self, route: str, handler: EventHandler | Callable[..., Any], method: str | None = None) -> None:
        """Register a handler for `route` (router notation) and `method` (None: any)."""
        handler = handler if isinstance(handler, EventHandler) else define_handler(handler)
        entry = RouteEntry(route=route, file="<code>", method=method.lower() if method else None)
        self.router.add(route, _Route(self, entry, handler), method)

    def use(self, middleware: Middleware | Callable[..., Any]) -> None:
        """Append a global middleware (after the ones from `middleware/`)."""
        mw = middleware if isinstance(middleware, Middleware) else Middleware(middleware)
        if self._started:
            self.middleware.append(mw)
        else:
            self._middleware_specs.append(mw)

    # --- lifecycle ---

    async def startup(self) -> None:
        """Load middleware and the server entry, run plugins (once)."""
        global _current_app
        if self._started:
            return
        if self._startup_lock is None:
            self._startup_lock = asyncio.Lock()
        async with self._startup_lock:
            if self._started:
                return
            _current_app = self
            self.middleware = [self._load_middleware(spec) for spec in self._middleware_specs]
            self.server_handler = self._load_server_handler()
            self.server_app = self._load_server_app()
            for plugin in self._plugins:
                await self._run_plugin(plugin)
            if self.server_app is not None:
                lifespan = AppLifespan(self.server_app)
                try:
                    await lifespan.start()
                except Exception as exc:
                    raise StartupError(f"[nitro] server.py app failed to start: {exc}") from exc
                self._server_app_lifespan = lifespan
            self._started = True

    async def shutdown(self) -> None:
        """Wait for background work (up to `shutdown_timeout`), then run the `close` hooks."""
        if self._background:
            done, pending = await asyncio.wait(set(self._background), timeout=self.shutdown_timeout)
            for future in pending:
                future.cancel()
            if pending:
                logger.warning("[nitro] shutdown: cancelled %d background tasks still running", len(pending))
        try:
            await self.hooks.call("close")
        finally:
            if self._server_app_lifespan is not None:
                await self._server_app_lifespan.stop()
                self._server_app_lifespan = None
            self._started = False

    def _load_middleware(self, spec: Any) -> Middleware:
        value = _load(spec, (Middleware, EventHandler))
        if isinstance(value, Middleware):
            return value
        if isinstance(value, EventHandler):
            return Middleware(value.fn)
        if callable(value):
            return Middleware(value)
        raise StartupError(f"[nitro] {_describe(spec)} is not a middleware")

    def _load_server_handler(self) -> Middleware | None:
        spec = self._server_handler_spec
        return None if spec is None else self._load_middleware(spec)

    def _load_server_app(self) -> ASGIApp | None:
        spec = self._server_app_spec
        if spec is None:
            return None
        app = _load(spec, ())
        from .asgi import as_asgi

        try:
            return as_asgi(app)
        except TypeError as exc:
            raise StartupError(f"[nitro] {_describe(spec)}: {exc}") from None

    async def _run_plugin(self, spec: Any) -> None:
        try:
            value = _load(spec, (Plugin,))
            plugin = value if isinstance(value, Plugin) else Plugin(value)
            await plugin.run(self)
        except StartupError:
            raise
        except Exception as exc:
            raise StartupError(f"[nitro] plugin {_describe(spec)} failed: {type(exc).__name__}: {exc}") from exc

    # --- ASGI ---

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.handle(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request."""
        if not self._started:
            await self.startup()
        event = Event(self, scope, receive, send)
        token = _current_event.set(event)
        started = time.perf_counter() if self.log_requests else 0.0
        response: Response | None = None
        try:
            try:
                response = await self._dispatch(event)
            except Exception as error:
                response = await self._error_response(error, event)
            if response is not None:
                if self._response_hooks:
                    response = await self._run_response_hooks(event, response)
                try:
                    await send_response(response, scope, receive, send)
                except Exception as error:
                    await self._report(error, event)
            if self._after_hooks:
                await self.hooks.call("after_response", event, response)
        finally:
            _current_event.reset(token)
            if event._cleanups is not None:
                await self._cleanup(event)
            if event.pending is not None:
                await self._settle(event)
            if self.log_requests:
                status = response.status_code if response is not None else "-"
                logger.info("%s %s %s %.1fms", event.method, event.path, status, (time.perf_counter() - started) * 1000)

    async def _dispatch(self, event: Event) -> Response | None:
        pathname = canonical_path(event.scope)
        if self.base_url != "/":
            pathname = self._strip_base(pathname)
        event.pathname = pathname
        if self._request_hooks:
            await self.hooks.call("request", event)
        method = event.method
        if self.public is not None and (method == "GET" or method == "HEAD"):
            found = self.public.lookup(pathname)
            if found is not None:
                return serve_public(event, found)
        for mw in self.middleware:
            result = await mw.call(event)
            if result is not None:
                return await to_response(event, result)
        if self.server_handler is not None:
            result = await self.server_handler.call(event)
            if result is not None:
                return await to_response(event, result)
        match = self.router.match(method, pathname)
        if match is None:
            if self.server_app is not None:
                await self._call_server_app(event)
                return None
            allowed = self.router.allowed_methods(pathname)
            if allowed:
                raise HTTPError(405, headers={"allow": ", ".join(allowed)})
            raise HTTPError(404, f"Cannot find any route matching [{method}] {pathname}")
        route, params = match
        if params:
            for name, value in params.items():
                if "%" in value:
                    params[name] = unquote(value)
            event.params.update(params)
        call = route.call or route.load()
        return await to_response(event, await call(event))

    def _strip_base(self, pathname: str) -> str:
        base = self.base_url
        if pathname == base or pathname == base + "/":
            return "/"
        if pathname.startswith(base + "/"):
            return pathname[len(base) :]
        raise HTTPError(404, f"Cannot find any route matching {pathname}")

    async def _call_server_app(self, event: Event) -> None:
        scope = event.scope
        lifespan = self._server_app_lifespan
        if lifespan is not None and lifespan.state:
            scope = {**scope, "state": {**scope.get("state", {}), **lifespan.state}}
        assert self.server_app is not None
        await self.server_app(scope, event.receive, event.send)

    async def _run_response_hooks(self, event: Event, response: Response) -> Response:
        try:
            await self.hooks.call("response", event, response)
        except Exception as error:
            response = await self._error_response(error, event)
        return response

    async def _error_response(self, error: Exception, event: Event) -> Response:
        await self._report(error, event)
        if self.error_handler is not None:
            try:
                result = self.error_handler(error, event)
                if asyncio.iscoroutine(result):
                    result = await result
                if result is not None:
                    event._res = None
                    event.res.status = error.status if isinstance(error, HTTPError) else 500
                    return await to_response(event, result)
            except Exception:
                logger.exception("[nitro] error_handler failed; sending the default error response")
        return render_error(error, event.scope, dev=self.dev)

    async def _report(self, error: BaseException, event: Event | None) -> None:
        if not isinstance(error, HTTPError):
            where = f" on {event.method} {event.path}" if event is not None else ""
            logger.error("[nitro] unhandled %s%s", type(error).__name__, where, exc_info=error)
        if self.hooks.has("error"):
            try:
                await self.hooks.call("error", error, event)
            except Exception:
                logger.exception("[nitro] an error hook failed")

    async def _cleanup(self, event: Event) -> None:
        for callback in event._cleanups or ():
            try:
                result = callback()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                logger.exception("[nitro] request cleanup failed")

    async def _settle(self, event: Event) -> None:
        pending = event.pending or []
        if self.serverless:
            results = await asyncio.gather(*pending, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    await self._report(result, event)
            return
        for future in pending:
            if future.done():
                self._report_background(future, event)
                continue
            self._background.add(future)
            future.add_done_callback(lambda f, e=event: self._report_background(f, e))

    def _report_background(self, future: asyncio.Future[Any], event: Event) -> None:
        self._background.discard(future)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            task = asyncio.ensure_future(self._report(error, event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    logger.error("%s", exc, exc_info=exc.__cause__ or exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as exc:
                    logger.exception("[nitro] shutdown failed")
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._started:
            await self.startup()
        if self.server_app is not None:
            await self.server_app(scope, receive, send)
            return
        await send({"type": "websocket.close", "code": 1000})

    def __repr__(self) -> str:
        return f"<NitroApp {self.root} routes={len(self.router)}>"


def _load(spec: Any, kinds: tuple[type, ...]) -> Any:
    if isinstance(spec, ModuleRef):
        try:
            return spec.load()
        except LoadError as exc:
            raise StartupError(str(exc)) from None
        except Exception as exc:
            raise StartupError(f"[nitro] {spec.file} failed to import: {type(exc).__name__}: {exc}") from exc
    return spec


def _describe(spec: Any) -> str:
    if isinstance(spec, ModuleRef):
        return spec.file
    return getattr(spec, "name", None) or getattr(spec, "__qualname__", None) or repr(spec)
