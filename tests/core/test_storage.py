"""The Storage front: mounts, routing, views, errors and timeouts (drivers are
covered by tests/storage_drivers)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nitro import NitroApp, StorageError, define_handler, use_storage
from nitro.core.storage import Storage, normalize_base, normalize_key
from nitro.storage_drivers.memory import MemoryDriver
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


class BrokenDriver(MemoryDriver):
    """A network driver whose backend is down (or hangs)."""

    name = "fake"
    endpoint = "redis://user:secret@cache.internal:6379/0"
    network = True

    def __init__(self, hang: bool = False) -> None:
        super().__init__()
        self.hang = hang
        self.disposed = False

    async def get(self, key: str) -> bytes | None:
        if self.hang:
            await asyncio.sleep(60)
        raise ConnectionError("Connection refused to redis://user:secret@cache.internal:6379")

    async def dispose(self) -> None:
        self.disposed = True


def test_key_normalisation() -> None:
    assert normalize_key("a/b\\c::d:") == "a:b:c:d"
    assert normalize_key(":::a") == "a"
    assert normalize_key("plain:key") == "plain:key"
    assert normalize_base("data/") == "data:"
    assert normalize_base(None) == ""


async def test_longest_mount_wins_and_keys_span_mounts() -> None:
    root, data, users = MemoryDriver(), MemoryDriver(), MemoryDriver()
    storage = Storage().mount("", root).mount("data", data).mount("data:users", users)
    await storage.set_item("other", 1)
    await storage.set_item("data:x", 2)
    await storage.set_item("data:users:1", 3)
    assert await root.get("other") == b"1"
    assert await data.get("x") == b"2"
    assert await users.get("1") == b"3"
    assert await storage.get_keys() == ["data:users:1", "data:x", "other"]
    assert await storage.get_keys("data") == ["data:users:1", "data:x"]
    assert await storage.get_keys("data:users") == ["data:users:1"]
    await storage.clear("data")
    assert await storage.get_keys() == ["other"]


async def test_unmount_disposes() -> None:
    driver = BrokenDriver()
    storage = Storage().mount("cache", driver)
    await storage.unmount("cache")
    assert driver.disposed
    assert storage.mounts() == {}


async def test_a_key_no_mount_serves_is_a_clear_error() -> None:
    storage = Storage().mount("data", MemoryDriver())
    with pytest.raises(StorageError, match="no mount serves 'other:key'; mounts: 'data'") as info:
        await storage.get_item("other:key")
    assert info.value.status == 500
    with pytest.raises(ValueError, match="empty"):
        await storage.get_item(":/:")


async def test_backend_failures_name_driver_mount_endpoint_but_not_credentials() -> None:
    storage = Storage().mount("cache", BrokenDriver())
    with pytest.raises(StorageError) as info:
        await storage.get_item("cache:k")
    message = str(info.value)
    assert message.startswith(
        "[nitro:storage:fake] mount 'cache' (redis://***@cache.internal:6379/0): get failed: ConnectionError"
    )
    assert "secret" not in message
    assert info.value.status == 503


async def test_network_calls_time_out_instead_of_hanging() -> None:
    storage = Storage(timeout=0.1).mount("cache", BrokenDriver(hang=True))
    started = asyncio.get_running_loop().time()
    with pytest.raises(
        StorageError,
        match=r"mount 'cache' \(redis://\*\*\*@cache.internal:6379/0\): get timed out after 0.1s",
    ):
        await storage.get_item("cache:k")
    assert asyncio.get_running_loop().time() - started < 2


async def test_a_storage_failure_in_a_request_is_a_503_naming_the_mount() -> None:
    @define_handler
    async def handler(event: Any) -> Any:
        return await use_storage("cache").get_item("k")

    app = NitroApp(storage=Storage().mount("cache", BrokenDriver()))
    app.add_route("/", handler)
    async with TestClient(app) as client:
        response = await client.get("/")
    assert response.status_code == 503
    body = response.json()
    assert "mount 'cache'" in body["message"] and "secret" not in response.text


async def test_mounting_something_that_is_not_a_driver() -> None:
    with pytest.raises(TypeError, match="is not a storage driver"):
        Storage().mount("x", object())  # type: ignore[arg-type]


async def test_use_storage_outside_a_request_is_the_running_apps() -> None:
    app = NitroApp(storage=Storage().mount("", MemoryDriver()))
    NitroApp(storage=Storage().mount("", MemoryDriver()))  # made, never started: not it
    await app.startup()
    try:
        await use_storage("a").set_item("b", 1)
        assert await app.storage.get_item("a:b") == 1
    finally:
        await app.shutdown()


async def test_an_unreadable_backend_answer_is_a_storage_error_not_a_bare_value_error() -> None:
    import json

    class Garbled(MemoryDriver):
        name = "garbled"
        endpoint = "https://kv.example"
        network = True

        async def get(self, key: str) -> bytes | None:
            return json.loads("<html>bad gateway</html>")

    storage = Storage().mount("kv", Garbled())
    with pytest.raises(
        StorageError,
        match=r"\[nitro:storage:garbled\] mount 'kv' \(https://kv.example\): get got an unreadable answer",
    ):
        await storage.get_item("kv:k")
