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
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.database import Result, split_statements
from ._common import endpoint, parse_options, split_url

CONNECTOR_NAME = "mysql"
REQUIRES = ["asyncmy>=0.2.9"]


@dataclass(frozen=True)
class MysqlOptions:
    """Options of the `mysql` connector (`url`, or the separate parts)."""

    url: str | None = None
    """``mysql://user:password@host:3306/dbname``; usually ``"{{DATABASE_URL}}"``."""
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None
    min_size: int = 0
    """Connections kept open when idle (default 0)."""
    max_size: int = 10
    """Most connections at once (default 10)."""
    connect_timeout: float = 5.0
    """Seconds to connect (default 5)."""
    pool_recycle: int = 3600
    """Reopen connections older than this many seconds (MySQL drops idle ones)."""


class _Statement:
    __slots__ = ("connection", "owner", "sql")

    def __init__(self, owner: MysqlConnector, sql: str, connection: Any) -> None:
        self.owner = owner
        self.sql = sql
        self.connection = connection

    async def execute(self, params: Sequence[Any]) -> Result:
        if self.connection is not None:
            return await _run(self.connection, self.sql, params)
        pool = await self.owner.pool()
        async with pool.acquire() as connection:
            return await _run(connection, self.sql, params)


async def _run(connection: Any, sql: str, params: Sequence[Any]) -> Result:
    from asyncmy.cursors import DictCursor

    async with connection.cursor(cursor=DictCursor) as cursor:
        await cursor.execute(sql, tuple(params))
        rows = list(await cursor.fetchall()) if cursor.description is not None else []
        changes = max(cursor.rowcount, 0)
        inserted = changes > 0 and bool(cursor.lastrowid)
        return Result(
            rows=rows, changes=changes, last_insert_id=cursor.lastrowid if inserted else None
        )


class MysqlConnector:
    name = CONNECTOR_NAME
    dialect = "mysql"
    style = "format"

    def __init__(self, options: MysqlOptions) -> None:
        parts = split_url(options.url) if options.url else {}
        self.settings: dict[str, Any] = {
            "host": options.host or parts.get("host") or "localhost",
            "port": options.port or parts.get("port") or 3306,
            "user": options.user or parts.get("user") or "root",
            "password": options.password or parts.get("password") or "",
            "database": options.database or parts.get("database"),
        }
        self.options = options
        self.endpoint = endpoint(
            "mysql", self.settings["host"], self.settings["port"], self.settings["database"]
        )
        self._pool: Any = None

    async def pool(self) -> Any:
        if self._pool is None:
            import asyncmy

            self._pool = await asyncmy.create_pool(
                **{k: v for k, v in self.settings.items() if v is not None},
                minsize=self.options.min_size,
                maxsize=self.options.max_size,
                connect_timeout=self.options.connect_timeout,
                pool_recycle=self.options.pool_recycle,
                autocommit=True,
                charset="utf8mb4",
            )
        return self._pool

    async def exec(self, script: str) -> None:
        pool = await self.pool()
        async with pool.acquire() as connection:
            await _exec_script(connection, script)

    def prepare(self, sql: str) -> _Statement:
        return _Statement(self, sql, None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Transaction]:
        pool = await self.pool()
        async with pool.acquire() as connection:
            await connection.begin()
            try:
                yield _Transaction(self, connection)
            except BaseException:
                await connection.rollback()
                raise
            await connection.commit()

    async def dispose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.close()
            await pool.wait_closed()


async def _exec_script(connection: Any, script: str) -> None:
    # Several statements in one call: PyMySQL sends them as one multi-statement query
    # only with the MULTI_STATEMENTS flag, so run them one by one instead.
    async with connection.cursor() as cursor:
        for statement in split_statements(script, dialect="mysql"):
            await cursor.execute(statement)


class _Transaction:
    def __init__(self, owner: MysqlConnector, connection: Any) -> None:
        self.owner = owner
        self.connection = connection
        self.name, self.dialect, self.style, self.endpoint = (
            owner.name,
            owner.dialect,
            owner.style,
            owner.endpoint,
        )

    async def exec(self, script: str) -> None:
        await _exec_script(self.connection, script)

    def prepare(self, sql: str) -> _Statement:
        return _Statement(self.owner, sql, self.connection)

    def transaction(self) -> Any:
        raise RuntimeError("[nitro:db:mysql] transactions do not nest")

    async def dispose(self) -> None:
        return None


def connector(options: Mapping[str, Any], *, root: Path) -> MysqlConnector:
    import asyncmy  # noqa: F401  (a missing driver surfaces here, naming the extra)

    return MysqlConnector(parse_options(MysqlOptions, options, CONNECTOR_NAME))
