"""`use_database`: one async SQL API over SQLite, PostgreSQL and MySQL (db0's model).

Queries use ``?`` placeholders, converted once per query text to the driver's
style; ``?`` inside string literals, quoted identifiers and comments is left
alone. Values are always bound by the driver, never formatted into the SQL, and
never shown in error messages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from .errors import HTTPError
from .sql_text import convert_placeholders

__all__ = [
    "Connector",
    "Database",
    "DatabaseError",
    "Result",
    "Statement",
    "use_database",
]

_CREDENTIALS = re.compile(r"(//)[^/@\s]+@")


class Result:
    """What a statement did: `rows` (dicts), `changes` (rows affected), `last_insert_id`."""

    # A plain class, not a dataclass: defining one costs a cold start ~6 M instructions.
    __slots__ = ("changes", "last_insert_id", "rows")

    def __init__(
        self,
        rows: list[dict[str, Any]] | None = None,
        changes: int = 0,
        last_insert_id: int | None = None,
    ) -> None:
        self.rows: list[dict[str, Any]] = [] if rows is None else rows
        self.changes = changes
        self.last_insert_id = last_insert_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return (self.rows, self.changes, self.last_insert_id) == (
            other.rows,
            other.changes,
            other.last_insert_id,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Result(rows={self.rows!r}, changes={self.changes!r}, "
            f"last_insert_id={self.last_insert_id!r})"
        )


class DatabaseError(HTTPError):
    """A query or connection failed. Names the connector, the connection and the host,
    never the bound values or credentials.

    The SQL is kept apart (`sql`): ``str(error)`` (logs, tracebacks, dev error pages)
    shows it, the error's JSON body (`message`) does not. When the server is
    unavailable or the connection broke, `status` is 503.
    """

    def __init__(self, message: str, *, status: int = 500, sql: str | None = None) -> None:
        super().__init__(status, _CREDENTIALS.sub(r"\1***@", message))
        self.sql = sql

    def __str__(self) -> str:
        return self.message if self.sql is None else f"{self.message}\n  SQL: {self.sql}"


class Statement(Protocol):
    """A prepared statement of a connector (SQL already in the driver's style)."""

    async def execute(self, params: Sequence[Any]) -> Result: ...


class Connector(Protocol):
    """What a SQL connector implements; `Database` does the rest.

    `prepare` takes SQL in the connector's placeholder `style` ("qmark" ``?``,
    "format" ``%s`` with literal ``%`` doubled, "numeric" ``$1``). `transaction`
    yields a connector bound to one connection inside BEGIN ... COMMIT/ROLLBACK.
    Errors the connector raises as `DatabaseError` reach the caller as they are;
    anything else is wrapped with the connection's name. A connector may define
    ``is_unavailable(exc) -> bool`` to say which of its driver's errors mean the
    server is unavailable or the connection broke (a 503); without it a guess from
    the exception's type and text decides.
    """

    name: str
    dialect: str  # "sqlite" | "postgresql" | "mysql"
    style: str  # "qmark" | "format" | "numeric"
    endpoint: str

    async def exec(self, script: str) -> None: ...
    def prepare(self, sql: str) -> Statement: ...
    def transaction(self) -> Any: ...  # an async context manager yielding a Connector
    async def dispose(self) -> None: ...


_current_tx: ContextVar[dict[int, Connector] | None] = ContextVar("nitro.db.tx", default=None)


class Database:
    """One named connection (``use_database("default")``).

    Example::

        db = use_database()
        await db.exec("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
        result = await db.sql("INSERT INTO users (name) VALUES (?)", "Ada")
        users = (await db.sql("SELECT * FROM users WHERE id = ?", result.last_insert_id)).rows
    """

    def __init__(self, connector: Connector, name: str = "default") -> None:
        self.connector = connector
        self.name = name
        self.dialect = connector.dialect
        self._converted: dict[str, str] = {}

    def _connector(self) -> Connector:
        open_tx = _current_tx.get()
        if open_tx is not None:
            bound = open_tx.get(id(self))
            if bound is not None:
                return bound
        return self.connector

    def _convert(self, sql: str) -> str:
        converted = self._converted.get(sql)
        if converted is None:
            converted = convert_placeholders(sql, self.connector.style, dialect=self.dialect)
            if len(self._converted) > 1024:
                self._converted.clear()
            self._converted[sql] = converted
        return converted

    async def sql(self, query: Any, *params: Any) -> Result:
        """Run one statement; ``?`` placeholders take `params` (a t-string binds its values).

        Example: ``await db.sql("SELECT * FROM users WHERE id = ?", user_id)``.
        """
        text, values = _template(query) if not isinstance(query, str) else (query, params)
        return await self._run(text, values)

    async def _run(self, text: str, values: Sequence[Any]) -> Result:
        connector = self._connector()
        try:
            return await connector.prepare(self._convert(text)).execute(values)
        except DatabaseError:
            raise
        except Exception as exc:
            raise self._error(exc, text, values) from exc

    async def exec(self, script: str) -> None:
        """Run SQL without parameters; several statements separated by ``;`` are fine."""
        try:
            await self._connector().exec(script)
        except DatabaseError:
            raise
        except Exception as exc:
            raise self._error(exc, script, ()) from exc

    def prepare(self, sql: str) -> Prepared:
        """A statement to run many times: ``await db.prepare(sql).all(*params)``."""
        return Prepared(self, sql)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Group statements: commit when the block ends, roll back when it raises.

        Example::

            async with db.transaction():
                await db.sql("UPDATE accounts SET balance = balance - ? WHERE id = ?", 10, a)
                await db.sql("UPDATE accounts SET balance = balance + ? WHERE id = ?", 10, b)

        Statements in the block (also in functions it calls) use the transaction's
        connection; do not share it with tasks started inside the block.
        """
        if self._connector() is not self.connector:
            raise RuntimeError(f"[nitro:db] {self.name!r}: transactions do not nest")
        try:
            context = self.connector.transaction()
            bound = await context.__aenter__()
        except DatabaseError:
            raise
        except Exception as exc:
            raise self._error(exc, "BEGIN", ()) from exc
        open_tx = dict(_current_tx.get() or {})
        open_tx[id(self)] = bound
        token = _current_tx.set(open_tx)
        try:
            yield self
        except BaseException as exc:
            _current_tx.reset(token)
            try:
                await context.__aexit__(type(exc), exc, exc.__traceback__)
            except Exception:
                # ROLLBACK failed too (the connection broke): what the block raised is
                # the error to report; the pool drops the connection.
                pass
            raise
        else:
            _current_tx.reset(token)
            try:
                await context.__aexit__(None, None, None)
            except Exception as exc:
                raise self._error(exc, "COMMIT", ()) from exc

    async def dispose(self) -> None:
        """Close the connection pool."""
        await self.connector.dispose()

    def _error(self, exc: BaseException, sql: str, values: Sequence[Any]) -> DatabaseError:
        message = str(exc)
        for value in values:  # a driver may echo a value in its message: never show it
            message = _hide_value(message, value)
        message = " ".join(message.split()) or type(exc).__name__  # one line (libpq's has tabs)
        head = f"[nitro:db:{self.connector.name}] {self.name!r} ({self.connector.endpoint})"
        classify = getattr(self.connector, "is_unavailable", None)
        unavailable = classify(exc) if classify is not None else _is_connection_error(exc)
        if unavailable:
            return DatabaseError(
                f"{head}: unavailable: {type(exc).__name__}: {message}",
                status=503,
                sql=_one_line(sql),
            )
        return DatabaseError(f"{head}: {type(exc).__name__}: {message}", sql=_one_line(sql))


class Prepared:
    """A prepared statement of a `Database` (``db.prepare(sql)``)."""

    def __init__(self, db: Database, sql: str) -> None:
        self.db = db
        self.sql = sql

    async def all(self, *params: Any) -> list[dict[str, Any]]:
        """Every row."""
        return (await self.db._run(self.sql, params)).rows

    async def get(self, *params: Any) -> dict[str, Any] | None:
        """The first row, or None."""
        rows = (await self.db._run(self.sql, params)).rows
        return rows[0] if rows else None

    async def run(self, *params: Any) -> Result:
        """Run it for its effect: `changes` and `last_insert_id`."""
        return await self.db._run(self.sql, params)


def _template(query: Any) -> tuple[str, tuple[Any, ...]]:
    """A Python 3.14 t-string (``t"... {x}"``) as SQL with ``?`` and its values."""
    strings = getattr(query, "strings", None)
    interpolations = getattr(query, "interpolations", None)
    if strings is None or interpolations is None:
        raise TypeError(f"[nitro:db] sql() takes a str or a t-string, got {type(query).__name__}")
    return "?".join(strings), tuple(item.value for item in interpolations)


def _one_line(sql: str) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= 500 else text[:497] + "..."


def _hide_value(message: str, value: Any) -> str:
    """`message` with `value` replaced by ``<value>`` where it stands alone (quoted, in
    parentheses, after a space), not inside a longer word, number or dotted name: the
    value "x" must not garble "unexpectedly", nor 0.0 the host "127.0.0.1"."""
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        return message
    if not text or text not in message:
        return message
    pattern = re.escape(text)
    if text[0].isalnum() or text[0] == "_":
        pattern = r"(?<![\w.])" + pattern
    if text[-1].isalnum() or text[-1] == "_":
        pattern += r"(?![\w.])"
    return re.sub(pattern, "<value>", message)


def _is_connection_error(exc: BaseException) -> bool:
    """A guess for connectors that do not say (no ``is_unavailable``)."""
    text = f"{type(exc).__module__}.{type(exc).__name__} {exc}".lower()
    markers = (
        "connection refused",
        "could not connect",
        "can't connect",
        "connection failed",
        "timed out",
        "pooltimeout",
    )
    return isinstance(exc, (ConnectionError, OSError, TimeoutError)) or any(
        m in text for m in markers
    )


def use_database(name: str = "default") -> Database:
    """The database connection `name` from the config (default: SQLite `.data/db.sqlite`).

    Example::

        from nitro import define_handler, use_database

        @define_handler
        async def handler(event):
            row = await use_database().prepare("SELECT 1 AS one").get()
            return row
    """
    from .context import use_nitro_app

    databases = use_nitro_app().databases
    database = databases.get(name)
    if database is None:
        configured = ", ".join(sorted(databases)) or "none"
        raise DatabaseError(
            f"[nitro:db] no database named {name!r}; configured: {configured} (`database` in nitro.config.py)"
        )
    return database
