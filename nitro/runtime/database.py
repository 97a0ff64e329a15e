"""The app's databases, from the config's `database` / `dev_database`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ConfigError, NitroConfig, resolve_env_refs
from ..core.database import Database
from ..sql_connectors import create_connector

if TYPE_CHECKING:
    from ..core.app import NitroApp

__all__ = ["create_databases", "database_entries", "dispose_databases"]

DEFAULT = {"default": {"connector": "sqlite"}}


def database_entries(config: NitroConfig, *, dev: bool) -> dict[str, Any]:
    """Connection name -> its entry as configured: `dev_database` in dev when set,
    else `database`, else ``default`` on SQLite."""
    return dict(
        (config.dev_database if dev and config.dev_database else config.database) or DEFAULT
    )


def create_databases(
    root: Path,
    config: NitroConfig,
    *,
    dev: bool,
    environ: Mapping[str, str] | None = None,
    defer_unset: bool = False,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, Database]:
    """One `Database` per configured connection; `dev_database` replaces `database` in dev.

    An entry is ``{"connector": "postgresql", "url": "{{DATABASE_URL}}"}`` (Nitro's
    ``{"connector": ..., "options": {...}}`` works too). With nothing configured,
    ``default`` is SQLite at `.data/db.sqlite`. Connections open on first use.
    ``{{VAR}}`` resolves from the environment, ``{{secret:NAME}}`` from `secrets`.
    With `defer_unset` (the build importing or prerendering the app), a connection
    whose variable is not set is unavailable instead of an error, once its connector
    and libraries are found (see `nitro.runtime.deferred`).
    """
    entries = database_entries(config, dev=dev)
    env = os.environ if environ is None else environ
    databases: dict[str, Database] = {}
    for name, entry in entries.items():
        where = f"database[{name!r}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("connector"), str):
            raise ConfigError(
                f"[nitro:config] {where} needs a 'connector' name (sqlite, postgresql, mysql)"
            )
        options: dict[str, Any] = {
            k: v for k, v in entry.items() if k not in ("connector", "options")
        }
        nested = entry.get("options")
        if isinstance(nested, Mapping):
            options.update(nested)
        try:
            resolved = resolve_env_refs(options, env, where, secrets=secrets)
        except ConfigError as exc:
            if not defer_unset:
                raise
            from .deferred import UnavailableConnector, check_connector

            try:
                check_connector(entry["connector"])
            except (ValueError, ImportError) as error:
                raise ConfigError(f"[nitro:config] {where}: {error}") from error
            unavailable = UnavailableConnector(entry["connector"], name, str(exc))
            databases[name] = Database(unavailable, name)
            continue
        try:
            connector = create_connector(entry["connector"], resolved, root=root)
        except (ValueError, ImportError) as exc:
            raise ConfigError(f"[nitro:config] {where}: {exc}") from exc
        databases[name] = Database(connector, name)
    return databases


async def dispose_databases(app: NitroApp) -> None:
    """Close every database's connections (the `close` hook `load_app` adds)."""
    for database in app.databases.values():
        await database.dispose()
