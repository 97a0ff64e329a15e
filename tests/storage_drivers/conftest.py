from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nitro.core.storage import Storage
from nitro.storage_drivers import create_driver, driver_names

MOUNT = "t"


def backend_module(name: str):
    return importlib.import_module(f"storage_drivers.backends.{name.replace('-', '_')}")


async def open_storage(
    name: str, request: pytest.FixtureRequest, tmp_path: Path, **extra: object
) -> Storage:
    options = await backend_module(name).options(request, tmp_path)
    storage = Storage(timeout=10)
    storage.mount(MOUNT, create_driver(name, {**options, **extra}, root=tmp_path))
    return storage


@pytest.fixture(params=driver_names())
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """A Storage with one driver of the registry mounted at "t", empty."""
    storage = await open_storage(request.param, request, tmp_path)
    try:
        yield storage
    finally:
        try:
            await storage.clear(MOUNT)
        finally:
            await storage.dispose()
