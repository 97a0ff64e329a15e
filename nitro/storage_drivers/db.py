"""`db`: key/value pairs in a SQL table, through `use_database` (SQLite, PostgreSQL, MySQL).

The table (created on first use) holds the key, the value's bytes, `mtime`, and the
TTL as set with its expiry (epoch seconds), checked on every read: an expired row
is missing and gets deleted. `set_if_absent` is an insert that does nothing on a
conflict, so it is atomic across every process using the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.database import Database, DatabaseError, use_database
from ..core.options import Options
from ._base import DriverBase, parse_options

DRIVER_NAME = "db"
REQUIRES: list[str] = []

_DDL = {
    "sqlite": "CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY, value BLOB NOT NULL, mtime REAL NOT NULL, ttl REAL, expires REAL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY, value BYTEA NOT NULL, mtime DOUBLE PRECISION NOT NULL, ttl DOUBLE PRECISION, expires DOUBLE PRECISION)",
    "mysql": "CREATE TABLE IF NOT EXISTS {t} (`key` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY, value LONGBLOB NOT NULL, mtime DOUBLE NOT NULL, ttl DOUBLE, expires DOUBLE)",
}
_LENGTH = {"sqlite": "length", "postgresql": "octet_length", "mysql": "length"}


class DbOptions(Options):
    """Options of the `db` driver."""

    database: str = "default"
    """The `database` connection to use (default "default": SQLite `.data/db.sqlite`)."""
    table: str = "nitro_kv"
    """The table holding the values (created when missing)."""


class DbDriver(DriverBase):
    name = DRIVER_NAME
    network = True  # a server database is remote; the front's timeout applies

    def __init__(self, database: str, table: str) -> None:
        if not table.replace("_", "").isalnum():
            raise ValueError(f"[nitro:storage:db] table {table!r} must be letters, digits and _")
        self.database_name = database
        self.table = table
        self.endpoint = f"database {database!r}, table {table}"
        self._db: Database | None = None
        self._lock = asyncio.Lock()  # binds to a loop on first use, not here

    async def _ready(self) -> Database:
        if self._db is not None:
            return self._db
        async with self._lock:  # one CREATE per process: IF NOT EXISTS is not race-safe
            if self._db is None:
                db = use_database(self.database_name)
                try:
                    await db.exec(_DDL[db.dialect].format(t=self.table))
                except DatabaseError:
                    # Another process created it at the same moment: fine if it is there now.
                    await db.sql(f"SELECT 1 FROM {self.table} WHERE 1 = 0")
                self._db = db
        return self._db

    def _key(self, db: Database) -> str:
        return "`key`" if db.dialect == "mysql" else "key"

    async def get(self, key: str) -> bytes | None:
        db = await self._ready()
        k = self._key(db)
        row = await db.prepare(f"SELECT value, expires FROM {self.table} WHERE {k} = ?").get(key)
        if row is None:
            return None
        if row["expires"] is not None and row["expires"] <= time.time():
            await db.sql(
                f"DELETE FROM {self.table} WHERE {k} = ? AND expires <= ?", key, time.time()
            )
            return None
        return bytes(row["value"])

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        db = await self._ready()
        now = time.time()
        params = (key, value, now, ttl, None if ttl is None else now + ttl)
        k = self._key(db)
        if db.dialect == "mysql":
            upsert = (
                f"INSERT INTO {self.table} ({k}, value, mtime, ttl, expires) VALUES (?, ?, ?, ?, ?) "
                "ON DUPLICATE KEY UPDATE value = VALUES(value), mtime = VALUES(mtime), "
                "ttl = VALUES(ttl), expires = VALUES(expires)"
            )
        else:
            upsert = (
                f"INSERT INTO {self.table} (key, value, mtime, ttl, expires) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, mtime = excluded.mtime, "
                "ttl = excluded.ttl, expires = excluded.expires"
            )
        await db.sql(upsert, *params)

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        db = await self._ready()
        now = time.time()
        k = self._key(db)
        await db.sql(f"DELETE FROM {self.table} WHERE {k} = ? AND expires <= ?", key, now)
        ignore = "INSERT IGNORE" if db.dialect == "mysql" else "INSERT"
        conflict = "" if db.dialect == "mysql" else " ON CONFLICT (key) DO NOTHING"
        result = await db.sql(
            f"{ignore} INTO {self.table} ({k}, value, mtime, ttl, expires) VALUES (?, ?, ?, ?, ?){conflict}",
            key, value, now, ttl, None if ttl is None else now + ttl,
        )  # fmt: skip
        return result.changes == 1

    async def has(self, key: str) -> bool:
        db = await self._ready()
        row = await db.prepare(f"SELECT expires FROM {self.table} WHERE {self._key(db)} = ?").get(
            key
        )
        return row is not None and (row["expires"] is None or row["expires"] > time.time())

    async def remove(self, key: str) -> None:
        db = await self._ready()
        await db.sql(f"DELETE FROM {self.table} WHERE {self._key(db)} = ?", key)

    async def keys(self, prefix: str) -> list[str]:
        db = await self._ready()
        k = self._key(db)
        rows = await db.prepare(
            f"SELECT {k} AS k FROM {self.table} WHERE {k} LIKE ? ESCAPE '!' AND (expires IS NULL OR expires > ?)"
        ).all(_like_prefix(prefix), time.time())
        return [row["k"] for row in rows]

    async def clear(self, prefix: str) -> None:
        db = await self._ready()
        await db.sql(
            f"DELETE FROM {self.table} WHERE {self._key(db)} LIKE ? ESCAPE '!'",
            _like_prefix(prefix),
        )

    async def meta(self, key: str) -> dict[str, Any] | None:
        db = await self._ready()
        size = _LENGTH[db.dialect]
        row = await db.prepare(
            f"SELECT mtime, ttl, expires, {size}(value) AS size FROM {self.table} WHERE {self._key(db)} = ?"
        ).get(key)
        if row is None or (row["expires"] is not None and row["expires"] <= time.time()):
            return None
        meta: dict[str, Any] = {"mtime": row["mtime"], "size": int(row["size"])}
        if row["ttl"] is not None:
            meta["ttl"] = row["ttl"]
        return meta


def _like_prefix(prefix: str) -> str:
    # "!" escapes the same way in SQLite, PostgreSQL and MySQL (a backslash does not).
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def driver(options: Mapping[str, Any], *, root: Path) -> DbDriver:
    parsed = parse_options(DbOptions, options, DRIVER_NAME)
    return DbDriver(parsed.database, parsed.table)
