"""What is special to the redis driver: native TTL, SCAN paging, glob-safe prefixes,
failures that name the endpoint without the password."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from storage_drivers.backends import read_failure
from storage_drivers.backends.redis import URL, require_redis, unique_base

import nitro.storage_drivers.redis as redis_driver
from nitro.core.storage import Storage
from nitro.storage_drivers import create_driver

from helpers import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
async def base(raw_redis: aioredis.Redis) -> AsyncIterator[str]:
    """A fresh key prefix; whatever a test leaves under it is deleted afterwards."""
    prefix = unique_base()
    try:
        yield prefix
    finally:
        pattern = redis_driver.escape_glob(prefix) + "*"
        leftovers = [key async for key in raw_redis.scan_iter(match=pattern, count=1000)]
        if leftovers:
            await raw_redis.unlink(*leftovers)


def mounted(tmp_path: Path, **options: object) -> Storage:
    storage = Storage(timeout=10)
    storage.mount("t", create_driver("redis", {"url": URL, **options}, root=tmp_path))
    return storage


async def test_ttl_is_set_on_the_redis_key(
    tmp_path: Path, raw_redis: aioredis.Redis, base: str
) -> None:
    storage = mounted(tmp_path, base=base)
    try:
        await storage.set_item("t:session", {"user": 1}, ttl=60)
        assert 59_000 < await raw_redis.pttl(f"{base}session") <= 60_000
        assert (await storage.get_meta("t:session"))["ttl"] == 60
        await storage.set_item("t:session", {"user": 2})  # no TTL now: the old one is gone
        assert await raw_redis.pttl(f"{base}session") == -1
        assert "ttl" not in await storage.get_meta("t:session")
        await storage.set_item("t:blink", "x", ttl=0.25)
        assert 0 < await raw_redis.pttl(f"{base}blink") <= 250
        assert (await storage.get_meta("t:blink"))["ttl"] == 1  # time left, rounded up
    finally:
        await storage.dispose()


async def test_set_if_absent_is_one_claim_across_clients(
    tmp_path: Path, raw_redis: aioredis.Redis, base: str
) -> None:
    # Separate Storage objects, separate connection pools: like separate processes.
    storages = [mounted(tmp_path, base=base) for _ in range(5)]
    try:
        wins = [await s.set_item_if_absent("t:tick", i, ttl=30) for i, s in enumerate(storages)]
        assert wins == [True, False, False, False, False]
        assert await raw_redis.get(f"{base}tick") == b"0"
        assert 29_000 < await raw_redis.pttl(f"{base}tick") <= 30_000
    finally:
        for storage in storages:
            await storage.dispose()


async def test_values_are_stored_as_they_are(
    tmp_path: Path, raw_redis: aioredis.Redis, base: str
) -> None:
    storage = mounted(tmp_path, base=base.rstrip(":"))  # "app" and "app:" are the same base
    blob = bytes(range(256))
    try:
        await storage.set_item("t:user:1", {"name": "Ada"})
        await storage.set_item_raw("t:blob", blob)
        assert await raw_redis.get(f"{base}user:1") == b'{"name":"Ada"}'
        assert await raw_redis.get(f"{base}blob") == blob
        await raw_redis.set(f"{base}from-elsewhere", b"\xff\x00written by another client")
        assert (
            await storage.get_item_raw("t:from-elsewhere") == b"\xff\x00written by another client"
        )
        assert await storage.get_meta("t:blob") == {"size": 256}
    finally:
        await storage.dispose()


async def test_listing_and_clearing_page_through_scan(
    tmp_path: Path, raw_redis: aioredis.Redis, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_driver, "SCAN_COUNT", 200)  # many SCAN pages
    monkeypatch.setattr(redis_driver, "DELETE_BATCH", 300)  # several UNLINK batches
    pipe = raw_redis.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(f"{base}many:{i}", i)
    pipe.set(f"{base}other", "stays")
    await pipe.execute()
    unlinks: list[int] = []
    storage = mounted(tmp_path, base=base)
    driver = storage.mounts()["t"]
    assert isinstance(driver, redis_driver.RedisDriver)
    client = driver._redis()
    original = client.unlink

    async def counting_unlink(*names: object) -> int:
        unlinks.append(len(names))
        return await original(*names)

    monkeypatch.setattr(client, "unlink", counting_unlink)
    try:
        keys = await storage.get_keys("t:many")
        assert sorted(keys) == sorted(f"t:many:{i}" for i in range(3000))
        await storage.clear("t:many")
        assert unlinks and max(unlinks) <= 300 and sum(unlinks) == 3000
        assert await storage.get_keys("t") == ["t:other"]
        assert [k async for k in raw_redis.scan_iter(match=f"{base}many:*", count=1000)] == []
    finally:
        await storage.dispose()


async def test_glob_characters_in_prefixes_match_only_themselves(
    tmp_path: Path, raw_redis: aioredis.Redis, base: str
) -> None:
    # Unescaped, the pattern for base "[x]?*\" would also match the sibling "x1z\...".
    glob_base = f"{base}[x]?*\\:"
    await raw_redis.set(f"{base}x1z\\:intruder", "not ours")
    await raw_redis.set(f"{base}x1zz:intruder", "not ours")
    storage = mounted(tmp_path, base=glob_base)
    try:
        for key in ("t:a*:1", "t:a?:2", "t:[ab]:3", "t:ab:4", "t:a:5", "t:b:6"):
            await storage.set_item(key, key)
        assert await storage.get_keys("t:a*") == ["t:a*:1"]
        assert await storage.get_keys("t:a?") == ["t:a?:2"]
        assert await storage.get_keys("t:[ab]") == ["t:[ab]:3"]
        assert len(await storage.get_keys("t")) == 6
        await storage.clear("t:a*")
        assert await storage.get_item("t:ab:4") == "t:ab:4"
        await storage.clear("t")
        assert await storage.get_keys("t") == []
        assert await raw_redis.get(f"{base}x1z\\:intruder") == b"not ours"
        assert await raw_redis.get(f"{base}x1zz:intruder") == b"not ours"
    finally:
        await storage.dispose()


async def test_a_closed_port_fails_fast_naming_driver_mount_and_endpoint(tmp_path: Path) -> None:
    port = free_port()
    storage = Storage(timeout=10)
    storage.mount(
        "t", create_driver("redis", {"url": f"redis://127.0.0.1:{port}/0"}, root=tmp_path)
    )
    try:
        message = await read_failure(storage, within=3)
    finally:
        await storage.dispose()
    assert "[nitro:storage:redis]" in message
    assert "mount 't'" in message
    assert f"redis://127.0.0.1:{port}/0" in message


async def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts connections (backlog), never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        options = {"url": f"redis://127.0.0.1:{port}/0", "timeout": 0.3, "connect_timeout": 0.3}
        storage = Storage(timeout=10)
        storage.mount("t", create_driver("redis", options, root=tmp_path))
        try:
            message = await read_failure(storage, within=4)
        finally:
            await storage.dispose()
    assert f"redis://127.0.0.1:{port}/0" in message


@pytest.mark.parametrize(
    "url",
    [
        # A user that does not exist: WRONGPASS.
        "redis://nitro-nobody:{secret}@127.0.0.1:6379/0",
        # A password alone, sent as `AUTH <password>` (RESP2): this server has no
        # password, so Redis refuses it. (Over RESP3, redis-py's default, it sends
        # `HELLO 3 AUTH default <password>`, which a password-less server accepts.)
        "redis://:{secret}@127.0.0.1:6379/0?protocol=2",
    ],
    ids=["wrong-user-and-password", "password-on-a-server-without-one"],
)
async def test_refused_credentials_fail_without_the_password(tmp_path: Path, url: str) -> None:
    require_redis()
    secret = "s3cret-Pa55word"
    storage = Storage(timeout=10)
    storage.mount("t", create_driver("redis", {"url": url.format(secret=secret)}, root=tmp_path))
    try:
        message = await read_failure(storage, within=3)
    finally:
        await storage.dispose()
    assert secret not in message
    assert "[nitro:storage:redis]" in message and "mount 't'" in message
    assert "redis://127.0.0.1:6379/0" in message
    assert "AuthenticationError" in message


def test_the_endpoint_never_shows_credentials(tmp_path: Path) -> None:
    driver = create_driver(
        "redis", {"url": "rediss://user:pw@cache.example:6380/2?password=pw2"}, root=tmp_path
    )
    assert driver.endpoint == "rediss://cache.example:6380/2"
    assert create_driver("redis", {}, root=tmp_path).endpoint == "redis://127.0.0.1:6379/0"
    unix = create_driver("redis", {"url": "unix:///run/redis.sock?db=1"}, root=tmp_path)
    assert unix.endpoint == "unix:///run/redis.sock"


def test_options_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown option 'bse'; did you mean 'base'"):
        create_driver("redis", {"bse": "app"}, root=tmp_path)
    with pytest.raises(ValueError, match=r"url must start with redis://") as caught:
        create_driver("redis", {"url": "user:pw@localhost:6379"}, root=tmp_path)
    assert "pw" not in str(caught.value)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        create_driver("redis", {"timeout": 0}, root=tmp_path)


def test_a_missing_library_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "redis" or m.startswith("redis.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ModuleNotFoundError
    with pytest.raises(ImportError, match=r'pip install "nitro-py\[redis\]"'):
        create_driver("redis", {}, root=tmp_path)


async def test_dispose_is_safe_twice_and_nothing_connects_before_use(tmp_path: Path) -> None:
    driver = create_driver("redis", {"url": f"redis://127.0.0.1:{free_port()}/0"}, root=tmp_path)
    await driver.dispose()  # never used: nothing to close, no error
    storage = mounted(tmp_path, base=unique_base())
    require_redis()
    assert await storage.get_item("t:missing") is None
    await storage.dispose()
    await storage.dispose()
