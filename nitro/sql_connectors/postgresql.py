"""`postgresql`: psycopg 3's async driver with a connection pool (psycopg-pool).

Why psycopg rather than asyncpg: one library for sync and async code, binary wheels
(`psycopg[binary]`) for every platform, and it works behind PgBouncer/RDS Proxy in
transaction mode, where asyncpg's statement cache breaks. Values are bound server
side, never formatted into the SQL.

The pool opens on first use, keeps connections across requests and warm serverless
invocations, and drops a connection that broke (the next query gets a fresh one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.database import Result
from ._common import endpoint, parse_options, split_url

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

CONNECTOR_NAME = "postgresql"
REQUIRES = ["psycopg[binary]>=3.1", "psycopg-pool>=3.2"]


@dataclass(frozen=True)
class PostgresOptions:
    """Options of the `postgresql` connector (`url`, or the separate parts)."""

    url: str | None = None
    """``postgresql://user:password@host:5432/dbname``; usually ``"{{DATABASE_URL}}"``."""
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None
    min_size: int = 0
    """Connections kept open when idle (default 0: serverless-friendly)."""
    max_size: int = 10
    """Most connections at once (default 10)."""
    connect_timeout: float = 5.0
    """Seconds to connect, and to wait for a free connection (default 5)."""


class _Statement:
    __slots__ = ("connection", "owner", "sql")

    def __init__(
        self, owner: PostgresConnector, sql: str, connection: AsyncConnection[Any] | None
    ) -> None:
        self.owner = owner
        self.sql = sql
        self.connection = connection

    async def execute(self, params: Sequence[Any]) -> Result:
        if self.connection is not None:
            return await _run(self.connection, self.sql, params)
        pool = await self.owner.pool()
        async with pool.connection() as connection:
            return await _run(connection, self.sql, params)


async def _run(connection: AsyncConnection[Any], sql: str, params: Sequence[Any]) -> Result:
    cursor = await connection.execute(sql, tuple(params))
    rows = await cursor.fetchall() if cursor.description is not None else []
    return Result(rows=rows, changes=max(cursor.rowcount, 0))


class PostgresConnector:
    name = CONNECTOR_NAME
    dialect = "postgresql"
    style = "format"

    def __init__(self, options: PostgresOptions) -> None:
        parts = split_url(options.url) if options.url else {}
        self.settings: dict[str, Any] = {
            "host": options.host or parts.get("host") or "localhost",
            "port": options.port or parts.get("port") or 5432,
            "user": options.user or parts.get("user"),
            "password": options.password or parts.get("password"),
            "dbname": options.database or parts.get("database"),
            "connect_timeout": max(1, int(options.connect_timeout)),
        }
        self.options = options
        self.endpoint = endpoint(
            "postgresql", self.settings["host"], self.settings["port"], self.settings["dbname"]
        )
        self._pool: AsyncConnectionPool[Any] | None = None

    async def pool(self) -> AsyncConnectionPool[Any]:
        if self._pool is None:
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
            self._pool = pool
        return self._pool

    async def exec(self, script: str) -> None:
        pool = await self.pool()
        async with pool.connection() as connection:
            await connection.execute(script)

    def prepare(self, sql: str) -> _Statement:
        return _Statement(self, sql, None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Transaction]:
        pool = await self.pool()
        async with pool.connection() as connection, connection.transaction():
            yield _Transaction(self, connection)

    async def dispose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


class _Transaction:
    def __init__(self, owner: PostgresConnector, connection: AsyncConnection[Any]) -> None:
        self.owner = owner
        self.connection = connection
        self.name, self.dialect, self.style, self.endpoint = (
            owner.name,
            owner.dialect,
            owner.style,
            owner.endpoint,
        )

    async def exec(self, script: str) -> None:
        await self.connection.execute(script)

    def prepare(self, sql: str) -> _Statement:
        return _Statement(self.owner, sql, self.connection)

    def transaction(self) -> Any:
        raise RuntimeError("[nitro:db:postgresql] transactions do not nest")

    async def dispose(self) -> None:
        return None


def connector(options: Mapping[str, Any], *, root: Path) -> PostgresConnector:
    import psycopg  # noqa: F401  (a missing driver surfaces here, naming the extra)
    import psycopg_pool  # noqa: F401

    return PostgresConnector(parse_options(PostgresOptions, options, CONNECTOR_NAME))
