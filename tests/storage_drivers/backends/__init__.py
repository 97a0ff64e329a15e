"""One module per storage driver under test, named like the driver (`azure-blob` ->
`azure_blob.py`). Each defines::

    async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]

returning driver options for a fresh, empty namespace (a unique key prefix,
bucket or table), starting the backend service on first use (once per session,
stopped with `request.config.add_cleanup`) and calling `helpers.require_service`
when it cannot be reached.

`open_storage(name, ...)` mounts a driver on its backend; `read_failure` is how the
driver tests look at a failing backend.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from types import ModuleType

import pytest

from nitro.core.storage import Storage, StorageError
from nitro.storage_drivers import create_driver

MOUNT = "t"


def backend(name: str) -> ModuleType:
    """The backend module of the driver `name`."""
    return importlib.import_module(f"storage_drivers.backends.{name.replace('-', '_')}")


async def open_storage(
    name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    variant: str | None = None,
    **extra: object,
) -> Storage:
    """A Storage with the driver `name` mounted at "t" on a fresh namespace of its
    backend (`extra` options override the backend's)."""
    module = backend(name)
    if variant is None:
        options = await module.options(request, tmp_path)
    else:
        options = await module.options(request, tmp_path, variant)
    storage = Storage(timeout=10)
    storage.mount(MOUNT, create_driver(name, {**options, **extra}, root=tmp_path))
    return storage


async def read_failure(storage: Storage, *, within: float = 5.0) -> str:
    """The StorageError a read of "t:k" raises within `within` seconds, with the text of
    every exception it was caused by."""
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        await storage.get_item("t:k")
    assert time.monotonic() - started < within
    texts, error = [caught.value.message], caught.value.__cause__
    while error is not None:
        texts.append(repr(error))
        error = error.__cause__ or error.__context__
    return "\n".join(texts)
