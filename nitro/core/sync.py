"""Sync and async user code alike: where a plain `def` runs, and the worker threads.

A sync function runs either inline, on the event loop's thread (right where one
request is served at a time: AWS Lambda, Vercel), or on a worker thread, so that it
never blocks the other requests of a server. `sync_to_thread` chooses: per function
(`define_handler(fn, sync_to_thread=...)`), else the app's config, else the preset.

The worker threads are one bounded pool per process, made on first use (a process
that never runs code in a thread never starts one). A hop to it is a queue put and a
`call_soon_threadsafe` back: measured here against anyio's `to_thread` and
`loop.run_in_executor`, it is the cheapest, because a busy loop hands a worker
several calls per wake-up and nothing per call is tied to the calling task (anyio
ties its workers to the root task, so every `run_until_complete` of a Lambda
invocation started a new thread). Context variables are carried into the thread,
so `use_event()` works there.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = [
    "DEFAULT_MAX_THREADS",
    "ThreadPool",
    "is_async_callable",
    "maybe_await",
    "run_in_thread",
    "run_user_code",
    "set_max_threads",
    "worker_loop",
]

T = TypeVar("T")

DEFAULT_MAX_THREADS = 64  # 64 concurrent blocking calls overlap, as 64 connections would
IDLE_SECONDS = 10.0  # a worker with nothing to do for this long exits (anyio's figure)

logger = logging.getLogger("nitro")


def is_async_callable(fn: object) -> bool:
    """True for a coroutine function, a partial of one, or an object with ``async def __call__``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with `async def __call__`
    )


async def maybe_await(value: Any) -> Any:
    """`value`, awaited when it is awaitable: what a function that may be sync or async returned."""
    return await value if inspect.isawaitable(value) else value


class _WorkerState(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


_worker = _WorkerState()


def worker_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that handed this worker thread its current call (None elsewhere)."""
    return _worker.loop


class ThreadPool:
    """At most `max_threads` daemon threads taking calls from one queue.

    Threads start only when a call finds none idle, and exit after `IDLE_SECONDS`
    without work. A call whose awaiting task is cancelled is abandoned: its thread
    finishes it and drops the result (a blocked call cannot be interrupted).
    """

    def __init__(self, max_threads: int = DEFAULT_MAX_THREADS) -> None:
        self.max_threads = max_threads
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        # Idle threads minus calls waiting for one. Below zero, a call would wait behind
        # another: a burst of blocking calls must overlap, so that starts a thread (as
        # ThreadPoolExecutor does), up to the bound.
        self._free = 0

    @property
    def threads(self) -> int:
        """Worker threads alive now."""
        return self._threads

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on a worker thread, in a copy of the caller's context."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._free -= 1
            start = self._free < 0 and self._threads < self.max_threads
            if start:
                self._threads += 1
                self._free += 1
        self._queue.put((loop, future, contextvars.copy_context(), fn, args))
        if start:
            threading.Thread(target=self._work, name="nitro-sync", daemon=True).start()
        return future

    def _work(self) -> None:
        take = self._queue.get
        lock = self._lock
        while True:
            try:
                item = take(timeout=IDLE_SECONDS)
            except queue.Empty:
                with lock:
                    if self._free > 0:  # more idle threads than waiting calls: leave
                        self._free -= 1
                        self._threads -= 1
                        return
                continue
            loop, future, context, fn, args = item
            item = None
            _worker.loop = loop
            done: Callable[[asyncio.Future[Any], Any], None]
            try:
                done, value = _succeed, context.run(fn, *args)
            except BaseException as error:
                done, value = _fail, error
            finally:
                _worker.loop = None
            # Free again before the caller hears back: its next call must find this
            # thread idle rather than start another.
            with lock:
                self._free += 1
            _deliver(loop, done, future, value)
            future = value = None  # hold nothing while idle


def _deliver(loop: asyncio.AbstractEventLoop, how: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(how, *args)
    except RuntimeError:  # the loop closed while the call ran: nobody waits for it
        pass


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


_pool: ThreadPool | None = None
_max_threads = DEFAULT_MAX_THREADS


def set_max_threads(count: int) -> None:
    """Bound the process's worker threads (config `max_threads`); applies to new threads."""
    global _max_threads
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"[nitro] max_threads must be a positive integer, got {count!r}")
    _max_threads = count
    if _pool is not None:
        _pool.max_threads = count


def run_in_thread(fn: Callable[..., T], *args: Any) -> Awaitable[T]:
    """``await run_in_thread(fn, *args)``: `fn` on the process's worker threads.

    Example::

        rows = await run_in_thread(legacy_client.query, "SELECT 1")
    """
    global _pool
    if _pool is None:
        _pool = ThreadPool(_max_threads)
    return _pool.submit(fn, *args)


async def run_user_code(fn: Callable[..., Any], *args: Any, to_thread: bool) -> Any:
    """``fn(*args)`` however it is written: a coroutine function is awaited; a plain
    function runs inline or, with `to_thread`, on a worker thread; an awaitable it
    returns is awaited too (``lambda event: save(event)`` is a common hook)."""
    if is_async_callable(fn):
        return await fn(*args)
    result = await run_in_thread(fn, *args) if to_thread else fn(*args)
    return await result if inspect.isawaitable(result) else result
