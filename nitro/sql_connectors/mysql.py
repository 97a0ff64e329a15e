"""`mysql`: MySQL and MariaDB through asyncmy and its connection pool.

Why asyncmy rather than aiomysql: aiomysql 0.3 cannot bind `bytes` with PyMySQL 1.2
or later (it imports a PyMySQL function that became a placeholder string: every
BLOB parameter fails), and asyncmy is maintained, faster, and ships binary wheels
for every platform. Values are escaped and bound by the driver, never formatted by
nitro.

The pool opens on first use and is reused across requests and warm invocations; a
connection that broke is closed and not returned to the pool, so the next query gets
a fresh one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from ..core.database import Result, split_statements
from ._common import parse_options
from ._pool import PooledConnector, ServerOptions

CONNECTOR_NAME = "mysql"
REQUIRES = ["asyncmy>=0.2.9"]


class MysqlOptions(ServerOptions):
    """Options of the `mysql` connector: `url` (``mysql://user:password@host:3306/dbname``)
    or the separate parts, the pool's size and `connect_timeout` (see `ServerOptions`)."""

    pool_recycle: int = 3600
    """Reopen connections older than this many seconds (MySQL drops idle ones)."""


class MysqlConnector(PooledConnector):
    name = CONNECTOR_NAME
    dialect = "mysql"
    options: MysqlOptions

    def __init__(self, options: MysqlOptions) -> None:
        super().__init__(options, port=3306, user="root", password="")

    async def open_pool(self) -> Any:
        import asyncmy

        return await asyncmy.create_pool(
            **{k: v for k, v in self.settings.items() if v is not None},
            minsize=self.options.min_size,
            maxsize=self.options.max_size,
            connect_timeout=self.options.connect_timeout,
            pool_recycle=self.options.pool_recycle,
            autocommit=True,
            charset="utf8mb4",
        )

    async def close_pool(self, pool: Any) -> None:
        pool.close()
        await pool.wait_closed()

    def acquire(self, pool: Any) -> AbstractAsyncContextManager[Any]:
        return pool.acquire()

    @asynccontextmanager
    async def begin(self, connection: Any) -> AsyncIterator[None]:
        await connection.begin()
        try:
            yield
        except BaseException:
            await connection.rollback()
            raise
        await connection.commit()

    async def run(self, connection: Any, sql: str, params: Sequence[Any]) -> Result:
        from asyncmy.cursors import DictCursor

        async with connection.cursor(cursor=DictCursor) as cursor:
            await cursor.execute(sql, tuple(params))
            rows = list(await cursor.fetchall()) if cursor.description is not None else []
            changes = max(cursor.rowcount, 0)
            inserted = changes > 0 and bool(cursor.lastrowid)
            return Result(
                rows=rows, changes=changes, last_insert_id=cursor.lastrowid if inserted else None
            )

    async def run_script(self, connection: Any, script: str) -> None:
        # Several statements in one call: PyMySQL sends them as one multi-statement query
        # only with the MULTI_STATEMENTS flag, so run them one by one instead.
        async with connection.cursor() as cursor:
            for statement in split_statements(script, dialect="mysql"):
                await cursor.execute(statement)


def connector(options: Mapping[str, Any], *, root: Path) -> MysqlConnector:
    import asyncmy  # noqa: F401  (a missing driver surfaces here, naming the extra)

    return MysqlConnector(parse_options(MysqlOptions, options, CONNECTOR_NAME))
