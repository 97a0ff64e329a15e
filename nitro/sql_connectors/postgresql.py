"""`postgresql`: psycopg 3's async driver behind nitro's connection pool.

Why psycopg rather than asyncpg: one library for sync and async code, binary wheels
(`psycopg[binary]`) for every platform, and it works behind PgBouncer/RDS Proxy in
transaction mode, where asyncpg's statement cache breaks. Values are bound server
side, never formatted into the SQL.

Connections open on first use, in the request that needs one (so a refused connection
fails that request at once, naming the host and port), are kept across requests and
warm serverless invocations, and one that broke or that the server closed is replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.database import Result
from ._common import parse_options
from ._pool import PooledConnector, ServerOptions, socket_readable

if TYPE_CHECKING:
    from psycopg import AsyncConnection

CONNECTOR_NAME = "postgresql"
REQUIRES = ["psycopg[binary]>=3.1"]

# SQLSTATEs that mean the server cannot serve now: class 08 (connection exception),
# class 53 (insufficient resources: too many connections, out of memory, disk full),
# 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now: starting or stopping).
# https://www.postgresql.org/docs/current/errcodes-appendix.html
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03"})


class PostgresOptions(ServerOptions):
    """Options of the `postgresql` connector: `url` (``postgresql://user:password@host:5432/dbname``)
    or the separate parts, the pool's size and `connect_timeout` (see `ServerOptions`)."""


class PostgresConnector(PooledConnector):
    name = CONNECTOR_NAME
    dialect = "postgresql"

    def __init__(self, options: PostgresOptions) -> None:
        from psycopg.pq import TransactionStatus
        from psycopg.rows import dict_row

        super().__init__(options, port=5432)
        self.settings["dbname"] = self.settings.pop("database")
        self.settings["connect_timeout"] = max(1, int(options.connect_timeout))
        self._connect_args = {
            **{k: v for k, v in self.settings.items() if v is not None},
            "autocommit": True,
            "row_factory": dict_row,
        }
        self._idle_status = TransactionStatus.IDLE

    async def connect(self) -> AsyncConnection[Any]:
        from psycopg import AsyncConnection

        return await AsyncConnection.connect(**self._connect_args)

    async def close_connection(self, connection: AsyncConnection[Any]) -> None:
        await connection.close()

    def usable(self, connection: AsyncConnection[Any]) -> bool:
        if connection.closed or connection.pgconn.transaction_status != self._idle_status:
            return False
        # An idle connection has nothing to read. If it has, the server closed it (it shut
        # down, restarted or ended the backend: EOF, or a FATAL message) or sent a
        # notification: start afresh rather than lend it and fail the next query.
        return not socket_readable(connection.fileno())

    def driver_unavailable(self, exc: BaseException) -> bool:
        import psycopg

        if not isinstance(exc, psycopg.OperationalError):
            return False
        # No SQLSTATE: libpq's own error, about the connection (refused, timed out,
        # "server closed the connection unexpectedly", "the connection is closed").
        state = exc.sqlstate
        return (
            state is None or state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE_STATES
        )

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

    return PostgresConnector(parse_options(PostgresOptions, options, CONNECTOR_NAME))
