"""A small connection pool that connects in the caller, shared by the server connectors.

Why not the drivers' own pools: psycopg-pool opens connections in background workers and
retries failures with a growing back-off, so while a server refuses connections every
request waits the whole pool timeout and learns only "PoolTimeout", and after the server is
back requests wait for the next retry (seconds, minutes after a long outage). Here the
request that needs a new connection opens it itself: a refused connection fails that
request at once with the driver's own error (host, port, "Connection refused"), and the
first request after the server is back gets a working connection.

A connection that broke (or is mid-transaction, or was dropped by the server while idle)
is closed instead of being lent again; at most `max_size` are open at once, and a caller
waits at most `timeout` seconds for one to be free.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from time import monotonic
from typing import Any, Generic, TypeVar

__all__ = ["ConnectionPool", "PoolTimeout"]

C = TypeVar("C")


class PoolTimeout(TimeoutError):
    """No connection became free in time: every one of `max_size` was in use."""


class _Pooled(Generic[C]):
    __slots__ = ("connection", "created", "returned")

    def __init__(self, connection: C, now: float) -> None:
        self.connection = connection
        self.created = now
        self.returned = now


class ConnectionPool(Generic[C]):
    """Lends connections made by `open`; `usable` says whether one may be lent (again).

    Example::

        pool = ConnectionPool(open=connect, close=close, usable=is_idle, max_size=10, timeout=5)
        async with pool.connection() as connection:
            ...
        await pool.close()
    """

    def __init__(
        self,
        *,
        open: Callable[[], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        usable: Callable[[C], bool],
        max_size: int,
        timeout: float,
        min_size: int = 0,
        max_idle: float = 600.0,
        max_lifetime: float | None = 3600.0,
    ) -> None:
        self._open = open
        self._close = close
        self._usable = usable
        self.max_size = max(1, max_size)
        self.min_size = min_size
        self.timeout = timeout
        self.max_idle = max_idle
        self.max_lifetime = max_lifetime
        self._idle: deque[_Pooled[C]] = deque()
        self._waiters: deque[asyncio.Future[_Pooled[C] | None]] = deque()
        self._size = 0  # connections open, lent, or being opened
        self._closed = False

    @property
    def size(self) -> int:
        """Connections open now (idle or lent) or being opened."""
        return self._size

    @property
    def waiting(self) -> int:
        """Callers waiting for a connection to be free."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def connection(self) -> _Lease[C]:
        """``async with pool.connection() as connection:`` lends one for the block."""
        return _Lease(self)

    async def acquire(self) -> _Pooled[C]:
        deadline: float | None = None
        while True:
            if self._closed:
                raise RuntimeError("[nitro:db] the connection pool is closed")
            now = monotonic()
            while self._idle:
                pooled = self._idle.pop()  # the most recently used: the rest can age out
                if self._lendable(pooled, now):
                    return pooled
                await self._discard(pooled)
            if self._size < self.max_size:
                self._size += 1
                try:
                    connection = await self._open()
                except BaseException:
                    self._size -= 1
                    self._wake_one()
                    raise
                return _Pooled(connection, monotonic())
            if deadline is None:
                deadline = now + self.timeout
            handed = await self._wait(deadline)
            if handed is not None:
                return handed

    async def release(self, pooled: _Pooled[C]) -> None:
        now = monotonic()
        if self._closed or not self._lendable(pooled, now):
            await self._discard(pooled)
            return
        pooled.returned = now
        self._give_back(pooled)
        # Close what sat idle too long (oldest first), keeping `min_size` open.
        while len(self._idle) > self.min_size and now - self._idle[0].returned > self.max_idle:
            await self._discard(self._idle.popleft())

    async def close(self) -> None:
        """Close the idle connections now and lent ones when they come back."""
        self._closed = True
        while self._waiters:
            self._wake_one()  # each sees the pool closed
        while self._idle:
            await self._discard(self._idle.popleft())

    def _lendable(self, pooled: _Pooled[C], now: float) -> bool:
        if self.max_lifetime is not None and now - pooled.created > self.max_lifetime:
            return False
        try:
            return self._usable(pooled.connection)
        except Exception:
            return False

    async def _discard(self, pooled: _Pooled[C]) -> None:
        self._size -= 1
        self._wake_one()  # a slot is free: a waiter may open a connection
        with suppress(Exception):
            async with asyncio.timeout(self.timeout):
                await self._close(pooled.connection)

    def _give_back(self, pooled: _Pooled[C]) -> None:
        """To the longest waiting caller (first come, first served), else to the idle ones."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(pooled)
                return
        self._idle.append(pooled)

    async def _wait(self, deadline: float) -> _Pooled[C] | None:
        """A connection handed over by `release`, or None when a slot became free."""
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise self._exhausted()
        waiter: asyncio.Future[_Pooled[C] | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(remaining):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # Served, but leaving (cancelled, or timed out at that moment): pass it on.
                handed = waiter.result()
                if handed is not None:
                    self._give_back(handed)
                else:
                    self._wake_one()
            else:
                waiter.cancel()
            if isinstance(exc, TimeoutError):
                raise self._exhausted() from None
            raise

    def _wake_one(self) -> None:
        """Tell the longest waiting caller that a slot is free (it may open a connection)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _exhausted(self) -> PoolTimeout:
        return PoolTimeout(
            f"no free connection after {self.timeout:g}s: all {self.max_size} are in use or "
            "connecting (raise `max_size`, or make queries and transactions shorter)"
        )


class _Lease(Generic[C]):
    __slots__ = ("_pool", "_pooled")

    def __init__(self, pool: ConnectionPool[C]) -> None:
        self._pool = pool
        self._pooled: _Pooled[C] | None = None

    async def __aenter__(self) -> C:
        self._pooled = await self._pool.acquire()
        return self._pooled.connection

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._pooled is not None:
            pooled, self._pooled = self._pooled, None
            await self._pool.release(pooled)
