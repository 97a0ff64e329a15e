"""The driver registry, the driver modules and the test backends stay in step."""

from __future__ import annotations

import importlib
from pathlib import Path

import nitro.storage_drivers as package
from nitro.storage_drivers import DRIVERS

BACKENDS = Path(__file__).parent / "backends"


def test_every_driver_module_is_registered_and_has_a_test_backend() -> None:
    modules = {
        p.stem for p in Path(package.__file__).parent.glob("*.py") if not p.stem.startswith("_")
    }
    assert modules == {path.rsplit(".", 1)[1] for path in DRIVERS.values()}
    for name, path in DRIVERS.items():
        module = importlib.import_module(path)
        assert module.DRIVER_NAME == name
        assert callable(module.driver)
        assert isinstance(module.REQUIRES, list)
        assert (BACKENDS / f"{name.replace('-', '_')}.py").is_file(), f"no test backend for {name}"
