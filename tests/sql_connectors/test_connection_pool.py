"""The pool behind the server connectors, with stand-in connections (no server needed)."""

from __future__ import annotations

import asyncio
import time

import pytest

from nitro.sql_connectors._connection_pool import ConnectionPool, PoolTimeout

pytestmark = pytest.mark.anyio


class Conn:
    def __init__(self, number: int) -> None:
        self.number = number
        self.broken = False
        self.closed = False


class Server:
    """Opens numbered `Conn`s, or refuses while `down`."""

    def __init__(self) -> None:
        self.opened: list[Conn] = []
        self.down = False

    async def open(self) -> Conn:
        await asyncio.sleep(0)  # a real connect yields to the loop
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")
        conn = Conn(len(self.opened) + 1)
        self.opened.append(conn)
        return conn

    async def close(self, conn: Conn) -> None:
        conn.closed = True

    def pool(self, **options: float) -> ConnectionPool[Conn]:
        settings: dict[str, float] = {"max_size": 2, "timeout": 5.0} | options
        return ConnectionPool(
            open=self.open,
            close=self.close,
            usable=lambda conn: not conn.broken and not conn.closed,
            max_size=int(settings.pop("max_size")),
            **settings,
        )


async def until_waiting(pool: ConnectionPool[Conn], count: int) -> None:
    while pool.waiting < count:
        await asyncio.sleep(0)


async def test_connections_are_reused() -> None:
    server = Server()
    pool = server.pool()
    for _ in range(3):
        async with pool.connection() as conn:
            assert conn.number == 1
    assert pool.size == 1


async def test_a_refused_connection_fails_every_caller_at_once_and_frees_its_slot() -> None:
    server = Server()
    server.down = True
    pool = server.pool(max_size=1, timeout=5.0)
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(ConnectionRefusedError):
            async with pool.connection():
                pass
        assert time.monotonic() - started < 1  # never the 5 s wait for a free connection
    assert pool.size == 0
    server.down = False  # back: the next caller connects, nothing to wait for
    async with pool.connection() as conn:
        assert conn.number == 1


async def test_a_broken_connection_is_closed_not_lent_again() -> None:
    server = Server()
    pool = server.pool()
    async with pool.connection() as first:
        first.broken = True
    assert first.closed and pool.size == 0
    async with pool.connection() as second:
        assert second.number == 2


async def test_an_idle_connection_that_broke_is_skipped() -> None:
    server = Server()
    pool = server.pool()
    async with pool.connection() as first:
        pass
    first.broken = True  # the server closed it while it sat in the pool
    async with pool.connection() as conn:
        assert conn.number == 2
    assert first.closed and pool.size == 1


async def test_when_all_are_lent_a_caller_waits_for_one_then_gives_up() -> None:
    server = Server()
    pool = server.pool(max_size=1, timeout=0.3)
    lent = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await until_waiting(pool, 1)
    await pool.release(lent)  # handed to the waiting caller, first come first served:
    newcomer = asyncio.create_task(pool.acquire())  # a later caller does not get it first
    handed = await waiting
    assert handed.connection.number == 1 and not newcomer.done()
    await until_waiting(pool, 1)
    await pool.release(handed)
    assert (await newcomer).connection.number == 1  # and kept: none is free now

    started = time.monotonic()
    with pytest.raises(
        PoolTimeout, match=r"no free connection after 0.3s: all 1 are in use or connecting"
    ):
        await pool.acquire()
    assert 0.25 < time.monotonic() - started < 2


async def test_a_slot_freed_by_a_broken_connection_wakes_a_waiter() -> None:
    server = Server()
    pool = server.pool(max_size=1)
    lent = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await until_waiting(pool, 1)
    lent.connection.broken = True
    await pool.release(lent)
    assert (await asyncio.wait_for(waiting, 1)).connection.number == 2


async def test_a_woken_caller_that_is_cancelled_passes_its_turn_on() -> None:
    server = Server()
    pool = server.pool(max_size=1)
    lent = await pool.acquire()
    first = asyncio.create_task(pool.acquire())
    second = asyncio.create_task(pool.acquire())
    await until_waiting(pool, 2)
    await pool.release(lent)  # wakes `first`...
    first.cancel()  # ...which leaves before it runs
    assert (await asyncio.wait_for(second, 1)).connection.number == 1
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_idle_connections_beyond_min_size_expire() -> None:
    server = Server()
    pool = server.pool(max_idle=-1, min_size=1)  # every idle connection is "too old"
    a, b = await pool.acquire(), await pool.acquire()
    await pool.release(a)
    await pool.release(b)
    assert pool.size == 1 and a.connection.closed and not b.connection.closed


async def test_connections_past_their_lifetime_are_replaced() -> None:
    server = Server()
    pool = server.pool(max_lifetime=-1)
    async with pool.connection() as first:
        pass
    async with pool.connection() as second:
        assert second is not first
    assert first.closed


async def test_close_closes_idle_now_and_lent_on_return() -> None:
    server = Server()
    pool = server.pool(max_size=2)
    idle, lent = await pool.acquire(), await pool.acquire()
    await pool.release(idle)
    await pool.close()
    assert idle.connection.closed and not lent.connection.closed
    await pool.release(lent)
    assert lent.connection.closed and pool.size == 0
    with pytest.raises(RuntimeError, match="closed"):
        await pool.acquire()


async def test_close_tells_waiting_callers() -> None:
    server = Server()
    pool = server.pool(max_size=1)
    await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await until_waiting(pool, 1)
    await pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(waiting, 1)
