"""What is special to the PostgreSQL and MySQL connectors: pools, failures, dialect."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nitro import DatabaseError
from nitro.core.database import Database
from nitro.sql_connectors import create_connector

from .conftest import connect
from helpers import free_port

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("name", ["postgresql", "mysql"])
async def test_a_refused_connection_fails_at_once_naming_the_cause_but_not_the_password(
    name: str, tmp_path: Path
) -> None:
    port = free_port()
    scheme = "postgresql" if name == "postgresql" else "mysql"
    db = Database(
        create_connector(
            name,
            {"url": f"{scheme}://app:s3cr3t-pw@127.0.0.1:{port}/prod", "connect_timeout": 5},
            root=tmp_path,
        ),
        "main",
    )
    try:
        for _ in range(3):  # every attempt, not only the first, fails at once
            started = time.monotonic()
            with pytest.raises(DatabaseError) as info:
                await db.sql("SELECT 1")
            # Refused on loopback takes milliseconds; the pool must not wait its 5 s timeout.
            assert time.monotonic() - started < 2
    finally:
        await db.dispose()
    message = info.value.message
    assert message.startswith(
        f"[nitro:db:{name}] 'main' ({scheme}://127.0.0.1:{port}/prod): unavailable: "
    )
    assert "Connection refused" in message and f"{port}" in message.split("unavailable: ")[1]
    assert "s3cr3t-pw" not in str(info.value) and "app" not in message
    assert info.value.status == 503


async def test_postgresql_replaces_a_dropped_connection(tmp_path: Path) -> None:
    async with (
        connect("postgresql", tmp_path, "pg", max_size=1) as db,
        connect("postgresql", tmp_path, "admin") as killer,
    ):
        pid = (await db.sql("SELECT pg_backend_pid() AS pid")).rows[0]["pid"]
        # With a timeout (ms) it returns once the backend has exited (PostgreSQL 14+).
        await killer.sql("SELECT pg_terminate_backend(?, 5000)", pid)
        # The pooled connection died while idle: it is not lent again, a new one is made.
        assert (await db.sql("SELECT pg_backend_pid() AS pid")).rows[0]["pid"] != pid


async def test_mysql_replaces_a_dropped_connection(tmp_path: Path) -> None:
    async with (
        connect("mysql", tmp_path, "my", max_size=1) as db,
        connect("mysql", tmp_path, "admin") as killer,
    ):
        connection_id = (await db.sql("SELECT CONNECTION_ID() AS id")).rows[0]["id"]
        await killer.exec(f"KILL {int(connection_id)}")
        try:  # the pool may notice the dead connection at checkout (asyncmy does) or on use
            await db.sql("SELECT 1 AS one")
        except DatabaseError:
            pass
        assert (await db.sql("SELECT 1 AS one")).rows == [{"one": 1}]
        assert (await db.sql("SELECT CONNECTION_ID() AS id")).rows[0]["id"] != connection_id


async def test_postgresql_dialect(tmp_path: Path) -> None:
    async with connect("postgresql", tmp_path, "pg") as db:
        rows = (await db.sql("SELECT $$it's a ? here$$ AS s, ? AS v", "x")).rows
        assert rows == [{"s": "it's a ? here", "v": "x"}]
        await db.exec("CREATE TEMP TABLE items (id SERIAL PRIMARY KEY, name TEXT)")
    # A new pool: one connection in a transaction, where the temp table lives.
    async with connect("postgresql", tmp_path, "pg") as db, db.transaction():
        await db.exec("CREATE TEMP TABLE items (id SERIAL PRIMARY KEY, name TEXT)")
        inserted = await db.sql("INSERT INTO items (name) VALUES (?) RETURNING id", "pen")
        assert inserted.rows == [{"id": 1}] and inserted.changes == 1


async def test_mysql_backslashes_in_literals(tmp_path: Path) -> None:
    async with connect("mysql", tmp_path, "my") as db:
        assert (await db.sql("SELECT 'a\\'?' AS s, ? AS v", 1)).rows == [{"s": "a'?", "v": 1}]
