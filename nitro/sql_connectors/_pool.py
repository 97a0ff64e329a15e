"""What the server connectors (PostgreSQL, MySQL) share: options, a pool opened on
first use and kept across requests and warm invocations, statements on a pooled
connection or on a transaction's.

A subclass says how its driver opens, lends and closes connections and runs SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from ..core.database import Result
from ..core.options import Options
from ._common import InTransaction, endpoint, split_url


class ServerOptions(Options):
    """Options every server connector takes: `url`, or the separate parts, and the pool's size."""

    url: str | None = None
    """``scheme://user:password@host:port/dbname``; usually ``"{{DATABASE_URL}}"``."""
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
    """Seconds to connect (default 5)."""


class PooledConnector:
    """A server database behind its driver's connection pool."""

    name: str
    dialect: str
    style = "format"

    def __init__(
        self,
        options: ServerOptions,
        *,
        port: int,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        # Each part: the option, else the URL's, else the driver's default.
        parts = split_url(options.url) if options.url else {}
        self.settings: dict[str, Any] = {
            "host": options.host or parts.get("host") or "localhost",
            "port": options.port or parts.get("port") or port,
            "user": options.user or parts.get("user") or user,
            "password": options.password or parts.get("password") or password,
            "database": options.database or parts.get("database"),
        }
        self.options = options
        self.endpoint = endpoint(
            self.dialect, self.settings["host"], self.settings["port"], self.settings["database"]
        )
        self._pool: Any = None

    async def pool(self) -> Any:
        if self._pool is None:
            self._pool = await self.open_pool()
        return self._pool

    async def exec(self, script: str) -> None:
        async with self.acquire(await self.pool()) as connection:
            await self.run_script(connection, script)

    def prepare(self, sql: str) -> PooledStatement:
        return PooledStatement(self, sql, None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PooledTransaction]:
        async with self.acquire(await self.pool()) as connection, self.begin(connection):
            yield PooledTransaction(self, connection)

    async def dispose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await self.close_pool(pool)

    # What each driver does its own way.

    async def open_pool(self) -> Any:
        raise NotImplementedError

    async def close_pool(self, pool: Any) -> None:
        raise NotImplementedError

    def acquire(self, pool: Any) -> AbstractAsyncContextManager[Any]:
        """A connection lent by `pool`; one that broke is not given back."""
        raise NotImplementedError

    def begin(self, connection: Any) -> AbstractAsyncContextManager[Any]:
        """BEGIN ... COMMIT, or ROLLBACK when the block raises."""
        raise NotImplementedError

    async def run(self, connection: Any, sql: str, params: Sequence[Any]) -> Result:
        raise NotImplementedError

    async def run_script(self, connection: Any, script: str) -> None:
        raise NotImplementedError


class PooledStatement:
    __slots__ = ("connection", "owner", "sql")

    def __init__(self, owner: PooledConnector, sql: str, connection: Any) -> None:
        self.owner = owner
        self.sql = sql
        self.connection = connection

    async def execute(self, params: Sequence[Any]) -> Result:
        if self.connection is not None:
            return await self.owner.run(self.connection, self.sql, params)
        async with self.owner.acquire(await self.owner.pool()) as connection:
            return await self.owner.run(connection, self.sql, params)


class PooledTransaction(InTransaction):
    def __init__(self, owner: PooledConnector, connection: Any) -> None:
        super().__init__(owner)
        self.owner = owner
        self.connection = connection

    async def exec(self, script: str) -> None:
        await self.owner.run_script(self.connection, script)

    def prepare(self, sql: str) -> PooledStatement:
        return PooledStatement(self.owner, sql, self.connection)
