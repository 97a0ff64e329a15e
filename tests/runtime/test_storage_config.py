"""Storage from config: default mounts, `storage` / `dev_storage`, env references."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nitro.config import ConfigError, define_nitro_config
from nitro.core.storage import ReadOnlyStorageError
from nitro.runtime.app import load_app
from nitro.runtime.storage import create_storage
from nitro.storage_drivers import create_driver
from nitro.storage_drivers.fs import FsDriver
from nitro.storage_drivers.memory import MemoryDriver
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


def config(**options: object):
    return define_nitro_config(**options)


def drivers(storage) -> dict[str, str]:
    return {base: type(driver).__name__ for base, driver in storage.mounts().items()}


def test_default_mounts(tmp_path: Path) -> None:
    prod = create_storage(tmp_path, config(), dev=False)
    assert drivers(prod) == {
        "": "MemoryDriver",
        "data": "FsDriver",
        "cache": "MemoryDriver",
        "assets:server": "FsDriver",
    }
    assert prod.mounts()["data"].base == tmp_path.resolve() / ".data" / "kv"  # type: ignore[attr-defined]
    assert prod.mounts()["assets:server"].read_only
    dev = create_storage(tmp_path, config(), dev=True)
    assert dev.mounts()["cache"].base == tmp_path.resolve() / ".data" / "cache"  # type: ignore[attr-defined]


def test_configured_mounts_and_dev_overrides(tmp_path: Path) -> None:
    cfg = config(
        storage={
            "cache": {"driver": "fs", "base": "{{CACHE_DIR}}"},
            "uploads": {"driver": "memory"},
        },
        dev_storage={"cache": {"driver": "memory"}},
    )
    env = {"CACHE_DIR": str(tmp_path / "shared-cache")}
    prod = create_storage(tmp_path, cfg, dev=False, environ=env)
    assert isinstance(prod.mounts()["cache"], FsDriver)
    assert prod.mounts()["cache"].base == tmp_path / "shared-cache"  # type: ignore[attr-defined]
    assert isinstance(prod.mounts()["uploads"], MemoryDriver)
    dev = create_storage(tmp_path, cfg, dev=True, environ=env)
    assert isinstance(dev.mounts()["cache"], MemoryDriver)


def test_preset_defaults_replace_the_builtin_ones(tmp_path: Path) -> None:
    storage = create_storage(tmp_path, config(), dev=False, defaults={"data": {"driver": "memory"}})
    assert isinstance(storage.mounts()["data"], MemoryDriver)


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (
            {"x": {"driver": "reddis"}},
            r"storage\['x'\]: \[nitro:storage\] unknown driver 'reddis'; did you mean 'redis'\?",
        ),
        ({"x": {"base": "/tmp"}}, r"storage\['x'\] needs a 'driver' name"),
        ({"x": {"driver": "fs", "bsae": "/tmp"}}, r"unknown option 'bsae'; did you mean 'base'\?"),
        (
            {"x": {"driver": "fs", "base": "{{NOT_SET_ANYWHERE}}"}},
            r"storage\['x'\].base uses \{\{NOT_SET_ANYWHERE\}\}",
        ),
    ],
)
def test_config_errors_name_the_mount(tmp_path: Path, storage: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_storage(tmp_path, config(storage=storage), dev=False, environ={})


def test_a_missing_library_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from nitro import storage_drivers

    module = types.ModuleType("fake_driver_module")

    def driver(options: object, *, root: Path) -> object:
        import not_installed_client_library  # noqa: F401

        raise AssertionError("unreachable")

    module.driver = driver  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_driver_module", module)
    monkeypatch.setitem(storage_drivers.DRIVERS, "fake", "fake_driver_module")
    monkeypatch.setitem(storage_drivers.EXTRAS, "fake", "fakeextra")
    with pytest.raises(
        ImportError,
        match=r"needs 'not_installed_client_library': pip install \"nitro-py\[fakeextra\]\"",
    ):
        create_driver("fake", {}, root=tmp_path)


async def test_an_app_uses_its_mounts(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "greeting.txt").write_text("hi from assets")
    (tmp_path / "routes" / "visit.py").write_text(
        "from nitro import define_handler, use_storage\n\n"
        "@define_handler\nasync def handler(event):\n"
        "    data = use_storage('data')\n"
        "    count = (await data.get_item('visits')) or 0\n"
        "    await data.set_item('visits', count + 1)\n"
        "    return {'visits': count + 1, 'asset': await use_storage('assets:server').get_item('greeting.txt')}\n"
    )
    async with TestClient(load_app(tmp_path)) as client:
        assert (await client.get("/visit")).json() == {"visits": 1, "asset": "hi from assets"}
        assert (await client.get("/visit")).json()["visits"] == 2
        app = client.app
    assert (tmp_path / ".data" / "kv" / "visits").read_text() == "2"
    with pytest.raises(ReadOnlyStorageError):
        await app.storage.set_item("assets:server:x", 1)


async def test_a_preset_default_waiting_for_its_env_fails_at_first_use_not_at_start(
    tmp_path: Path,
) -> None:
    from nitro import StorageError

    defaults = {"data": {"driver": "dynamodb", "table": "{{NITRO_DYNAMODB_TABLE}}"}}
    storage = create_storage(tmp_path, config(), dev=False, defaults=defaults, environ={})
    with pytest.raises(
        StorageError,
        match=r"mount 'data' is not configured: storage\['data'\].table uses \{\{NITRO_DYNAMODB_TABLE\}\}",
    ):
        await storage.get_item("data:x")
    assert await storage.get_item("cache:x") is None  # other mounts work
    with pytest.raises(ConfigError, match="NITRO_DYNAMODB_TABLE"):  # configured by the user: strict
        create_storage(tmp_path, config(storage=defaults), dev=False, defaults=defaults, environ={})
