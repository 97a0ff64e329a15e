"""nitro's worker threads and `run_user_code` (nitro/core/sync.py)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from typing import Any

import pytest

from nitro.core import sync
from nitro.core.sync import ThreadPool, run_user_code

pytestmark = pytest.mark.anyio

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_sync_var", default="unset")


async def test_a_call_returns_its_value_and_raises_its_error() -> None:
    pool = ThreadPool(2)
    assert await pool.submit(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(ZeroDivisionError):
        await pool.submit(lambda: 1 / 0)


async def test_the_callers_context_is_carried_into_the_thread() -> None:
    pool = ThreadPool(2)
    VAR.set("from the caller")
    seen = await pool.submit(VAR.get)
    assert seen == "from the caller"
    assert await pool.submit(lambda: threading.current_thread().name) == "nitro-sync"


class Blocker:
    """A blocking call that records how many of its kind ran at once (`peak`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.running = self.peak = 0
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1


class Gate:
    """A blocking call that returns only once `calls` of it run at the same time (or
    after `timeout`): all of them end up running at once only if none waited for a
    thread behind another, however slowly a loaded machine starts threads."""

    def __init__(self, calls: int, timeout: float = 10.0) -> None:
        self.calls, self.timeout = calls, timeout
        self.running = self.peak = 0
        self.changed = threading.Condition()

    def __call__(self) -> None:
        with self.changed:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.peak >= self.calls, self.timeout)
            self.running -= 1


async def test_blocking_calls_overlap_up_to_the_bound() -> None:
    pool = ThreadPool(64)
    gate = Gate(64)
    started = time.monotonic()
    await asyncio.gather(*(pool.submit(gate) for _ in range(64)))
    assert gate.peak == 64  # every call had its own thread: none queued behind another
    assert time.monotonic() - started < gate.timeout
    assert pool.threads == 64


async def test_no_more_threads_than_the_bound() -> None:
    pool = ThreadPool(3)
    block = Blocker(0.05)
    await asyncio.gather(*(pool.submit(block) for _ in range(12)))
    assert block.peak == 3 and pool.threads == 3


async def test_short_calls_reuse_threads() -> None:
    pool = ThreadPool(64)
    for _ in range(200):
        await pool.submit(int, "1")
    assert pool.threads == 1


async def test_an_idle_thread_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "IDLE_SECONDS", 0.05)
    pool = ThreadPool(4)
    await pool.submit(int, "1")
    assert pool.threads == 1
    deadline = time.monotonic() + 5
    while pool.threads and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert pool.threads == 0
    assert await pool.submit(int, "2") == 2  # a new one starts when needed


async def test_a_cancelled_caller_abandons_the_call() -> None:
    pool = ThreadPool(2)
    release = threading.Event()
    finished: list[str] = []

    def slow() -> str:
        release.wait(5)
        finished.append("done")
        return "late"

    waiter = asyncio.ensure_future(pool.submit(slow))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    assert await pool.submit(lambda: "next") == "next"  # the pool goes on
    deadline = time.monotonic() + 5
    while not finished and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert finished == ["done"]  # the call ran to its end; its result was dropped


def test_a_result_for_a_closed_loop_is_dropped() -> None:
    pool = ThreadPool(1)
    release = threading.Event()

    async def start() -> asyncio.Future[Any]:
        return pool.submit(release.wait, 5)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(start())
    loop.close()
    release.set()  # the worker delivers to a closed loop: dropped, no error, thread lives
    deadline = time.monotonic() + 5
    while pool._free == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.threads == 1 and pool._free == 1  # the thread is idle again


async def test_run_user_code_inline_or_in_a_thread() -> None:
    def where() -> str:
        return threading.current_thread().name

    async def where_async() -> str:
        return threading.current_thread().name

    main = threading.current_thread().name
    assert await run_user_code(where, to_thread=False) == main
    assert await run_user_code(where, to_thread=True) == "nitro-sync"
    assert await run_user_code(where_async, to_thread=True) == main

    async def later() -> str:
        return "awaited"

    # a sync function returning an awaitable (``lambda event: save(event)``)
    assert await run_user_code(lambda: later(), to_thread=True) == "awaited"


def test_set_max_threads_checks_its_value() -> None:
    with pytest.raises(ValueError, match="max_threads must be a positive integer"):
        sync.set_max_threads(0)
    with pytest.raises(ValueError):
        sync.set_max_threads(True)
