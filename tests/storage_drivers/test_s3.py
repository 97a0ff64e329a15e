"""What is special to the s3 driver, against the session's moto server (backends/_moto.py):
the expiry in the object's metadata, the listing mark that spares HEADs, pagination,
a missing bucket, a backend that never answers. What all AWS drivers share is in
test_aws.py."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from storage_drivers.backends import s3 as backend
from storage_drivers.backends._moto import Moto, moto, record_calls

from nitro.core.storage import Storage, StorageError
from nitro.storage_drivers import create_driver
from nitro.storage_drivers.s3 import EXPIRES, TTL, S3Driver

pytestmark = pytest.mark.anyio

Opener = Callable[..., tuple[Storage, S3Driver]]


@pytest.fixture
async def open_storage(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., tuple[Storage, S3Driver]]]:
    """Makes Storages with an s3 driver mounted at "t" (a fresh base in the test bucket,
    unless `options` say otherwise); disposed of after the test."""
    opened: list[Storage] = []

    def open_(**options: Any) -> tuple[Storage, S3Driver]:
        backend.make_bucket(request, backend.BUCKET)
        full = {
            **moto(request).options(),
            "bucket": backend.BUCKET,
            "base": f"s3t-{uuid.uuid4().hex[:10]}",
            **options,
        }
        driver = create_driver("s3", full, root=Path("."))
        assert isinstance(driver, S3Driver)
        opened.append(Storage(timeout=10).mount("t", driver))
        return opened[-1], driver

    yield open_
    for storage in opened:
        await storage.dispose()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Moto:
    return moto(request)


@pytest.fixture
def s3(server: Moto) -> Any:
    client = server.client("s3")
    yield client
    client.close()


async def test_key_a_b_is_object_base_a_b_with_any_bytes_and_unicode(
    open_storage: Opener, s3: Any
) -> None:
    storage, driver = open_storage(base="/app:cache/")
    assert driver.base == "app/cache/"
    blob = bytes(range(256)) * 3
    key = "t:users:ünï cødé 🚀:a b+c%20d"
    await storage.set_item_raw(key, blob)
    name = "app/cache/users/ünï cødé 🚀/a b+c%20d"
    assert s3.get_object(Bucket=backend.BUCKET, Key=name)["Body"].read() == blob
    assert await storage.get_item_raw(key) == blob
    assert await storage.get_keys("t:users") == [key]
    assert (await storage.get_meta(key))["size"] == len(blob)
    await storage.set_item_raw("t:empty", b"")
    assert await storage.get_item_raw("t:empty") == b""
    await storage.clear("t")
    assert "Contents" not in s3.list_objects_v2(Bucket=backend.BUCKET, Prefix="app/cache/")


async def test_the_expiry_is_in_the_object_metadata(open_storage: Opener, s3: Any) -> None:
    storage, driver = open_storage()
    before = time.time()
    await storage.set_item("t:session", {"user": 1}, ttl=600)
    await storage.set_item("t:plain", "no ttl")
    head = s3.head_object(Bucket=backend.BUCKET, Key=driver.base + "session")
    assert before + 600 <= float(head["Metadata"][EXPIRES]) <= time.time() + 600
    assert head["Metadata"][TTL] == "600"
    assert s3.head_object(Bucket=backend.BUCKET, Key=driver.base + "plain")["Metadata"] == {}
    # The listing tells the two apart (see the module docstring).
    listed = s3.list_objects_v2(Bucket=backend.BUCKET, Prefix=driver.base)["Contents"]
    marks = {o["Key"][len(driver.base) :]: o["ChecksumAlgorithm"] for o in listed}
    assert marks == {"plain": ["SHA256"], "session": ["CRC32"]}
    meta = await storage.get_meta("t:session")
    assert meta["ttl"] == 600 and isinstance(meta["ttl"], int)
    assert before - 2 <= meta["mtime"] <= time.time() + 2
    await storage.set_item("t:session", "rewritten without ttl")
    assert s3.head_object(Bucket=backend.BUCKET, Key=driver.base + "session")["Metadata"] == {}


async def test_an_expired_object_reads_as_missing_and_is_deleted(
    open_storage: Opener, s3: Any
) -> None:
    storage, driver = open_storage()
    past = {EXPIRES: repr(time.time() - 1), TTL: "5"}
    for name in ("a", "b", "c", "d"):
        s3.put_object(Bucket=backend.BUCKET, Key=driver.base + name, Body=b"1", Metadata=past)
    assert await storage.get_item("t:a") is None
    assert not await storage.has_item("t:b")
    assert await storage.get_meta("t:c") == {}
    assert await storage.get_keys("t") == []  # "d" was written by another tool: HEADed
    assert "Contents" not in s3.list_objects_v2(Bucket=backend.BUCKET, Prefix=driver.base)


async def test_an_expired_object_rewritten_meanwhile_survives(
    open_storage: Opener, s3: Any
) -> None:
    storage, driver = open_storage()
    name = driver.base + "k"
    old = s3.put_object(
        Bucket=backend.BUCKET, Key=name, Body=b"old", Metadata={EXPIRES: "1", TTL: "1"}
    )
    await storage.set_item_raw("t:k", b"new")  # another instance rewrote it
    driver._delete_unchanged(name, old["ETag"])  # the first instance's delete comes late
    assert await storage.get_item_raw("t:k") == b"new"


async def test_keys_heads_only_objects_that_may_expire(open_storage: Opener) -> None:
    storage, driver = open_storage()
    await asyncio.gather(*(storage.set_item(f"t:plain:{i}", i) for i in range(20)))
    await asyncio.gather(*(storage.set_item(f"t:ttl:{i}", i, ttl=600) for i in range(3)))
    heads = record_calls(driver._aws(), "HeadObject")
    assert len(await storage.get_keys("t")) == 23
    assert sorted(h["Key"] for h in heads) == [driver.base + f"ttl/{i}" for i in range(3)]


async def test_listing_and_clearing_past_one_page(open_storage: Opener) -> None:
    storage, driver = open_storage()
    count = 1005  # S3 (and moto) list 1,000 objects a page
    await asyncio.gather(*(storage.set_item_raw(f"t:n:{i:04}", b"x") for i in range(count)))
    await storage.set_item("t:other", 1)
    lists = record_calls(driver._aws(), "ListObjectsV2")
    keys = await storage.get_keys("t:n")
    assert keys == [f"t:n:{i:04}" for i in range(count)]
    assert len(lists) == 2
    deletes = record_calls(driver._aws(), "DeleteObjects")
    await storage.clear("t:n")
    assert [len(d["Delete"]["Objects"]) for d in deletes] == [1000, 5]
    assert await storage.get_keys("t") == ["t:other"]


async def test_objects_no_key_maps_to_are_not_listed(open_storage: Opener, s3: Any) -> None:
    storage, driver = open_storage()
    for name in ("folder/", "a//b", "ok/k"):
        s3.put_object(
            Bucket=backend.BUCKET, Key=driver.base + name, Body=b"", ChecksumAlgorithm="SHA256"
        )
    assert await storage.get_keys("t") == ["t:ok:k"]


async def test_a_missing_bucket_is_a_clear_error(open_storage: Opener) -> None:
    storage, _ = open_storage(bucket="nitro-no-such-bucket")
    attempts = [
        lambda: storage.get_item("t:k"),
        lambda: storage.has_item("t:k"),
        lambda: storage.get_meta("t:k"),
        lambda: storage.set_item("t:k", 1),
        lambda: storage.get_keys("t"),
        lambda: storage.clear("t"),
    ]
    for attempt in attempts:
        with pytest.raises(StorageError) as caught:
            await attempt()
        message = str(caught.value)
        assert "[nitro:storage:s3] mount 't'" in message
        assert "the bucket 'nitro-no-such-bucket' does not exist" in message


async def test_a_backend_that_never_answers_times_out_on_its_own(open_storage: Opener) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        storage, _ = open_storage(endpoint_url=url, connect_timeout=0.5, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(StorageError, match="get failed: ReadTimeoutError: Read timeout"):
            await storage.get_item("t:k")
        assert time.monotonic() - started < 5  # two attempts, not the front's 10 s


async def test_the_standard_credential_chain_and_env_endpoint(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = moto(request)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_access_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    backend.make_bucket(request, backend.BUCKET)
    driver = create_driver("s3", {"bucket": backend.BUCKET, "base": "chain"}, root=Path("."))
    assert driver.endpoint == f"s3://{backend.BUCKET}/chain/ in eu-west-3 via {server.url}"
    storage = Storage().mount("t", driver)
    await storage.set_item("t:k", "found through the environment")
    assert await storage.get_item("t:k") == "found through the environment"
    await storage.clear("t")
    await storage.dispose()


def test_options_are_checked_and_the_endpoint_has_no_keys() -> None:
    with pytest.raises(ValueError, match="unknown option 'buckt'; did you mean 'bucket'"):
        create_driver("s3", {"buckt": "b"}, root=Path("."))
    with pytest.raises(ValueError, match=r"\[nitro:storage:s3\].*bucket"):
        create_driver("s3", {}, root=Path("."))
    with pytest.raises(ValueError, match="option 'bucket' must name a bucket"):
        create_driver("s3", {"bucket": ""}, root=Path("."))
    driver = create_driver(
        "s3",
        {
            "bucket": "b",
            "region": "eu-west-1",
            "endpoint_url": "https://user:pass@minio.local:9000",
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "s3cr3t",
            "session_token": "t0k3n",
        },
        root=Path("."),
    )
    assert driver.endpoint == "s3://b/ in eu-west-1 via https://minio.local:9000"
    assert driver.network


async def test_too_long_keys_are_refused_clearly(open_storage: Opener) -> None:
    storage, _ = open_storage()
    with pytest.raises(ValueError, match="limited to 1024 bytes"):
        await storage.set_item("t:" + "x" * 1100, 1)


async def test_dispose_is_safe_twice(open_storage: Opener) -> None:
    storage, driver = open_storage()
    await storage.set_item("t:k", 1)
    await storage.clear("t")
    await driver.dispose()
    await driver.dispose()
