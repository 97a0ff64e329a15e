"""`postgresql`: psycopg 3's async driver with a connection pool (psycopg-pool).

Why psycopg rather than asyncpg: one library for sync and async code, binary wheels
(`psycopg[binary]`) for every platform, and it works behind PgBouncer/RDS Proxy in
transaction mode, where asyncpg's statement cache breaks. Values are bound server
side, never formatted into the SQL.

The pool opens on first use, keeps connections across requests and warm serverless
invocations, and drops a connection that broke (the next query gets a fresh one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.database import Result
from ._common import parse_options
from ._pool import PooledConnector, ServerOptions

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

CONNECTOR_NAME = "postgresql"
REQUIRES = ["psycopg[binary]>=3.1", "psycopg-pool>=3.2"]


class PostgresOptions(ServerOptions):
    """Options of the `postgresql` connector: `url` (``postgresql://user:password@host:5432/dbname``)
    or the separate parts, and the pool's size (see `ServerOptions`). `connect_timeout`
    also bounds the wait for a free connection."""


class PostgresConnector(PooledConnector):
    name = CONNECTOR_NAME
    dialect = "postgresql"

    def __init__(self, options: PostgresOptions) -> None:
        super().__init__(options, port=5432)
        self.settings["dbname"] = self.settings.pop("database")
        self.settings["connect_timeout"] = max(1, int(options.connect_timeout))

    async def open_pool(self) -> AsyncConnectionPool[Any]:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            kwargs={
                **{k: v for k, v in self.settings.items() if v is not None},
                "autocommit": True,
                "row_factory": dict_row,
            },
            min_size=self.options.min_size,
            max_size=self.options.max_size,
            timeout=self.options.connect_timeout,
            open=False,
            name=f"nitro:{self.endpoint}",
        )
        await pool.open(wait=False)
        return pool

    async def close_pool(self, pool: AsyncConnectionPool[Any]) -> None:
        await pool.close()

    def acquire(
        self, pool: AsyncConnectionPool[Any]
    ) -> AbstractAsyncContextManager[AsyncConnection[Any]]:
        return pool.connection()

    def begin(self, connection: AsyncConnection[Any]) -> AbstractAsyncContextManager[Any]:
        return connection.transaction()

    async def run(
        self, connection: AsyncConnection[Any], sql: str, params: Sequence[Any]
    ) -> Result:
        cursor = await connection.execute(sql, tuple(params))
        rows = await cursor.fetchall() if cursor.description is not None else []
        return Result(rows=rows, changes=max(cursor.rowcount, 0))

    async def run_script(self, connection: AsyncConnection[Any], script: str) -> None:
        await connection.execute(script)


def connector(options: Mapping[str, Any], *, root: Path) -> PostgresConnector:
    import psycopg  # noqa: F401  (a missing driver surfaces here, naming the extra)
    import psycopg_pool  # noqa: F401

    return PostgresConnector(parse_options(PostgresOptions, options, CONNECTOR_NAME))
