"""`mysql`: MySQL and MariaDB through asyncmy, behind nitro's connection pool.

Why asyncmy rather than aiomysql: aiomysql 0.3 cannot bind `bytes` with PyMySQL 1.2
or later (it imports a PyMySQL function that became a placeholder string: every
BLOB parameter fails), and asyncmy is maintained, faster, and ships binary wheels
for every platform. Values are escaped and bound by the driver, never formatted by
nitro.

Connections open on first use, in the request that needs one, and are reused across
requests and warm invocations; one that broke, that the server closed, or that is left
inside a transaction is closed instead of being lent again, so the next query gets a
fresh one. (asyncmy's own pool waits for a free connection without any time limit.)
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ..core.database import Result
from ..core.sql_text import split_statements
from ._common import parse_options
from ._pool import PooledConnector, ServerOptions, socket_readable

CONNECTOR_NAME = "mysql"
REQUIRES = ["asyncmy>=0.2.9"]

# Error codes that mean the server cannot serve now or the connection broke.
# Client (https://dev.mysql.com/doc/mysql-errors/8.0/en/client-error-reference.html):
# 2002/2003 cannot connect (socket/TCP), 2005 unknown host, 2006 server has gone away,
# 2012 handshake failed, 2013/2055 lost connection during a query.
# Server (https://mariadb.com/kb/en/mariadb-error-code-reference/): 1040 too many
# connections, 1053 server shutdown in progress, 1077/1079/1080 shutting down,
# 1152/1184 connection aborted, 1158-1161 network read/write errors, 1927 connection
# killed (MariaDB), 4031 disconnected for inactivity (MySQL 8).
_UNAVAILABLE_CODES = frozenset(
    {2002, 2003, 2005, 2006, 2012, 2013, 2055, 1040, 1053, 1077, 1079, 1080, 1152, 1158,
     1159, 1160, 1161, 1184, 1927, 4031}
)  # fmt: skip


class MysqlOptions(ServerOptions):
    """Options of the `mysql` connector: `url` (``mysql://user:password@host:3306/dbname``)
    or the separate parts, the pool's size and `connect_timeout` (see `ServerOptions`)."""

    pool_recycle: int = 3600
    """Close connections idle longer than this many seconds (MySQL drops idle ones after
    its `wait_timeout`); -1: never."""


class MysqlConnector(PooledConnector):
    name = CONNECTOR_NAME
    dialect = "mysql"
    options: MysqlOptions

    def __init__(self, options: MysqlOptions) -> None:
        super().__init__(options, port=3306, user="root", password="")
        # asyncmy's meaning of pool_recycle: idle time, not age.
        self.max_idle = float(options.pool_recycle) if options.pool_recycle >= 0 else math.inf
        self.max_lifetime = None
        self._connect_args = {
            **{k: v for k, v in self.settings.items() if v is not None},
            "connect_timeout": options.connect_timeout,
            "autocommit": True,
            "charset": "utf8mb4",
        }

    async def connect(self) -> Any:
        import asyncmy
        from asyncmy import errors

        try:
            return await asyncmy.connect(**self._connect_args)
        except errors.OperationalError as exc:
            # asyncio words a refused connection "[Errno 111] Connect call failed": say
            # plainly what failed, where ("Connection refused", "timed out after 5s").
            cause = exc.__cause__
            if isinstance(cause, TimeoutError):
                reason = f"timed out after {self.options.connect_timeout:g}s"
            elif isinstance(cause, OSError) and cause.errno:
                reason = os.strerror(cause.errno)
            else:
                raise
            where = f"{self.settings['host']}:{self.settings['port']}"
            raise errors.OperationalError(
                exc.args[0], f"Can't connect to MySQL server on {where}: {reason}"
            ) from cause

    async def close_connection(self, connection: Any) -> None:
        await connection.ensure_closed()  # says QUIT when it still can, else just closes

    def usable(self, connection: Any) -> bool:
        if not connection.connected or connection.get_transaction_status():
            return False
        # A server that closed the connection while it sat idle: asyncmy marks the stream
        # broken once the event loop has read the EOF; the socket shows it even before.
        # (Private attributes: without them such a connection fails its next query, a 503.)
        if getattr(connection, "_stream_broken", False):
            return False
        transport = getattr(connection, "_transport", None)
        sock = transport.get_extra_info("socket") if transport is not None else None
        return sock is None or not socket_readable(sock.fileno())

    def driver_unavailable(self, exc: BaseException) -> bool:
        from asyncmy import errors

        if not isinstance(exc, errors.Error) or not exc.args:
            return False
        code = exc.args[0]
        # InterfaceError(0, "Not connected"): a query on a connection already closed.
        return code in _UNAVAILABLE_CODES or (isinstance(exc, errors.InterfaceError) and code == 0)

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
