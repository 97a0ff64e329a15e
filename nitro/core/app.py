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
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from .background import Background
from .context import app_started, app_stopped, current_app, current_event, finish_request
from .error_response import respond_to_error
from .errors import HTTPError
from .event import Event
from .handlers import EventHandler, Middleware, Plugin, as_middleware, define_handler
from .hooks import Hooks
from .lazy_route import LazyRoute
from .lifespan import AppLifespan, serve_lifespan
from .loader import LoadError, ModuleRef, describe, resolve
from .manifest import RouteEntry
from .observe import Observer, observer_for
from .paths import canonical_path, strip_base
from .response import PlainResponse, plain_response, send_response, starlette_response, to_response
from .route_rules import RouteRules, add_rule_headers, apply_rules, rule_cache
from .router import Router
from .runtime_config import RuntimeConfig
from .server_app import AnsweredError, Held404, call_server_app
from .settings import AppSettings
from .storage import Storage
from .sync import run_user_code
from .tasks import TaskRegistry
from .utils.static import PublicLookup, serve_public

if TYPE_CHECKING:
    from .database import Database
    from .pubsub import Hub
    from .response import AnyResponse
    from .scheduler import Scheduler

__all__ = ["NitroApp", "StartupError"]

logger = logging.getLogger("nitro")


class StartupError(RuntimeError):
    """A plugin, middleware or server entry failed while the app was starting."""


