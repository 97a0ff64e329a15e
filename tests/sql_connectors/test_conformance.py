"""The SQL connector conformance suite: the same behaviour through `Database` on
SQLite, PostgreSQL and MariaDB (the servers running on this machine)."""

from __future__ import annotations

import asyncio

import pytest

from nitro import DatabaseError
from nitro.core.database import Database

pytestmark = pytest.mark.anyio


async def test_insert_select_with_placeholders(db: Database, table: str) -> None:
    result = await db.sql(f"INSERT INTO {table} (name, score) VALUES (?, ?)", "Ada", 36.5)
    assert result.changes == 1
    if db.dialect == "postgresql":
        assert result.last_insert_id is None  # use RETURNING id
    else:
        assert isinstance(result.last_insert_id, int) and result.last_insert_id >= 1
    rows = (await db.sql(f"SELECT name, score FROM {table} WHERE name = ?", "Ada")).rows
    assert rows == [{"name": "Ada", "score": 36.5}]


async def test_question_marks_and_percents_in_literals_and_comments_are_left_alone(
    db: Database,
) -> None:
    rows = (await db.sql("SELECT '?' AS q, 'a%b' AS p, ? AS v -- is this ? a comment\n", "x")).rows
    assert rows == [{"q": "?", "p": "a%b", "v": "x"}]
    rows = (await db.sql("SELECT /* ? */ ? AS v, 'it''s ?' AS s", 7)).rows
    assert rows == [{"v": 7, "s": "it's ?"}]


async def test_values_are_bound_never_formatted(db: Database, table: str) -> None:
    evil = "x'); DROP TABLE " + table + "; --"
    await db.sql(f"INSERT INTO {table} (name) VALUES (?)", evil)
    assert (await db.sql(f"SELECT name FROM {table}")).rows == [{"name": evil}]
    percent = "100% ?{}%s"
    await db.sql(f"INSERT INTO {table} (name) VALUES (?)", percent)
    assert (await db.sql(f"SELECT COUNT(*) AS n FROM {table} WHERE name = ?", percent)).rows[0][
        "n"
    ] == 1


async def test_unicode_binary_and_null(db: Database, table: str) -> None:
    blob = bytes(range(256)) * 4
    await db.sql(
        f"INSERT INTO {table} (name, data, score) VALUES (?, ?, ?)", "ünïcödé ✓ 🚀", blob, None
    )
    row = (await db.sql(f"SELECT name, data, score FROM {table}")).rows[0]
    assert row["name"] == "ünïcödé ✓ 🚀"
    assert bytes(row["data"]) == blob
    assert row["score"] is None


async def test_prepare_all_get_run(db: Database, table: str) -> None:
    insert = db.prepare(f"INSERT INTO {table} (name, score) VALUES (?, ?)")
    for i in range(3):
        assert (await insert.run(f"n{i}", i)).changes == 1
    select = db.prepare(f"SELECT name FROM {table} WHERE score >= ? ORDER BY score")
    assert await select.all(1) == [{"name": "n1"}, {"name": "n2"}]
    assert await select.get(2) == {"name": "n2"}
    assert await select.get(99) is None
    update = await db.prepare(f"UPDATE {table} SET score = score + 10 WHERE score < ?").run(2)
    assert update.changes == 2


async def test_transactions_commit_and_roll_back(db: Database, table: str) -> None:
    async with db.transaction():
        await db.sql(f"INSERT INTO {table} (name) VALUES (?)", "committed")
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction():
            await db.sql(f"INSERT INTO {table} (name) VALUES (?)", "rolled back")
            assert len((await db.sql(f"SELECT * FROM {table}")).rows) == 2  # visible inside
            raise RuntimeError("boom")
    assert [r["name"] for r in (await db.sql(f"SELECT name FROM {table}")).rows] == ["committed"]


async def test_exec_runs_scripts(db: Database, table: str) -> None:
    await db.exec(
        f"INSERT INTO {table} (name) VALUES ('a;b');\n"
        f"-- a comment; with a semicolon\n"
        f"INSERT INTO {table} (name) VALUES ('c');"
    )
    names = sorted(r["name"] for r in (await db.sql(f"SELECT name FROM {table}")).rows)
    assert names == ["a;b", "c"]


async def test_errors_show_the_sql_but_never_the_values(db: Database, table: str) -> None:
    with pytest.raises(DatabaseError) as info:
        await db.sql(f"SELEC name FROM {table} WHERE name = ?", "secret-value-123")
    message = str(info.value)
    assert message.startswith(f"[nitro:db:{db.connector.name}] 'test'")
    assert f"SQL: SELEC name FROM {table} WHERE name = ?" in message
    assert "secret-value-123" not in message
    assert info.value.status == 500
    with pytest.raises(DatabaseError) as info:
        await db.sql(f"INSERT INTO {table} (id, name) VALUES (?, ?)", "not-a-number-secret", "x")
    assert "not-a-number-secret" not in str(info.value)
    with pytest.raises(DatabaseError) as info:  # an empty value hides nothing, garbles nothing
        await db.sql(f"SELEC name FROM {table} WHERE name = ?", b"")
    assert f"SQL: SELEC name FROM {table} WHERE name = ?" in str(info.value)
    assert "<value>" not in str(info.value)


async def test_many_concurrent_queries(db: Database, table: str) -> None:
    await db.sql(f"INSERT INTO {table} (name) VALUES (?)", "x")
    results = await asyncio.gather(
        *(db.sql(f"SELECT name, ? AS i FROM {table}", i) for i in range(20))
    )
    assert [r.rows[0]["i"] for r in results] == list(range(20))


async def test_template_strings_bind_their_values(db: Database) -> None:
    # A stand-in for a Python 3.14 t-string: t"SELECT {a} AS a, {b} AS b"
    class Interpolation:
        def __init__(self, value: object) -> None:
            self.value = value

    class Template:
        strings = ("SELECT ", " AS a, ", " AS b")
        interpolations = (Interpolation("one'; --"), Interpolation(2))

    assert (await db.sql(Template())).rows == [{"a": "one'; --", "b": 2}]
    with pytest.raises(TypeError, match="takes a str or a t-string"):
        await db.sql(42)
