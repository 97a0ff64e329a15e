"""Storage drivers: one module per backend, found by name and imported on demand.

A driver module defines ``driver(options, *, root) -> Driver`` (see
`nitro.core.storage.Driver`) and an `Options` class. Other packages add drivers
through the ``nitro.storage_drivers`` entry-point group (``name = "pkg.module"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.registry import import_registered, missing_extra, registered
from ..core.storage import Driver

__all__ = ["DRIVERS", "EXTRAS", "create_driver", "driver_names"]

DRIVERS: dict[str, str] = {
    "memory": "nitro.storage_drivers.memory",
    "fs": "nitro.storage_drivers.fs",
    "db": "nitro.storage_drivers.db",
    "azure-blob": "nitro.storage_drivers.azure_blob",
    "upstash": "nitro.storage_drivers.upstash",
    "s3": "nitro.storage_drivers.s3",
    "dynamodb": "nitro.storage_drivers.dynamodb",
    "cloudflare-kv": "nitro.storage_drivers.cloudflare_kv",
    "gcs": "nitro.storage_drivers.gcs",
    "redis": "nitro.storage_drivers.redis",
}

# The pip extra that brings each driver's library (`pip install "nitro-py[redis]"`).
EXTRAS: dict[str, str] = {
    "redis": "redis",
    "s3": "aws",
    "dynamodb": "aws",
    "gcs": "gcp",
    "azure-blob": "azure",
}


def driver_names() -> list[str]:
    """Every known driver name, sorted."""
    return sorted(registered(DRIVERS, "nitro.storage_drivers"))


def create_driver(name: str, options: Mapping[str, Any], *, root: Path) -> Driver:
    """A driver by registry name; `options` are its config (without `driver`).

    A missing library is an `ImportError` that names the extra to install.
    """
    module = import_registered(
        name, DRIVERS, "nitro.storage_drivers", kind="driver", where="nitro:storage"
    )
    with missing_extra(EXTRAS.get(name), where=f"nitro:storage:{name}"):
        return module.driver(options, root=root)
