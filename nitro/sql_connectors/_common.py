"""What connectors share: option parsing, connection URLs, the in-transaction view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from ..core.database import Connector
from ..core.options import options_as

T = TypeVar("T")


def parse_options(cls: type[T], options: Mapping[str, Any], connector: str) -> T:
    """`options` as the connector's `Options` class; an unknown key names the nearest one."""
    return options_as(cls, options, f"nitro:db:{connector}")


def split_url(url: str) -> dict[str, Any]:
    """``scheme://user:password@host:port/db`` as parts (password unquoted)."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname,
        "port": parts.port,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "database": parts.path.lstrip("/") or None,
    }


def endpoint(scheme: str, host: str | None, port: int | None, database: str | None) -> str:
    """A connection's address for messages: never the user or password."""
    where = host or "localhost"
    return f"{scheme}://{where}{f':{port}' if port else ''}/{database or ''}"


class InTransaction:
    """A connector seen from inside one of its transactions: the same name, dialect,
    style and endpoint; a subclass runs `exec` and `prepare` on the transaction's
    connection."""

    def __init__(self, owner: Connector) -> None:
        self.name = owner.name
        self.dialect = owner.dialect
        self.style = owner.style
        self.endpoint = owner.endpoint

    def transaction(self) -> Any:
        raise RuntimeError(f"[nitro:db:{self.name}] transactions do not nest")

    async def dispose(self) -> None:
        return None
