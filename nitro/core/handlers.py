"""`define_handler`, `define_middleware` and `define_plugin`.

A handler is called with the event; async functions are awaited, sync ones run
inline or on a worker thread as `sync_to_thread` says (the function's own value,
else the app's: see `sync.py`). Parameters may also be typed (beyond Nitro): one
annotated with a pydantic model is read and validated from the body, one named like
a route param receives that param.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .event import Event
from .sync import is_async_callable, maybe_await, run_in_thread, run_user_code

if TYPE_CHECKING:
    from .app import NitroApp

__all__ = [
    "EventHandler",
    "Middleware",
    "Plugin",
    "as_middleware",
    "chain_middleware",
    "define_handler",
    "define_middleware",
    "define_plugin",
    "is_async_callable",
    "maybe_await",
]

F = TypeVar("F", bound=Callable[..., Any])
Caller = Callable[[Event], Awaitable[Any]]


class EventHandler:
    """A route handler made by `define_handler` (``await handler.call(event)``)."""

    __slots__ = (
        "body_model",
        "call",
        "fn",
        "invoke",
        "meta",
        "middleware",
        "name",
        "sync_to_thread",
    )

    sync_to_thread: bool | None

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        middleware: Sequence[Callable[..., Any]] = (),
        meta: dict[str, Any] | None = None,
        sync_to_thread: bool | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"[nitro] define_handler() needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn))
        self.meta = meta or {}
        self.sync_to_thread = _check_sync_to_thread(sync_to_thread)
        self.middleware = tuple(as_middleware(m) for m in middleware)
        # `invoke` runs the function alone; `call` runs its middleware first. A cache
        # wraps `invoke`, so that middleware (auth) runs on cache hits too.
        self.invoke, self.body_model = _make_caller(fn, self.sync_to_thread)
        self.call = (
            chain_middleware(self.middleware, self.invoke) if self.middleware else self.invoke
        )

    async def __call__(self, event: Event) -> Any:
        return await self.call(event)

    def __repr__(self) -> str:
        return f"<EventHandler {self.name}>"


class Middleware:
    """A middleware made by `define_middleware`: returning anything but None ends the request."""

    __slots__ = ("call", "fn", "name", "sync_to_thread")

    fn: Callable[..., Any]
    sync_to_thread: bool | None

    def __init__(self, fn: Callable[..., Any], *, sync_to_thread: bool | None = None) -> None:
        if isinstance(fn, (Middleware, EventHandler)):
            if sync_to_thread is None:
                sync_to_thread = fn.sync_to_thread
            fn = fn.fn
        if not callable(fn):
            raise TypeError(
                f"[nitro] define_middleware() needs a function, got {type(fn).__name__}"
            )
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn))
        self.sync_to_thread = _check_sync_to_thread(sync_to_thread)
        self.call: Caller = _event_caller(fn, self.sync_to_thread)

    async def __call__(self, event: Event) -> Any:
        return await self.call(event)

    def __repr__(self) -> str:
        return f"<Middleware {self.name}>"


class Plugin:
    """A plugin made by `define_plugin`: ``fn(nitro_app)``, run once at start-up."""

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable[[NitroApp], Any]) -> None:
        if not callable(fn):
            raise TypeError(f"[nitro] define_plugin() needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn))

    async def run(self, app: NitroApp) -> None:
        await run_user_code(self.fn, app, to_thread=app.sync_to_thread)

    def __repr__(self) -> str:
        return f"<Plugin {self.name}>"


@overload
def define_handler(
    fn: Callable[..., Any],
    /,
    *,
    middleware: Sequence[Callable[..., Any]] = (),
    meta: dict[str, Any] | None = None,
    sync_to_thread: bool | None = None,
) -> EventHandler: ...
@overload
def define_handler(
    *,
    middleware: Sequence[Callable[..., Any]] = (),
    meta: dict[str, Any] | None = None,
    sync_to_thread: bool | None = None,
) -> Callable[[Callable[..., Any]], EventHandler]: ...
def define_handler(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    middleware: Sequence[Callable[..., Any]] = (),
    meta: dict[str, Any] | None = None,
    sync_to_thread: bool | None = None,
) -> EventHandler | Callable[[Callable[..., Any]], EventHandler]:
    """Make a route handler; also a decorator, with or without options.

    Example (``routes/users/[id].py``)::

        from nitro import define_handler

        @define_handler
        def handler(event):
            return {"id": event.params["id"]}

    `middleware` runs before this handler only. A sync function runs on a worker
    thread or inline on the event loop: `sync_to_thread` (True or False) decides for
    this handler; None leaves it to the config's `sync_to_thread`, then the preset.
    """
    if fn is None:
        return lambda f: EventHandler(
            f, middleware=middleware, meta=meta, sync_to_thread=sync_to_thread
        )
    return EventHandler(fn, middleware=middleware, meta=meta, sync_to_thread=sync_to_thread)


@overload
def define_middleware(
    fn: Callable[..., Any], /, *, sync_to_thread: bool | None = None
) -> Middleware: ...
@overload
def define_middleware(
    *, sync_to_thread: bool | None = None
) -> Callable[[Callable[..., Any]], Middleware]: ...
def define_middleware(
    fn: Callable[..., Any] | None = None, /, *, sync_to_thread: bool | None = None
) -> Middleware | Callable[[Callable[..., Any]], Middleware]:
    """Make a middleware: ``fn(event)``; return None to continue, anything else to answer.

    Example (``middleware/01.auth.py``)::

        from nitro import HTTPError, define_middleware

        @define_middleware
        def auth(event):
            if event.pathname.startswith("/admin") and "authorization" not in event.headers:
                raise HTTPError(401)

    `sync_to_thread` is `define_handler`'s: ``@define_middleware(sync_to_thread=False)``
    runs a quick sync check inline, without a hop to a worker thread.
    """
    if fn is None:
        return lambda f: Middleware(f, sync_to_thread=sync_to_thread)
    return Middleware(fn, sync_to_thread=sync_to_thread)


def define_plugin(fn: Callable[[NitroApp], Any]) -> Plugin:
    """Make a plugin: ``fn(nitro_app)`` runs once at start-up (sync or async).

    Example (``plugins/01.timing.py``)::

        from nitro import define_plugin

        @define_plugin
        def plugin(nitro_app):
            nitro_app.hooks.hook("request", lambda event: print(event.path))
    """
    return Plugin(fn)


def as_middleware(value: object, where: str = "") -> Middleware:
    """`value` as a `Middleware`: a Middleware, an EventHandler's function, or a callable."""
    if isinstance(value, Middleware):
        return value
    if isinstance(value, EventHandler):
        return Middleware(value.fn, sync_to_thread=value.sync_to_thread)
    if callable(value):
        return Middleware(value)
    raise TypeError(f"[nitro] {where or repr(value)} is not a middleware (a function of the event)")


