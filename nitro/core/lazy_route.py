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

    `call` runs the directory's middleware (`scoped`), then the handler's `call`.
    """

    __slots__ = ("call", "entry", "handler", "root", "scoped")

    def __init__(self, root: Path, entry: RouteEntry, handler: EventHandler | None = None) -> None:
        self.root = root
        self.entry = entry
        self.handler = handler
        self.scoped: tuple[Middleware, ...] = ()
        self.call: Callable[[Event], Any] | None = handler.call if handler is not None else None

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
        call = handler.call
        if entry.middleware:
            kinds = (Middleware, EventHandler)
            self.scoped = tuple(
                as_middleware(ModuleRef(self.root, f, None, kinds, prefer="handler").load(), f)
                for f in entry.middleware
            )
            call = chain_middleware(self.scoped, call)
        self.handler = handler
        self.call = call
        return call

    def __repr__(self) -> str:
        return f"<LazyRoute {self.entry.route} {self.entry.file}>"
