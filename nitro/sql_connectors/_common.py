"""What connectors share: option parsing and connection URLs."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

T = TypeVar("T")


def parse_options(cls: type[T], options: Mapping[str, Any], connector: str) -> T:
    """`options` as the connector's dataclass; an unknown key names the nearest one."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in options:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; options: {', '.join(names)}"
            raise ValueError(f"[nitro:db:{connector}] unknown option {key!r}{hint}")
    return cls(**options)


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
