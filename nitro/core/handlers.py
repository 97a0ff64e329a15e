"""`define_handler`, `define_middleware` and `define_plugin`.

A handler is called with the event; async functions are awaited, sync ones run in
a worker thread so they never block the event loop. Parameters may also be
typed (beyond Nitro): one annotated with a pydantic model is read and validated
from the body, one named like a route param receives that param.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .event import Event

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
]

F = TypeVar("F", bound=Callable[..., Any])
Caller = Callable[[Event], Awaitable[Any]]


def is_async_callable(fn: object) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with `async def __call__`
    )


async def maybe_await(value: Any) -> Any:
    """`value`, awaited when it is awaitable: what a hook that may be sync or async returned."""
    return await value if inspect.isawaitable(value) else value


class EventHandler:
    """A route handler made by `define_handler` (``await handler.call(event)``)."""

    __slots__ = ("body_model", "call", "fn", "meta", "middleware", "name")

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        middleware: Sequence[Callable[..., Any]] = (),
        meta: dict[str, Any] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"[nitro] define_handler() needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn))
        self.meta = meta or {}
        self.middleware = tuple(as_middleware(m) for m in middleware)
        self.call, self.body_model = _make_caller(fn)
        if self.middleware:
            self.call = chain_middleware(self.middleware, self.call)

    async def __call__(self, event: Event) -> Any:
        return await self.call(event)

    def __repr__(self) -> str:
        return f"<EventHandler {self.name}>"


class Middleware:
    """A middleware made by `define_middleware`: returning anything but None ends the request."""

    __slots__ = ("call", "fn", "name")

    fn: Callable[..., Any]

    def __init__(self, fn: Callable[..., Any]) -> None:
        if isinstance(fn, (Middleware, EventHandler)):
            fn = fn.fn
        if not callable(fn):
            raise TypeError(
                f"[nitro] define_middleware() needs a function, got {type(fn).__name__}"
            )
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn))
        self.call: Caller = _event_caller(fn)

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
        await maybe_await(self.fn(app))

    def __repr__(self) -> str:
        return f"<Plugin {self.name}>"


@overload
def define_handler(fn: Callable[..., Any], /) -> EventHandler: ...
@overload
def define_handler(
    *, middleware: Sequence[Callable[..., Any]] = (), meta: dict[str, Any] | None = None
) -> Callable[[Callable[..., Any]], EventHandler]: ...
def define_handler(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    middleware: Sequence[Callable[..., Any]] = (),
    meta: dict[str, Any] | None = None,
) -> EventHandler | Callable[[Callable[..., Any]], EventHandler]:
    """Make a route handler; also a decorator, with or without options.

    Example (``routes/users/[id].py``)::

        from nitro import define_handler

        @define_handler
        async def handler(event):
            return {"id": event.params["id"]}

    `middleware` runs before this handler only. Sync functions run in a thread.
    """
    if fn is None:
        return lambda f: EventHandler(f, middleware=middleware, meta=meta)
    return EventHandler(fn, middleware=middleware, meta=meta)


def define_middleware(fn: Callable[..., Any]) -> Middleware:
    """Make a middleware: ``fn(event)``; return None to continue, anything else to answer.

    Example (``middleware/01.auth.py``)::

        from nitro import HTTPError, define_middleware

        @define_middleware
        async def auth(event):
            if event.pathname.startswith("/admin") and "authorization" not in event.headers:
                raise HTTPError(401)
    """
    return Middleware(fn)


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
        return Middleware(value.fn)
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


def _event_caller(fn: Callable[..., Any]) -> Caller:
    if is_async_callable(fn):
        return fn
    import anyio.to_thread  # here: an app of async handlers never needs it

    return functools.partial(anyio.to_thread.run_sync, fn)


def _make_caller(fn: Callable[..., Any]) -> tuple[Caller, type | None]:
    """A coroutine function ``call(event)`` for `fn`, and its body model if it has one."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return _event_caller(fn), None
    params = list(signature.parameters.values())
    if len(params) == 1 and params[0].annotation in (inspect.Parameter.empty, Event, "Event"):
        return _event_caller(fn), None
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
        import anyio.to_thread

        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    return call, body_model


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
