"""The storage conformance suite: the same behaviour, through `Storage`, on every driver.

`storage` (conftest.py) is parametrized over the driver registry; each driver's
backend lives in backends/<name>.py. Special behaviour goes in test_<driver>.py.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from nitro.core.storage import Storage

pytestmark = pytest.mark.anyio

VALUES = [
    {"name": "Ada", "tags": ["a", "b"], "nested": {"n": 1.5, "ok": True, "none": None}},
    [1, "two", 3.0, False],
    "plain text",
    "",
    "ünïcödé ✓ 🚀",
    42,
    -7.25,
    True,
    None,
]


async def poll_until(check, timeout: float = 8.0):
    """Await `check()` until it is truthy (TTL expiry happens on the backend's clock)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    "value", VALUES, ids=[type(v).__name__ + str(i) for i, v in enumerate(VALUES)]
)
async def test_json_values_round_trip(storage: Storage, value: object) -> None:
    await storage.set_item("t:value", value)
    assert await storage.get_item("t:value") == value
    assert await storage.has_item("t:value")


async def test_missing_keys(storage: Storage) -> None:
    assert await storage.get_item("t:missing") is None
    assert await storage.get_item_raw("t:missing") is None
    assert not await storage.has_item("t:missing")
    assert await storage.get_meta("t:missing") == {}
    await storage.remove_item("t:missing")  # removing nothing is fine


async def test_raw_bytes_round_trip(storage: Storage) -> None:
    blob = bytes(range(256)) * 1024  # 256 KiB, not UTF-8
    await storage.set_item_raw("t:blob", blob)
    assert await storage.get_item_raw("t:blob") == blob
    assert await storage.get_item("t:blob") == blob  # not JSON, not text: bytes
    await storage.set_item_raw("t:text", "hé".encode())
    assert await storage.get_item("t:text") == "hé"  # not JSON: the text


async def test_overwrite_and_remove(storage: Storage) -> None:
    await storage.set_item("t:k", 1)
    await storage.set_item("t:k", {"v": 2})
    assert await storage.get_item("t:k") == {"v": 2}
    await storage.remove_item("t:k")
    assert await storage.get_item("t:k") is None
    assert not await storage.has_item("t:k")


async def test_keys_are_normalised(storage: Storage) -> None:
    await storage.set_item("t/a\\b::c/", "x")
    assert await storage.get_item("t:a:b:c") == "x"
    assert await storage.get_keys("t:a") == ["t:a:b:c"]


async def test_get_keys_and_clear_by_base(storage: Storage) -> None:
    for key in ("t:users:1", "t:users:2", "t:users:admins:3", "t:posts:1", "t:users2"):
        await storage.set_item(key, key)
    assert await storage.get_keys("t:users") == ["t:users:1", "t:users:2", "t:users:admins:3"]
    assert await storage.get_keys("t") == [
        "t:posts:1",
        "t:users2",
        "t:users:1",
        "t:users:2",
        "t:users:admins:3",
    ]
    await storage.clear("t:users")
    assert await storage.get_keys("t") == ["t:posts:1", "t:users2"]
    assert await storage.get_item("t:posts:1") == "t:posts:1"
    await storage.clear("t")
    assert await storage.get_keys("t") == []


async def test_views_address_keys_without_their_base(storage: Storage) -> None:
    view = storage.view("t:app")
    await view.set_item("settings", {"theme": "dark"})
    await view.set_item("users:1", "ada")
    assert await storage.get_item("t:app:settings") == {"theme": "dark"}
    assert await view.get_keys() == ["settings", "users:1"]
    assert await view.get_keys("users") == ["users:1"]
    await view.clear("users")
    assert await view.get_keys() == ["settings"]


async def test_ttl_expires_values(storage: Storage) -> None:
    await storage.set_item("t:short", "soon gone", ttl=1)
    await storage.set_item("t:long", "stays", ttl=3600)
    await storage.set_item("t:forever", "stays")
    assert await storage.get_item("t:short") == "soon gone"
    assert (await storage.get_meta("t:short")).get("ttl") == 1

    async def gone() -> bool:
        return await storage.get_item("t:short") is None

    assert await poll_until(gone), "a value set with ttl=1 was still there after 8s"
    assert not await storage.has_item("t:short")
    assert "t:short" not in await storage.get_keys("t")
    assert await storage.get_item("t:long") == "stays"
    assert await storage.get_item("t:forever") == "stays"
    assert "ttl" not in await storage.get_meta("t:forever")


async def test_overwriting_without_ttl_keeps_the_value(storage: Storage) -> None:
    await storage.set_item("t:k", "first", ttl=1)
    await storage.set_item("t:k", "second")
    await asyncio.sleep(1.5)
    assert await storage.get_item("t:k") == "second"
    assert "ttl" not in await storage.get_meta("t:k")


async def test_meta_reports_what_the_driver_knows(storage: Storage) -> None:
    before = time.time()
    await storage.set_item_raw("t:m", b"12345", ttl=600)
    meta = await storage.get_meta("t:m")
    assert meta["ttl"] == 600
    if "size" in meta:
        assert meta["size"] == 5
    if "mtime" in meta:
        assert before - 5 <= meta["mtime"] <= time.time() + 5


async def test_unserialisable_values_are_refused_and_nothing_is_written(storage: Storage) -> None:
    await storage.set_item("t:k", "old")
    with pytest.raises(TypeError, match="the value for 't:k' cannot be stored as JSON"):
        await storage.set_item("t:k", {"callback": print})
    with pytest.raises(TypeError, match="set_item_raw"):
        await storage.set_item("t:k", b"bytes")
    assert await storage.get_item("t:k") == "old"


async def test_bad_ttl_is_refused(storage: Storage) -> None:
    for ttl in (0, -1, "10", True, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="ttl"):
            await storage.set_item("t:k", 1, ttl=ttl)  # type: ignore[arg-type]


async def test_many_concurrent_writes(storage: Storage) -> None:
    await asyncio.gather(*(storage.set_item(f"t:n:{i}", i) for i in range(50)))
    values = await asyncio.gather(*(storage.get_item(f"t:n:{i}") for i in range(50)))
    assert values == list(range(50))
    assert len(await storage.get_keys("t:n")) == 50


async def test_set_if_absent_is_a_claim(storage: Storage) -> None:
    if not storage.supports_atomic("t:lock"):
        from nitro import StorageError

        with pytest.raises(StorageError, match="cannot create keys atomically"):
            await storage.set_item_if_absent("t:lock", "a")
        return
    assert await storage.set_item_if_absent("t:lock", "a")
    assert not await storage.set_item_if_absent("t:lock", "b")
    assert await storage.get_item("t:lock") == "a"
    await storage.remove_item("t:lock")
    assert await storage.set_item_if_absent("t:lock", "c")
    wins = await asyncio.gather(*(storage.set_item_if_absent("t:race", i) for i in range(20)))
    assert wins.count(True) == 1
    assert await storage.set_item_if_absent("t:short", 1, ttl=1)

    async def expired_counts_as_absent() -> bool:
        return await storage.set_item_if_absent("t:short", 2)

    assert await poll_until(expired_counts_as_absent)
    assert await storage.get_item("t:short") == 2
