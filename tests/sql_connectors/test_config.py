"""Databases from config: names, env references, dev_database, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nitro import DatabaseError, NitroApp, use_database
from nitro.config import ConfigError, define_nitro_config
from nitro.runtime.database import create_databases

pytestmark = pytest.mark.anyio


def test_named_connections_and_env_references(tmp_path: Path) -> None:
    config = define_nitro_config(
        database={
            "default": {"connector": "sqlite", "path": "{{DB_FILE}}"},
            "users": {"connector": "postgresql", "url": "{{DATABASE_URL}}"},
            "legacy": {"connector": "mysql", "options": {"host": "db.internal", "database": "app"}},
        },
        dev_database={"default": {"connector": "sqlite", "path": ":memory:"}},
    )
    env = {
        "DB_FILE": str(tmp_path / "prod.sqlite"),
        "DATABASE_URL": "postgresql://u:pw@pg.internal:5432/users",
    }
    prod = create_databases(tmp_path, config, dev=False, environ=env)
    assert sorted(prod) == ["default", "legacy", "users"]
    assert prod["users"].connector.endpoint == "postgresql://pg.internal:5432/users"
    assert prod["legacy"].connector.endpoint == "mysql://db.internal:3306/app"
    dev = create_databases(tmp_path, config, dev=True, environ=env)
    assert sorted(dev) == ["default"]  # dev_database replaces database


def test_default_is_sqlite(tmp_path: Path) -> None:
    databases = create_databases(tmp_path, define_nitro_config(), dev=False, environ={})
    assert databases["default"].connector.endpoint == f"sqlite:{tmp_path / '.data' / 'db.sqlite'}"


@pytest.mark.parametrize(
    ("database", "message"),
    [
        ({"x": {"path": "a"}}, r"database\['x'\] needs a 'connector' name"),
        (
            {"x": {"connector": "postgres"}},
            r"unknown connector 'postgres'; did you mean 'postgresql'\?",
        ),
        (
            {"x": {"connector": "sqlite", "pth": "a"}},
            r"unknown option 'pth'; did you mean 'path'\?",
        ),
        (
            {"x": {"connector": "postgresql", "url": "{{NOPE_URL}}"}},
            r"database\['x'\].url uses \{\{NOPE_URL\}\}",
        ),
    ],
)
def test_config_errors(tmp_path: Path, database: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_databases(tmp_path, define_nitro_config(database=database), dev=False, environ={})


async def test_an_unknown_name_lists_the_configured_ones(tmp_path: Path) -> None:
    app = NitroApp()
    app.databases = create_databases(tmp_path, define_nitro_config(), dev=False, environ={})
    await app.startup()  # outside a request, use_database() is the running app's
    try:
        assert use_database() is app.databases["default"]
        with pytest.raises(DatabaseError, match="no database named 'users'; configured: default"):
            use_database("users")
    finally:
        await app.shutdown()
