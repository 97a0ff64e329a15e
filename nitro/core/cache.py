"""Caching with stale-while-revalidate: `define_cached_function` and the engine
`define_cached_handler` (cache_handler.py) shares.

An entry moves through explicit states::

    miss ──compute──▶ fresh ──max_age──▶ stale ──stale window──▶ (gone)
                        ▲                  │ swr: served at once,
                        └──── refreshed ◀──┘ refreshed in the background

Concurrent misses (and refreshes) of one key compute once. Every entry is stored
with a TTL (`max_age` plus the stale window), so nothing piles up. A failed
refresh keeps the old entry and goes to the `error` hook; a storage failure falls
back to computing the value, never to an error.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import marshal
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

__all__ = ["CacheOptions", "CachedFunction", "Engine", "define_cached_function"]

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_STALE_WINDOW = 24 * 3600  # stale_max_age=None: serve stale for up to a day
_UNCACHEABLE = object()


class CacheOptions:
    """The options shared by cached functions and handlers (snake_case Nitro options)."""

    def __init__(
        self,
        *,
        max_age: float = 1,
        swr: bool = True,
        stale_max_age: float | None = None,
        name: str | None = None,
        group: str = "nitro/functions",
        get_key: Callable[..., Any] | None = None,
        base: str = "cache",
        should_bypass_cache: Callable[..., Any] | None = None,
        should_invalidate_cache: Callable[..., Any] | None = None,
    ) -> None:
        self.max_age = max_age
        self.swr = swr
        self.stale_max_age = stale_max_age
        self.name = name
        self.group = group
        self.get_key = get_key
        self.base = base
        self.should_bypass_cache = should_bypass_cache
        self.should_invalidate_cache = should_invalidate_cache

    @property
    def stale_window(self) -> float:
        if not self.swr:
            return 0
        return DEFAULT_STALE_WINDOW if self.stale_max_age is None else max(self.stale_max_age, 0)


class Engine:
    """The state machine over storage, for one cached function or handler."""

    def __init__(self, options: CacheOptions, name: str, integrity: str) -> None:
        self.options = options
        self.name = name
        self.integrity = integrity
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._refreshing: dict[str, asyncio.Future[Any]] = {}
        self._background: set[asyncio.Future[Any]] = set()

    def storage_key(self, key: str) -> str:
        return f"{self.options.base}:{self.options.group}:{self.name}:{key}.json"

    async def resolve(
        self, key: str, compute: Callable[[], Awaitable[Any]], *, invalidate: bool = False
    ) -> tuple[Any, dict[str, Any] | None, str]:
        """(value, entry, state): state is "hit", "stale", "miss" or "bypass"."""
        storage_key = self.storage_key(key)
        storage = _storage()
        try:
            entry = None if invalidate else await storage.get_item(storage_key)
        except Exception as exc:  # a storage outage must not become an error page
            await _report(exc)
            return await compute(), None, "bypass"
        now = time.time()
        if self._valid(entry):
            assert entry is not None
            if entry["expires"] > now:
                return entry["value"], entry, "hit"
            if self.options.swr and entry["stale_until"] > now:
                self._refresh_in_background(storage_key, compute)
                return entry["value"], entry, "stale"
        entry = await self._fill(storage_key, compute, self._pending)
        if entry is _UNCACHEABLE:  # not shared: this caller computes its own
            return await compute(), None, "bypass"
        if isinstance(entry, _Computed):
            return entry.value, None, "miss"
        return entry["value"], entry, "miss"

    def _valid(self, entry: Any) -> bool:
        return (
            isinstance(entry, dict)
            and entry.get("integrity") == self.integrity
            and isinstance(entry.get("expires"), (int, float))
            and isinstance(entry.get("stale_until"), (int, float))
        )

    async def _fill(
        self,
        storage_key: str,
        compute: Callable[[], Awaitable[Any]],
        pending: dict[str, asyncio.Future[Any]],
    ) -> Any:
        running = pending.get(storage_key)
        if running is not None:
            result = await asyncio.shield(running)
            # A value that must not be cached (a response with Set-Cookie, say) is
            # never handed to the other waiters: each computes its own.
            return (
                _UNCACHEABLE if isinstance(result, _Computed) and not result.shareable else result
            )
        future = asyncio.ensure_future(self._compute_and_store(storage_key, compute))
        pending[storage_key] = future
        future.add_done_callback(lambda _: pending.pop(storage_key, None))
        return await asyncio.shield(future)

    async def _compute_and_store(
        self, storage_key: str, compute: Callable[[], Awaitable[Any]]
    ) -> Any:
        value = await compute()
        if isinstance(value, _Computed):
            return value
        now = time.time()
        ttl = self.options.max_age + self.options.stale_window
        entry = {
            "value": value,
            "mtime": now,
            "expires": now + self.options.max_age,
            "stale_until": now + ttl,
            "integrity": self.integrity,
        }
        if self.options.max_age > 0:
            try:
                await _storage().set_item(storage_key, entry, ttl=ttl)
            except Exception as exc:
                await _report(exc)
        return entry

    def _refresh_in_background(
        self, storage_key: str, compute: Callable[[], Awaitable[Any]]
    ) -> None:
        if storage_key in self._refreshing:
            return

        async def refresh() -> None:
            try:
                await self._fill(storage_key, compute, self._refreshing)
            except Exception as exc:  # the old entry stays; the failure is reported
                await _report(exc)

        task = asyncio.ensure_future(refresh())
        from .context import current_event

        event = current_event.get(None)
        if event is not None:
            event.wait_until(task)  # servers: after the response; serverless: before returning
        else:
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def invalidate(self, key: str) -> None:
        await _storage().remove_item(self.storage_key(key))


class _Computed:
    """A value produced for one caller only (not stored, maybe not shareable)."""

    def __init__(self, value: Any, shareable: bool) -> None:
        self.value = value
        self.shareable = shareable


def uncacheable(value: Any, *, shareable: bool = False) -> _Computed:
    """Wrap a computed value that must not be stored."""
    return _Computed(value, shareable)


class CachedFunction:
    """A function whose results are cached in storage (``define_cached_function``)."""

    def __init__(self, fn: Callable[..., Any], options: CacheOptions) -> None:
        self.fn = fn
        self.options = options
        self.engine = Engine(options, options.name or default_name(fn), integrity(fn, options))
        functools.update_wrapper(self, fn)

    async def key(self, *args: Any, **kwargs: Any) -> str:
        """The cache key of these arguments (`get_key`'s, sync or async, else a hash)."""
        if self.options.get_key is not None:
            return str(await _run(self.options.get_key, args, kwargs))
        return hash_args(args, kwargs)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        options = self.options
        if options.max_age <= 0 or (
            options.should_bypass_cache and await _run(options.should_bypass_cache, args, kwargs)
        ):
            return await self._call(args, kwargs)
        invalidate = bool(
            options.should_invalidate_cache
            and await _run(options.should_invalidate_cache, args, kwargs)
        )
        value, _, _ = await self.engine.resolve(
            await self.key(*args, **kwargs),
            lambda: self._call(args, kwargs),
            invalidate=invalidate,
        )
        return value

    async def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return await _run(self.fn, args, kwargs)

    async def invalidate(self, *args: Any, **kwargs: Any) -> None:
        """Forget the entry for these arguments: the next call computes afresh."""
        await self.engine.invalidate(await self.key(*args, **kwargs))


@overload
def define_cached_function(fn: F, /) -> CachedFunction: ...
@overload
def define_cached_function(**options: Any) -> Callable[[F], CachedFunction]: ...
def define_cached_function(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Cache a function's results in the `cache` mount; a decorator, with or without options.

    Example::

        from nitro import define_cached_function

        @define_cached_function(max_age=3600, get_key=lambda repo: repo)
        async def repo_stars(repo: str) -> int:
            response = await http.get(f"https://api.github.com/repos/{repo}")
            return response.json()["stargazers_count"]

        await repo_stars("nitrojs/nitro")       # computed, then served from cache
        await repo_stars.invalidate("nitrojs/nitro")

    Options: `max_age` (seconds fresh, default 1), `swr` (serve stale while
    refreshing, default True), `stale_max_age` (seconds stale may be served; None: a
    day), `name`, `group`, `get_key(*args, **kwargs)`, `base` (mount, "cache"),
    `should_bypass_cache(*args)`, `should_invalidate_cache(*args)`.
    """
    options.setdefault("group", "nitro/functions")
    if fn is None:
        return lambda f: CachedFunction(f, CacheOptions(**options))
    return CachedFunction(fn, CacheOptions(**options))


# --- Internal helpers ---


def default_name(fn: Callable[..., Any]) -> str:
    """A stable name: the function's module (without nitro's per-project prefix) and name."""
    module = re.sub(r"^_nitro_project_[0-9a-f]+_", "", getattr(fn, "__module__", "") or "")
    qualname = getattr(fn, "__qualname__", None) or type(fn).__name__
    if "<lambda>" in qualname:
        qualname += "_" + integrity(fn, None)
    return f"{module}.{qualname}".strip(".").replace(":", "_")


def integrity(fn: Callable[..., Any], options: CacheOptions | None) -> str:
    """Changes when the function's code or the options change, so old entries stop matching."""
    digest = hashlib.blake2b(digest_size=6)
    code = getattr(fn, "__code__", None)
    if code is not None:
        digest.update(marshal.dumps(code.co_code))
        digest.update(repr(code.co_consts).encode())
    else:
        digest.update(repr(fn).encode())
    if options is not None:
        digest.update(repr((options.max_age, options.swr, options.stale_max_age)).encode())
    return digest.hexdigest()


def hash_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    from .response import encode_json

    try:
        text = encode_json([list(args), sorted(kwargs.items())])
    except (TypeError, ValueError):
        text = repr((args, sorted(kwargs.items()))).encode()
    return hashlib.blake2b(text, digest_size=10).hexdigest()


async def _run(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``fn(*args, **kwargs)``, sync or async, as the running app runs user code."""
    from .context import use_nitro_app

    return await use_nitro_app().run_user_code(functools.partial(fn, *args, **kwargs))


def _storage() -> Any:
    from .context import use_nitro_app

    return use_nitro_app().storage


async def _report(error: BaseException) -> None:
    from .context import current_event, use_nitro_app

    await use_nitro_app().capture_error(error, current_event.get(None))
