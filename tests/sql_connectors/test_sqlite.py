"""What is special to the sqlite connector."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from nitro.core.database import Database
from nitro.runtime.app import load_app
from nitro.sql_connectors import create_connector
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


async def test_queries_do_not_block_the_event_loop(tmp_path: Path) -> None:
    db = Database(create_connector("sqlite", {"path": str(tmp_path / "x.sqlite")}, root=tmp_path))
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.005)

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    started = time.monotonic()
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT COUNT(*) AS c FROM n"
    assert (await db.sql(slow)).rows == [{"c": 3000000}]
    elapsed = time.monotonic() - started
    task.cancel()
    await db.dispose()
    assert elapsed > 0.1  # long enough to matter
    # A blocked loop would tick once and then not until the query ended: one gap as long
    # as the query. Measured by gaps, not a tick rate, so a loaded machine cannot fail it.
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 3 and max(gaps) < elapsed * 0.6, (len(ticks), max(gaps), elapsed)


async def test_exec_inside_a_transaction_is_rolled_back_too(tmp_path: Path) -> None:
    db = Database(create_connector("sqlite", {"path": str(tmp_path / "x.sqlite")}, root=tmp_path))
    await db.exec("CREATE TABLE t (v TEXT)")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.exec("INSERT INTO t VALUES ('a'); INSERT INTO t VALUES ('b');")
            raise RuntimeError("undo")
    assert (await db.sql("SELECT COUNT(*) AS n FROM t")).rows == [{"n": 0}]
    await db.dispose()


async def test_the_default_database_is_data_db_sqlite(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "count.py").write_text(
        "from nitro import define_handler, use_database\n\n"
        "@define_handler\nasync def handler(event):\n"
        "    db = use_database()\n"
        "    await db.exec('CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY)')\n"
        "    await db.sql('INSERT INTO hits DEFAULT VALUES')\n"
        "    return await db.prepare('SELECT COUNT(*) AS n FROM hits').get()\n"
    )
    async with TestClient(load_app(tmp_path)) as client:
        assert (await client.get("/count")).json() == {"n": 1}
        assert (await client.get("/count")).json() == {"n": 2}
    assert (tmp_path / ".data" / "db.sqlite").is_file()
