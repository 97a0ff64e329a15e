"""SQL connectors: one module per database driver, found by name and imported on demand.

A connector module defines ``connector(options, *, root) -> Connector`` (see
`nitro.core.database.Connector`). Other packages add connectors through the
``nitro.sql_connectors`` entry-point group.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.database import Connector
from ..core.options import did_you_mean

__all__ = ["CONNECTORS", "EXTRAS", "connector_names", "create_connector"]

CONNECTORS: dict[str, str] = {
    "sqlite": "nitro.sql_connectors.sqlite",
    "postgresql": "nitro.sql_connectors.postgresql",
    "mysql": "nitro.sql_connectors.mysql",
}

EXTRAS: dict[str, str] = {"postgresql": "postgresql", "mysql": "mysql"}


def _registry() -> dict[str, str]:
    from importlib.metadata import entry_points  # costs milliseconds: only for other names

    registry = dict(CONNECTORS)
    for ep in entry_points(group="nitro.sql_connectors"):
        registry.setdefault(ep.name, ep.value)
    return registry


def connector_names() -> list[str]:
    return sorted(_registry())


def create_connector(name: str, options: Mapping[str, Any], *, root: Path) -> Connector:
    """A connector by registry name; a missing driver library names the extra to install."""
    module_name = CONNECTORS.get(name)
    if module_name is None:
        registry = _registry()
        module_name = registry.get(name)
    if module_name is None:
        hint = did_you_mean(name, sorted(registry), label="known connectors")
        raise ValueError(f"[nitro:db] unknown connector {name!r}{hint}")
    module = importlib.import_module(module_name)
    try:
        return module.connector(options, root=root)
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get(name)
        if extra is None:
            raise
        raise ImportError(
            f'[nitro:db:{name}] needs {exc.name!r}: pip install "nitro-py[{extra}]"'
        ) from exc
