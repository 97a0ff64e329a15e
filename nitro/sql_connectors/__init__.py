"""SQL connectors: one module per database driver, found by name and imported on demand.

A connector module defines ``connector(options, *, root) -> Connector`` (see
`nitro.core.database.Connector`). Other packages add connectors through the
``nitro.sql_connectors`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.database import Connector
from ..core.registry import import_registered, missing_extra, registered

__all__ = ["CONNECTORS", "EXTRAS", "connector_names", "create_connector"]

CONNECTORS: dict[str, str] = {
    "sqlite": "nitro.sql_connectors.sqlite",
    "postgresql": "nitro.sql_connectors.postgresql",
    "mysql": "nitro.sql_connectors.mysql",
}

EXTRAS: dict[str, str] = {"postgresql": "postgresql", "mysql": "mysql"}


def connector_names() -> list[str]:
    """Every known connector name, sorted."""
    return sorted(registered(CONNECTORS, "nitro.sql_connectors"))


def create_connector(name: str, options: Mapping[str, Any], *, root: Path) -> Connector:
    """A connector by registry name; a missing driver library names the extra to install."""
    module = import_registered(
        name, CONNECTORS, "nitro.sql_connectors", kind="connector", where="nitro:db"
    )
    with missing_extra(EXTRAS.get(name), where=f"nitro:db:{name}"):
        return module.connector(options, root=root)
