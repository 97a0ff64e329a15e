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
    name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    variant: str | None = None,
    **extra: object,
) -> Storage:
    backend = backend_module(name)
    if variant is None:
        options = await backend.options(request, tmp_path)
    else:
        options = await backend.options(request, tmp_path, variant)
    storage = Storage(timeout=10)
    storage.mount(MOUNT, create_driver(name, {**options, **extra}, root=tmp_path))
    return storage


def _params() -> list[str]:
    """Driver names; a backend with VARIANTS (db: sqlite, postgresql) runs once per variant."""
    params: list[str] = []
    for name in driver_names():
        variants = getattr(backend_module(name), "VARIANTS", None)
        if variants:
            params.extend(f"{name}[{variant}]" for variant in variants)
        else:
            params.append(name)
    return params


@pytest.fixture(params=_params())
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """A Storage with one driver of the registry mounted at "t", empty."""
    name, _, variant = request.param.partition("[")
    backend = backend_module(name)
    storage = await open_storage(name, request, tmp_path, variant.rstrip("]") or None)
    try:
        yield storage
    finally:
        try:
            await storage.clear(MOUNT)
        finally:
            await storage.dispose()
            cleanup = getattr(backend, "cleanup", None)
            if cleanup is not None:
                await cleanup()
