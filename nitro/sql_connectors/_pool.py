"""What the server connectors (PostgreSQL, MySQL) share: options, a pool made on
first use and kept across requests and warm invocations, statements on a pooled
connection or on a transaction's, and which failures mean "the server is unavailable".

A subclass says how its driver opens, checks and closes a connection and runs SQL.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from ..core.database import Result
from ..core.options import Options
from ._common import InTransaction, endpoint, split_url
from ._connection_pool import ConnectionPool


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
    """Seconds to connect, and to wait for a free connection when all are in use (default 5)."""


class PooledConnector:
    """A server database behind nitro's connection pool (`ConnectionPool`)."""

    name: str
    dialect: str
    style = "format"
    max_idle: float = 600.0
    """Seconds an idle connection beyond `min_size` is kept."""
    max_lifetime: float | None = 3600.0
    """Seconds after which a connection is replaced (None: never)."""

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
        self._pool: ConnectionPool[Any] | None = None

    def pool(self) -> ConnectionPool[Any]:
        if self._pool is None:
            self._pool = ConnectionPool(
                open=self.connect,
                close=self.close_connection,
                usable=self.usable,
                max_size=self.options.max_size,
                min_size=self.options.min_size,
                timeout=self.options.connect_timeout,
                max_idle=self.max_idle,
                max_lifetime=self.max_lifetime,
            )
        return self._pool

    async def exec(self, script: str) -> None:
        async with self.pool().connection() as connection:
            await self.run_script(connection, script)

    def prepare(self, sql: str) -> PooledStatement:
        return PooledStatement(self, sql, None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PooledTransaction]:
        async with self.pool().connection() as connection, self.begin(connection):
            yield PooledTransaction(self, connection)

    async def dispose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def is_unavailable(self, exc: BaseException) -> bool:
        """True when `exc` means the server cannot serve now (refused, unreachable, shutting
        down, out of connections) or the connection broke: a 503, not a fault of the query."""
        return isinstance(exc, (OSError, TimeoutError)) or self.driver_unavailable(exc)

    # What each driver does its own way.

    async def connect(self) -> Any:
        """A new connection (autocommit, rows as dicts); the driver's error when refused."""
        raise NotImplementedError

    async def close_connection(self, connection: Any) -> None:
        raise NotImplementedError

    def usable(self, connection: Any) -> bool:
        """Whether `connection` may be lent (again): open, not in a transaction, and not
        dropped by the server while it sat idle. Called on every checkout and return:
        local checks only, never a round trip to the server."""
        raise NotImplementedError

    def driver_unavailable(self, exc: BaseException) -> bool:
        """Whether the driver's `exc` says the server is unavailable or the connection broke."""
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
        async with self.owner.pool().connection() as connection:
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


def socket_readable(fd: int) -> bool:
    """Whether the socket `fd` has data or EOF waiting, without blocking. On an idle
    connection either means the server closed it (or told it something): do not lend it."""
    if hasattr(select, "poll"):  # not limited to descriptors below FD_SETSIZE, as select is
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])
