from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from nitro.core.database import Database
from nitro.sql_connectors import connector_names, create_connector

from helpers import port_open, require_service

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL_URL = "mysql://root@127.0.0.1:3306/test"

# The same table in each dialect: an auto-numbered id, text, a number, bytes.
DDL = {
    "sqlite": "CREATE TABLE {t} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, score REAL, data BLOB)",
    "postgresql": "CREATE TABLE {t} (id SERIAL PRIMARY KEY, name TEXT, score DOUBLE PRECISION, data BYTEA)",
    "mysql": "CREATE TABLE {t} (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT, score DOUBLE, data LONGBLOB) CHARACTER SET utf8mb4",
}


def options_for(name: str, tmp_path: Path) -> dict[str, object]:
    if name == "sqlite":
        return {"path": str(tmp_path / "test.sqlite")}
    if name == "postgresql":
        require_service(
            port_open("127.0.0.1", 5432),
            "PostgreSQL on 127.0.0.1:5432",
            "pg_ctlcluster 15 main start",
        )
        return {"url": POSTGRES_URL}
    require_service(
        port_open("127.0.0.1", 3306),
        "MariaDB on 127.0.0.1:3306",
        "start-stop-daemon --start --background --exec /usr/sbin/mariadbd",
    )
    return {"url": MYSQL_URL}


@asynccontextmanager
async def connect(
    name: str, tmp_path: Path, label: str, **options: object
) -> AsyncIterator[Database]:
    """A `Database` called `label` on this machine's server for connector `name`
    (`options` added to the test options), disposed afterwards."""
    database = Database(
        create_connector(name, options_for(name, tmp_path) | options, root=tmp_path), label
    )
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(params=connector_names())
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with connect(request.param, tmp_path, "test") as database:
        yield database


@pytest.fixture
async def table(db: Database) -> AsyncIterator[str]:
    """A fresh table (dropped afterwards) with id, name, score, data columns."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await db.exec(DDL[db.dialect].format(t=name))
    try:
        yield name
    finally:
        await db.exec(f"DROP TABLE IF EXISTS {name}")
