"""`sqlite`: the standard library's sqlite3, in a worker thread so it never blocks
the event loop. One connection per database file, statements serialised (SQLite
allows one writer anyway), WAL journal so readers in other processes do not block.
The default database is `.data/db.sqlite`; ``":memory:"`` keeps it in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.database import Result
from ..core.options import Options
from ..core.sql_text import split_statements
from ..core.sync import run_in_thread
from ._common import InTransaction, parse_options

if TYPE_CHECKING:
    import sqlite3  # imported on first connection: every app has a default database

CONNECTOR_NAME = "sqlite"
REQUIRES: list[str] = []

T = TypeVar("T")


class SqliteOptions(Options):
    """Options of the `sqlite` connector."""

    path: str | None = None
    """Database file, relative to the project root (default `.data/db.sqlite`), or ``":memory:"``."""
    name: str | None = None
    """Nitro's shorthand: the file `.data/<name>.sqlite` (ignored when `path` is set)."""
    busy_timeout: float = 5.0
    """Seconds to wait for another process's write lock before failing (default 5)."""


async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    return await run_in_thread(fn, *args)


class _Statement:
    __slots__ = ("connector", "locked", "sql")

    def __init__(self, connector: SqliteConnector, sql: str, locked: bool) -> None:
        self.connector = connector
        self.sql = sql
        self.locked = locked

    async def execute(self, params: Sequence[Any]) -> Result:
        if self.locked:  # inside a transaction, which holds the lock already
            return await _in_thread(self.connector.run, self.sql, params)
        async with self.connector.lock:
            return await _in_thread(self.connector.run, self.sql, params)


class SqliteConnector:
    name = CONNECTOR_NAME
    dialect = "sqlite"
    style = "qmark"

    def __init__(self, path: Path | str, busy_timeout: float) -> None:
        self.path = path
        self.endpoint = f"sqlite:{path}"
        self.busy_timeout = busy_timeout
        self._connection: sqlite3.Connection | None = None
        self.lock = asyncio.Lock()  # binds to the event loop on first use, not here

    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            if isinstance(self.path, Path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            import sqlite3

            # isolation_level=None: autocommit, with explicit BEGIN for transactions.
            connection = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            if self.path != ":memory:":
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._connection = connection
        return self._connection

    def run(self, sql: str, params: Sequence[Any]) -> Result:
        cursor = self.connection().execute(sql, tuple(params))
        try:
            description = cursor.description
            if description is not None:
                columns = [column[0] for column in description]
                rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
                return Result(rows=rows, changes=max(cursor.rowcount, 0))
            changes = max(cursor.rowcount, 0)
            inserted = changes > 0 and sql.lstrip()[:7].upper() in ("INSERT ", "REPLACE")
            return Result(changes=changes, last_insert_id=cursor.lastrowid if inserted else None)
        finally:
            cursor.close()

    async def exec(self, script: str) -> None:
        async with self.lock:
            await _in_thread(self.connection().executescript, script)

    def prepare(self, sql: str) -> _Statement:
        return _Statement(self, sql, locked=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Transaction]:
        async with self.lock:
            await _in_thread(self.connection().execute, "BEGIN")
            try:
                yield _Transaction(self)
            except BaseException:
                await _in_thread(self.connection().execute, "ROLLBACK")
                raise
            await _in_thread(self.connection().execute, "COMMIT")

    async def dispose(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await _in_thread(connection.close)


class _Transaction(InTransaction):
    """The connector seen from inside a transaction (the lock is held)."""

    def __init__(self, owner: SqliteConnector) -> None:
        super().__init__(owner)
        self.owner = owner

    async def exec(self, script: str) -> None:
        # executescript() commits an open transaction first: run the statements one by one.
        connection = self.owner.connection()
        for statement in split_statements(script, dialect="sqlite"):
            await _in_thread(connection.execute, statement)

    def prepare(self, sql: str) -> _Statement:
        return _Statement(self.owner, sql, locked=True)


def connector(options: Mapping[str, Any], *, root: Path) -> SqliteConnector:
    parsed = parse_options(SqliteOptions, options, CONNECTOR_NAME)
    if parsed.path == ":memory:":
        return SqliteConnector(":memory:", parsed.busy_timeout)
    path = Path(parsed.path) if parsed.path else Path(".data") / f"{parsed.name or 'db'}.sqlite"
    return SqliteConnector(path if path.is_absolute() else root / path, parsed.busy_timeout)
