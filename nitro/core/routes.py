"""A file route in the router: its module is imported on the route's first request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import HTTPError
from .event import Event
from .handlers import EventHandler, Middleware, as_middleware, chain_middleware, define_handler
from .loader import LoadError, ModuleRef
from .manifest import RouteEntry

__all__ = ["LazyRoute"]


class LazyRoute:
    """A router value. `call` is None until `load()` imports the module (once).

    `call` runs the route's middleware (its folder's, then the handler's own), then
    the handler. A response cache goes between the two (`cacheable`): middleware
    such as auth must see the real request, and run on cache hits too.
    """

    __slots__ = ("cacheable", "call", "entry", "guards", "handler", "root")

    def __init__(self, root: Path, entry: RouteEntry, handler: EventHandler | None = None) -> None:
        self.root = root
        self.entry = entry
        self.handler = handler
        self.call: Callable[[Event], Any] | None = None
        self.guards: tuple[Middleware, ...] = ()
        self.cacheable: EventHandler | None = None
        if handler is not None:
            self._set(handler, [])

    def load(self) -> Callable[[Event], Any]:
        """Import the route's module and its directory middleware; return the caller."""
        entry = self.entry
        if entry.problem:
            raise HTTPError(500, f"{entry.file}: {entry.problem}")
        value = ModuleRef(self.root, entry.file, entry.export, (EventHandler,)).load()
        if isinstance(value, EventHandler):
            handler = value
        elif callable(value):
            handler = define_handler(value)
        else:
            raise LoadError(f"[nitro] {entry.file}: {entry.export or 'handler'} is not callable")
        scoped: list[Middleware] = []
        if entry.middleware:
            kinds = (Middleware, EventHandler)
            scoped = [
                as_middleware(ModuleRef(self.root, f, None, kinds).load(), f)
                for f in entry.middleware
            ]
        return self._set(handler, scoped)

    def _set(self, handler: EventHandler, scoped: list[Middleware]) -> Callable[[Event], Any]:
        call = handler.call
        self.guards = tuple(scoped)
        self.cacheable = handler
        if handler.middleware and type(handler) is EventHandler:
            # the handler's own middleware, kept apart from the function behind it
            self.guards += handler.middleware
            self.cacheable = EventHandler(handler.fn, meta=handler.meta)
        if scoped:
            call = chain_middleware(scoped, call)
        self.handler = handler
        self.call = call
        return call

    def cacheable_handler(self) -> tuple[tuple[Middleware, ...], EventHandler]:
        """(middleware to run first, on every request; the handler a cache may answer for)."""
        if self.cacheable is None:
            self.load()
        assert self.cacheable is not None
        return self.guards, self.cacheable

    def __repr__(self) -> str:
        return f"<LazyRoute {self.entry.route} {self.entry.file}>"