class NitroApp:
    """An ASGI application built from file routes, middleware, plugins and hooks.

    Usually made for you from a project (`nitro dev`, `nitro build`,
    `nitro.testing`); it can also be built in code::

        app = NitroApp()
        app.add_route("/hello", define_handler(lambda event: {"hello": "world"}))
    """

    def __init__(
        self,
        settings: AppSettings | None = None,
        /,
        *,
        root: str | Path | None = None,
        routes: Iterable[RouteEntry] = (),
        middleware: Iterable[Middleware | ModuleRef | Callable[..., Any]] = (),
        plugins: Iterable[Plugin | ModuleRef | Callable[..., Any]] = (),
        public: PublicLookup | None = None,
        storage: Storage | None = None,
        server_handler: EventHandler | ModuleRef | Callable[..., Any] | None = None,
        server_app: ASGIApp | ModuleRef | None = None,
        **options: Any,
    ) -> None:
        """`settings` (or the same options as keywords: ``NitroApp(dev=True)``) say how
        it behaves; the other arguments are what it is made of."""
        if settings is None:
            settings = AppSettings(**options)
        elif options:
            settings = settings.replace(**options)
        self.root = Path(root).resolve() if root is not None else Path.cwd()
        # The settings, as attributes the request path reads directly.
        self.dev = settings.dev
        self.sync_to_thread = settings.sync_to_thread
        self.max_body_size = settings.max_body_size
        base = settings.base_url.strip("/")
        self.base_url = "/" + base if base else "/"
        self.error_handler = settings.error_handler
        self.serverless = settings.serverless
        self.log_requests = settings.log_requests
        self.shutdown_timeout = float(settings.shutdown_timeout)
        self.runtime_config = (
            settings.runtime_config
            if isinstance(settings.runtime_config, RuntimeConfig)
            else RuntimeConfig(settings.runtime_config)
        )
        self.route_rules = RouteRules(settings.route_rules)
        self.websocket_options: dict[str, Any] = dict(settings.websocket)
        # What it is made of.
        self.hooks = Hooks(self.run_user_code)
        self.router: Router[LazyRoute] = Router()
        self.public = public
        self.storage = storage if storage is not None else Storage()
        self.state: dict[str, Any] = {"rule_caches": {}}
        self.tasks = TaskRegistry(to_thread=lambda: self.sync_to_thread, report=self.capture_error)
        self.databases: dict[str, Database] = {}
        self.scheduler: Scheduler | None = None
        self.middleware: list[Middleware] = []
        self.server_handler: Middleware | None = None
        self.server_app: ASGIApp | None = None
        # What answers a request no route takes (after server.py's app, if it 404s):
        # the front-end's SPA fallback, or Vite's dev server in `nitro dev`. None
        # declines: the request gets the 405/404 it would have had.
        self.fallback: Callable[[Event], Awaitable[AnyResponse | None]] | None = None
        # Where a WebSocket upgrade no route takes goes (Vite's hot reload in dev).
        self.websocket_fallback: ASGIApp | None = None
        self.background = Background(self.capture_error)
        # JSON logs or tracing (nitro.core.observe), from the environment at start-up.
        self.observer: Observer | None = None
        self._hub: Hub | None = None
        self._middleware_specs: list[Any] = list(middleware)
        self._plugin_specs: list[Any] = list(plugins)
        self._server_specs = (server_handler, server_app)
        self._server_app_lifespan: AppLifespan | None = None
        self._started = False
        self._startup_lock = asyncio.Lock()  # binds to a loop on first use, not here
        self._request_hooks = self.hooks.list("request")
        self._response_hooks = self.hooks.list("response")
        self._after_hooks = self.hooks.list("after_response")
        for entry in routes:
            self.add_entry(entry)

    # --- building in code ---

    def add_entry(self, entry: RouteEntry) -> None:
        """Register a file route; its module is imported on its first request."""
        self.router.add(entry.route, LazyRoute(self.root, entry), entry.method)

    def add_route(
        self, route: str, handler: EventHandler | Callable[..., Any], method: str | None = None
    ) -> None:
        """Register a handler for `route` (router notation) and `method` (None: any)."""
        handler = handler if isinstance(handler, EventHandler) else define_handler(handler)
        entry = RouteEntry(route=route, file="<code>", method=method.lower() if method else None)
        self.router.add(route, LazyRoute(self.root, entry, handler), method)

    def use(self, middleware: Middleware | Callable[..., Any]) -> None:
        """Append a global middleware (after the ones from `middleware/`)."""
        if self._started:
            self.middleware.append(as_middleware(middleware))
        else:
            self._middleware_specs.append(middleware)

    # --- lifecycle ---

    async def startup(self) -> None:
        """Load middleware and the server entry, run plugins (once)."""
        if self._started:
            return
        async with self._startup_lock:
            if self._started:
                return
            # The current app for plugins, and for the tasks they and the scheduler start.
            current_app.set(self)
            handler_spec, app_spec = self._server_specs
            try:
                self.middleware = [
                    as_middleware(resolve(s), describe(s)) for s in self._middleware_specs
                ]
                if handler_spec is not None:
                    self.server_handler = as_middleware(
                        resolve(handler_spec), describe(handler_spec)
                    )
                server_app = resolve(app_spec)
            except (LoadError, TypeError) as exc:
                raise StartupError(str(exc)) from exc
            if server_app is not None:
                from .server_app import as_asgi

                try:
                    self.server_app = as_asgi(server_app)
                except TypeError as exc:
                    raise StartupError(f"[nitro] {describe(app_spec)}: {exc}") from None
            for plugin in self._plugin_specs:
                await self._run_plugin(plugin)
            if self.server_app is not None:
                lifespan = AppLifespan(self.server_app)
                try:
                    await lifespan.start()
                except Exception as exc:
                    raise StartupError(f"[nitro] server.py app failed to start: {exc}") from exc
                self._server_app_lifespan = lifespan
            if self.scheduler is not None:
                self.scheduler.start()
            if self.observer is None:
                self.observer = observer_for(self)
            self._started = True
            app_started(self)

    async def _run_plugin(self, spec: Any) -> None:
        try:
            value = resolve(spec)
            plugin = value if isinstance(value, Plugin) else Plugin(value)
            await plugin.run(self)
        except Exception as exc:
            raise StartupError(
                f"[nitro] plugin {describe(spec)} failed: {type(exc).__name__}: {exc}"
            ) from exc

    async def shutdown(self) -> None:
        """Stop the scheduler, wait for running tasks and background work (up to
        `shutdown_timeout`), then run the `close` hooks."""
        if self.scheduler is not None:
            await self.scheduler.stop(self.shutdown_timeout)
        await self.background.drain(self.shutdown_timeout)
        try:
            await self.hooks.call("close")
        finally:
            if self._server_app_lifespan is not None:
                await self._server_app_lifespan.stop()
                self._server_app_lifespan = None
            self._started = False
            app_stopped(self)

    # --- ASGI ---

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.observer is None:
                await self.handle(scope, receive, send)
            else:  # a request id, an access line, a span around `handle`
                await self.observer.handle(scope, receive, send)
        elif kind == "lifespan":
            await serve_lifespan(self, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request."""
        if not self._started:
            await self.startup()
            if self.observer is not None:  # the first request too
                return await self.observer.handle(scope, receive, send)
        event = Event(self, scope, receive, send)
        token = current_event.set(event)
        started = time.perf_counter() if self.log_requests else 0.0
        response: AnyResponse | None = None
        torn: BaseException | None = None
        try:
            try:
                response = await self.dispatch(event)
            except AnsweredError as late:
                # server.py's app raised after it began its answer: nothing may be sent
                # on top of it. Report the error; a torn answer must also reach the
                # server, which then drops the connection instead of ending the body.
                await self.capture_error(late.error, event)
                if not late.complete:
                    torn = late.error
            except Exception as error:
                response = await respond_to_error(self, error, event)
            if response is not None:
                staged = event._res
                if staged is not None and staged.final_headers is not None:
                    add_rule_headers(response, staged.final_headers)
                if self._response_hooks:
                    response = await self._run_response_hooks(event, response)
                try:
                    if type(response) is PlainResponse and scope["method"] != "HEAD":
                        # send_response's plain case, inlined: the extra coroutine
                        # call costs about 3% of an in-process request.
                        await send(
                            {
                                "type": "http.response.start",
                                "status": response.status_code,
                                "headers": response.raw_headers,
                            }
                        )
                        await send({"type": "http.response.body", "body": response.body})
                    else:
                        await send_response(response, scope, receive, send)
                except Exception as error:
                    await self.capture_error(error, event)
            if self._after_hooks:
                seen = None if response is None else starlette_response(response)
                await self.hooks.call("after_response", event, seen)
        finally:
            current_event.reset(token)
            if event._cleanups is not None or event.pending is not None:
                await finish_request(event)
            if self.log_requests:
                status = response.status_code if response is not None else "-"
                elapsed = (time.perf_counter() - started) * 1000
                logger.info("%s %s %s %.1fms", event.method, event.path, status, elapsed)
        if torn is not None:
            raise torn

    async def dispatch(self, event: Event) -> AnyResponse | None:
        """Route `event` through rules, public assets, middleware, the server entry and
        the router, and return the answer without sending it; None when server.py's app
        answered itself. Errors propagate (`handle` turns them into error responses)."""
        pathname = canonical_path(event.scope)
        if self.base_url != "/":
            pathname = strip_base(pathname, self.base_url)
        event.pathname = pathname
        if self._request_hooks:
            await self.hooks.call("request", event)
        method = event.method
        rules = None
        if self.route_rules:
            rules = self.route_rules.resolve(method, pathname)
            if rules:
                answered = await apply_rules(self, event, rules)
                if answered is not None:
                    return answered
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
            if self.fallback is not None:
                return await self._fallback(event, pathname)
            if self.server_app is not None:
                await self._call_server_app(event)
                return None
            self._no_route(method, pathname)
        route, params = match
        if params:
            for name, value in params.items():
                if "%" in value:
                    params[name] = unquote(value)
            event.params = params
        call = route.call or route.load()
        if rules and ("cache" in rules or "swr" in rules):
            call = rule_cache(self, route, rules)
        result = await call(event)
        return plain_response(event, result) or await to_response(event, result)

    async def _fallback(self, event: Event, pathname: str) -> AnyResponse | None:
        """No route matched: server.py's app, then (for what it answers 404) `fallback`,
        then the 405 or 404 the request would have had without them."""
        assert self.fallback is not None
        if self.server_app is not None:
            held = Held404(event.send)
            await self._call_server_app(event, held)
            if not held.messages:
                return None  # server.py's app answered
        else:
            held = None
        answered = await self.fallback(event)
        if answered is not None:
            return answered
        if held is not None:
            await held.replay()  # nobody else answers: server.py's own 404 stands
            return None
        self._no_route(event.method, pathname)

    def _no_route(self, method: str, pathname: str) -> NoReturn:
        """The 405 (a route takes `pathname` with other methods) or the 404."""
        allowed = self.router.allowed_methods(pathname)
        if allowed:
            raise HTTPError(405, headers={"allow": ", ".join(allowed)})
        raise HTTPError(404, f"Cannot find any route matching [{method}] {pathname}")

    async def _call_server_app(self, event: Event, send: Send | None = None) -> None:
        assert self.server_app is not None
        lifespan = self._server_app_lifespan
        state = lifespan.state if lifespan is not None else None
        await call_server_app(self.server_app, event, state, send or event.send)

    async def _run_response_hooks(self, event: Event, response: AnyResponse) -> AnyResponse:
        response = starlette_response(response)  # what hooks are promised
        try:
            await self.hooks.call("response", event, response)
        except Exception as error:
            response = await respond_to_error(self, error, event)
        return response

    async def capture_error(
        self, error: BaseException, event: Event | None = None, *, log: bool = True
    ) -> None:
        """Report `error` like a request error: logged when unexpected (``log=False``
        when the caller logged it already), then the `error` hooks."""
        if log and not isinstance(error, HTTPError):
            where = f" on {event.method} {event.path}" if event is not None else ""
            logger.error("[nitro] unhandled %s%s", type(error).__name__, where, exc_info=error)
        if self.hooks.has("error"):
            try:
                await self.hooks.call("error", error, event)
            except Exception:
                logger.exception("[nitro] an error hook failed")

    async def run_user_code(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, sync or async: a sync function inline or on a worker thread,
        as this app's `sync_to_thread` says (hooks, plugins, tasks, callbacks)."""
        return await run_user_code(fn, *args, to_thread=self.sync_to_thread)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._started:
            await self.startup()
        from .websocket_session import serve_websocket  # only apps taking WebSockets

        await serve_websocket(self, scope, receive, send)

    @property
    def hub(self) -> Hub:
        """The WebSocket peers and topics of this app (over Redis with ``websocket["redis_url"]``)."""
        if self._hub is None:
            from .pubsub import Hub

            self._hub = Hub.for_options(self.websocket_options)
            self.hooks.hook("close", self._hub.close)
        return self._hub

    def __repr__(self) -> str:
        return f"<NitroApp {self.root} routes={len(self.router)}>"
