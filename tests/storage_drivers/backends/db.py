"""The `db` driver over SQLite (a temp file) and the PostgreSQL on this machine."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from nitro import NitroApp
from nitro.core.database import Database
from nitro.sql_connectors import create_connector

from helpers import port_open, require_service

VARIANTS = ["sqlite", "postgresql"]
_open: list[tuple[Database, str]] = []
_apps: list[NitroApp] = []


async def options(
    request: pytest.FixtureRequest, tmp_path: Path, variant: str = "sqlite"
) -> dict[str, Any]:
    if variant == "postgresql":
        require_service(
            port_open("127.0.0.1", 5432),
            "PostgreSQL on 127.0.0.1:5432",
            "pg_ctlcluster 15 main start",
        )
        settings: dict[str, Any] = {"url": "postgresql://postgres@127.0.0.1:5432/test"}
    else:
        settings = {"path": str(tmp_path / "kv.sqlite")}
    database = Database(create_connector(variant, settings, root=tmp_path), "kvtest")
    app = NitroApp()  # the driver finds its database through the running app, as in a project
    app.databases = {"kvtest": database}
    await app.startup()
    _apps.append(app)
    table = f"kv_{uuid.uuid4().hex[:12]}"
    _open.append((database, table))
    return {"database": "kvtest", "table": table}


async def cleanup() -> None:
    while _apps:
        await _apps.pop().shutdown()
    while _open:
        database, table = _open.pop()
        try:
            await database.exec(f"DROP TABLE IF EXISTS {table}")
        finally:
            await database.dispose()
