"""Runtime hooks: `request`, `response`, `after_response`, `error`, `close`.

Signatures: ``request(event)``, ``response(event, response)``,
``after_response(event, response)``, ``error(error, event)``, ``close()``.
Hooks may be sync or async; they run in the order they were added, a sync one
inline or on a worker thread as the app's `sync_to_thread` says. Other names
are allowed too, for plugins that call ``await hooks.call("my:hook", ...)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Hooks"]

KNOWN = ("request", "response", "after_response", "error", "close")


class Hooks:
    """A registry of named hook lists (``nitro_app.hooks``).

    Example::

        unhook = nitro_app.hooks.hook("response", lambda event, response: ...)
        unhook()  # removes it again
    """

    def __init__(self, run: Callable[..., Awaitable[Any]] | None = None) -> None:
        # How a hook is called (the app's `run_user_code`); None: sync hooks inline.
        self._run = run
        # One list object per name, kept for the app's lifetime so the request path
        # can hold a direct reference and test it for emptiness.
        self._lists: dict[str, list[Callable[..., Any]]] = {name: [] for name in KNOWN}

    def hook(self, name: str, fn: Callable[..., Any]) -> Callable[[], None]:
        """Add `fn` to hook `name`; returns a function that removes it."""
        if not callable(fn):
            raise TypeError(
                f"[nitro:hooks] hook {name!r} needs a callable, got {type(fn).__name__}"
            )
        hooks = self._lists.setdefault(name, [])
        hooks.append(fn)

        def unregister() -> None:
            if fn in hooks:
                hooks.remove(fn)

        return unregister

    def hook_once(self, name: str, fn: Callable[..., Any]) -> Callable[[], None]:
        """Add `fn` to hook `name` for one call only."""

        def once(*args: Any) -> Any:
            unregister()
            return fn(*args)

        unregister = self.hook(name, once)
        return unregister

    def list(self, name: str) -> list[Callable[..., Any]]:
        """The live list of hooks for `name` (do not mutate; use `hook`)."""
        return self._lists.setdefault(name, [])

    async def call(self, name: str, *args: Any) -> None:
        """Call every hook for `name` in order, awaiting async ones."""
        run = self._run
        for fn in tuple(self._lists.get(name, ())):
            if run is not None:
                await run(fn, *args)
                continue
            result = fn(*args)
            if inspect.isawaitable(result):
                await result

    def has(self, name: str) -> bool:
        return bool(self._lists.get(name))
