"""What a database failure becomes: 503 or 500, and what a client may see of it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from nitro import DatabaseError
from nitro.core.database import Database, Result
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


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