def chain_middleware(middleware: Sequence[Middleware], call: Caller) -> Caller:
    """`call` behind `middleware`: the first one that returns a value answers instead."""

    async def run(event: Event) -> Any:
        for mw in middleware:
            result = await mw.call(event)
            if result is not None:
                return result
        return await call(event)

    return run


# --- Internal helpers ---

_EVENT, _BODY, _PARAM = 0, 1, 2


def _check_sync_to_thread(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"[nitro] sync_to_thread must be True, False or None, got {value!r}")
    return value


def _event_caller(fn: Callable[..., Any], to_thread: bool | None) -> Caller:
    """``await call(event)`` for ``fn(event)``: async as is; sync inline, on a worker
    thread, or (None) as the request's app says."""
    if is_async_callable(fn):
        return fn
    if to_thread is None:

        async def call(event: Event) -> Any:
            if event.app.sync_to_thread:
                return await run_in_thread(fn, event)
            return fn(event)

    elif to_thread:

        async def call(event: Event) -> Any:
            return await run_in_thread(fn, event)

    else:

        async def call(event: Event) -> Any:
            return fn(event)

    return call


def _make_caller(fn: Callable[..., Any], to_thread: bool | None) -> tuple[Caller, type | None]:
    """A coroutine function ``call(event)`` for `fn`, and its body model if it has one."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return _event_caller(fn, to_thread), None
    params = list(signature.parameters.values())
    if len(params) == 1 and params[0].annotation in (inspect.Parameter.empty, Event, "Event"):
        return _event_caller(fn, to_thread), None
    hints = _type_hints(fn)
    plan: list[tuple[inspect.Parameter, int, Any]] = []
    body_model: type | None = None
    for index, param in enumerate(params):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(param.name, param.annotation)
        if _is_model(annotation):
            if body_model is not None:
                raise TypeError(
                    f"[nitro] handler {fn.__qualname__}: only one parameter can be read "
                    f"from the body ({param.name!r} is the second)"
                )
            body_model = annotation
            plan.append((param, _BODY, annotation))
        elif (
            annotation is Event
            or param.name == "event"
            or (index == 0 and annotation is inspect.Parameter.empty)
        ):
            plan.append((param, _EVENT, None))
        else:
            plan.append((param, _PARAM, annotation))
    is_async = is_async_callable(fn)

    async def call(event: Event) -> Any:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for param, kind, annotation in plan:
            if kind == _EVENT:
                value: Any = event
            elif kind == _BODY:
                from .utils.body import read_validated_body

                value = await read_validated_body(event, annotation)
            else:
                if param.name not in event.params:
                    if param.default is not param.empty:
                        continue
                    raise TypeError(
                        f"[nitro] handler {fn.__qualname__}: parameter {param.name!r} is not the "
                        "event, a pydantic model or a route param"
                    )
                value = _convert_param(param.name, event.params[param.name], annotation)
            if param.kind == param.KEYWORD_ONLY:
                kwargs[param.name] = value
            else:
                args.append(value)
        if is_async:
            return await fn(*args, **kwargs)
        if event.app.sync_to_thread if to_thread is None else to_thread:
            return await run_in_thread(_apply, fn, args, kwargs)
        return fn(*args, **kwargs)

    return call, body_model


def _apply(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    return fn(*args, **kwargs)


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:
        return {}


def _is_model(annotation: Any) -> bool:
    # Duck-typed so that nitro never imports pydantic itself.
    return (
        isinstance(annotation, type)
        and hasattr(annotation, "model_validate")
        and hasattr(annotation, "model_fields")
    )


def _convert_param(name: str, value: str, annotation: Any) -> Any:
    if annotation in (inspect.Parameter.empty, str, Any):
        return value
    if annotation in (int, float):
        try:
            return annotation(value)
        except ValueError:
            from .errors import HTTPError

            raise HTTPError(
                400,
                f"Route param {name!r} must be {'an integer' if annotation is int else 'a number'}",
                data={"param": name, "value": value},
            ) from None
    return value
