"""What a database failure becomes: 503 or 500, and what a client may see of it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from nitro import DatabaseError
from nitro.core.database import Database, Result
from nitro.sql_connectors import create_connector
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


def _connector(name: str, tmp_path: Path) -> Any:
    scheme = "postgresql" if name == "postgresql" else "mysql"
    return create_connector(name, {"url": f"{scheme}://app:pw@127.0.0.1:1/db"}, root=tmp_path)


def test_postgresql_errors_that_mean_unavailable(tmp_path: Path) -> None:
    import psycopg
    from psycopg import errors

    unavailable = _connector("postgresql", tmp_path).is_unavailable
    # libpq's own errors have no SQLSTATE: connecting failed or the connection broke.
    assert unavailable(psycopg.OperationalError("consuming input failed: server closed"))
    assert unavailable(psycopg.OperationalError("connection failed: Connection refused"))
    assert unavailable(errors.ConnectionTimeout("connection timeout expired"))
    assert unavailable(errors.AdminShutdown("terminating connection"))  # 57P01
    assert unavailable(errors.CannotConnectNow("the database system is starting up"))  # 57P03
    assert unavailable(errors.TooManyConnections("too many clients"))  # 53300
    assert unavailable(errors.ConnectionFailure("connection failure"))  # 08006
    # Errors about the query, even the OperationalError kind, are not the server's absence.
    assert not unavailable(errors.QueryCanceled("statement timeout"))  # 57014
    assert not unavailable(errors.LockNotAvailable("could not obtain lock"))  # 55P03
    assert not unavailable(errors.SyntaxError("syntax error"))
    assert not unavailable(errors.UniqueViolation("duplicate key"))
    assert not unavailable(ValueError("bad value"))
    assert unavailable(ConnectionResetError())
    assert unavailable(TimeoutError())


def test_mysql_errors_that_mean_unavailable(tmp_path: Path) -> None:
    from asyncmy import errors

    unavailable = _connector("mysql", tmp_path).is_unavailable
    for code in (2003, 2006, 2013, 2055, 1040, 1053, 1927):
        assert unavailable(errors.OperationalError(code, "...")), code
    assert unavailable(errors.InterfaceError(0, "Not connected"))
    assert not unavailable(errors.OperationalError(1205, "Lock wait timeout exceeded"))
    assert not unavailable(errors.ProgrammingError(1064, "You have an error in your SQL"))
    assert not unavailable(errors.IntegrityError(1062, "Duplicate entry"))
    assert not unavailable(errors.OperationalError())


class Failing:
    """A connector whose every statement raises `error`."""

    name = "fake"
    dialect = "sqlite"
    style = "qmark"
    endpoint = "fake://db.internal:1/app"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def prepare(self, sql: str) -> Failing:
        return self

    async def execute(self, params: Sequence[Any]) -> Result:
        raise self.error

    async def exec(self, script: str) -> None:
        raise self.error

    def transaction(self) -> Any:
        raise NotImplementedError

    async def dispose(self) -> None:
        return None


async def test_bound_values_are_hidden_without_garbling_the_message() -> None:
    error = RuntimeError(
        'server closed the connection unexpectedly at 127.0.0.1: key (name)=(x) and "0.0"'
    )
    db = Database(Failing(error), "main")
    with pytest.raises(DatabaseError) as info:
        await db.sql("SELECT ? WHERE ?", "x", 0.0)
    message = info.value.message
    assert "unexpectedly at 127.0.0.1" in message  # neither "x" nor 0.0 inside words or hosts
    assert "(name)=(<value>)" in message and '"<value>"' in message


async def test_a_connection_error_is_a_503_with_the_sql_kept_for_the_log() -> None:
    db = Database(Failing(ConnectionRefusedError(111, "Connection refused")), "main")
    with pytest.raises(DatabaseError) as info:
        await db.sql("SELECT * FROM users WHERE id = ?", 1)
    assert info.value.status == 503
    assert info.value.message == (
        "[nitro:db:fake] 'main' (fake://db.internal:1/app): unavailable: "
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert info.value.sql == "SELECT * FROM users WHERE id = ?"
    assert str(info.value).endswith("\n  SQL: SELECT * FROM users WHERE id = ?")


ROUTE = """\
from nitro import define_handler, use_database

@define_handler
async def handler(event):
    return (await use_database().sql("SELECT secret_column FROM missing_table WHERE id = ?", 1)).rows
"""


@pytest.mark.parametrize("dev", [False, True])
async def test_a_failed_query_shows_its_sql_in_dev_only(tmp_path: Path, dev: bool) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "report.py").write_text(ROUTE)
    async with TestClient(tmp_path, dev=dev) as client:
        response = await client.get("/report")
    assert response.status_code == 500
    body = response.json()
    assert body["message"].startswith("[nitro:db:sqlite] 'default' (sqlite:")
    assert "no such table: missing_table" in body["message"]
    assert "SELECT" not in body["message"]
    if dev:  # the traceback, for the developer, names the statement
        assert "  SQL: SELECT secret_column FROM missing_table WHERE id = ?" in body["stack"]
    else:
        assert "secret_column" not in response.text and "stack" not in body
