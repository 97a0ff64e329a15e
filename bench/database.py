"""Database: a single-row select through `db.sql` against the raw driver call.

- SQLite: nitro's `sqlite` connector against `sqlite3` run in a worker thread the
  same way (`anyio.to_thread.run_sync`), one connection, the same query text.
- PostgreSQL: nitro's `postgresql` connector (its pool lends a connection per query)
  against one psycopg `AsyncConnection` with the same settings (dict rows,
  autocommit) used directly: `await conn.execute(...)` + `fetchall()`.

Both return the row; nitro also converts `?` (cached), binds and builds a Result.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import anyio.to_thread
import report
from timing import MIN_SECONDS, compare, each_backend, event_loop

from nitro.core.database import Database
from nitro.sql_connectors import create_connector

POSTGRES_URL = os.environ.get(
    "NITRO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
TABLE = "nitro_bench_users"
QUERY = f"SELECT id, name FROM {TABLE} WHERE id = ?"


async def _sqlite(repeat: int, root: Path) -> dict[str, float]:
    path = root / "bench.sqlite"
    db = Database(create_connector("sqlite", {"path": str(path)}, root=root), "bench")
    await db.exec(
        f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO {TABLE} VALUES (1, 'Ada')"
    )
    raw = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def fetch() -> Any:
        return raw.execute(QUERY, (1,)).fetchall()

    async def raw_select() -> Any:
        return await anyio.to_thread.run_sync(fetch)

    try:
        assert (await db.sql(QUERY, 1)).rows == [{"id": 1, "name": "Ada"}]
        assert await raw_select() == [(1, "Ada")]
        return await compare({"nitro": lambda: db.sql(QUERY, 1), "raw": raw_select}, repeat)
    finally:
        raw.close()
        await db.dispose()


async def _postgres(repeat: int, root: Path) -> dict[str, float] | str:
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row

    db = Database(create_connector("postgresql", {"url": POSTGRES_URL}, root=root), "bench")
    connector: Any = db.connector
    raw_query = QUERY.replace("?", "%s")
    connection: AsyncConnection[Any] | None = None

    async def raw_select() -> Any:
        assert connection is not None
        cursor = await connection.execute(raw_query, (1,))
        return await cursor.fetchall()

    try:
        try:
            await db.exec(
                f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (id INT PRIMARY KEY, name TEXT)"
            )
        except Exception as exc:
            return f"skipped: {exc}"
        await db.sql(f"INSERT INTO {TABLE} VALUES (1, 'Ada')")
        connection = await AsyncConnection.connect(
            **{k: v for k, v in connector.settings.items() if v is not None},
            autocommit=True,
            row_factory=dict_row,
        )
        assert (await db.sql(QUERY, 1)).rows == await raw_select() == [{"id": 1, "name": "Ada"}]
        return await compare({"nitro": lambda: db.sql(QUERY, 1), "raw": raw_select}, repeat)
    finally:
        if connection is not None:
            await connection.close()
        try:
            await db.exec(f"DROP TABLE IF EXISTS {TABLE}")
        finally:
            await db.dispose()


def measure(repeat: int) -> dict[str, Any]:
    run, loop_name = event_loop()
    report.section(
        "Database (ns per single-row select, lower is better)",
        [
            f"{QUERY!r} with one bound value; {loop_name} loop; each timing >= {MIN_SECONDS} s,",
            f"nitro and raw interleaved, best of {repeat} repeats; raw = sqlite3 in a worker thread,",
            f"and one psycopg AsyncConnection with the same settings on {POSTGRES_URL}",
        ],
    )

    backends = {"sqlite": _sqlite, "postgresql": _postgres}
    return {
        "settings": {"repeat": repeat, "query": QUERY, "event_loop": loop_name},
        "ns_per_op": run(each_backend(backends, repeat, "nitro-bench-db-")),
    }


def print_report(results: dict[str, Any]) -> None:
    rows = []
    for backend, timings in results["ns_per_op"].items():
        if isinstance(timings, str):
            rows.append([backend, timings, "-", "-"])
            continue
        rows.append([backend, report.count(timings["nitro"]), report.count(timings["raw"]),
                     report.ratio(timings["nitro"] / timings["raw"])])  # fmt: skip
    print(report.table(["database", "nitro ns", "raw ns", "nitro/raw"], rows, 1))
