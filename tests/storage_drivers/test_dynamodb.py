"""What is special to the dynamodb driver, against the session's moto server
(backends/_moto.py): the item layout and native TTL, expiry checked on read, Scan
pagination, BatchWriteItem retries, the 400 KB item limit, a missing table. What all
AWS drivers share is in test_aws.py."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from storage_drivers.backends._moto import Moto, moto, record_calls

from nitro.core.storage import Storage, StorageError
from nitro.storage_drivers import create_driver
from nitro.storage_drivers.dynamodb import ITEM_LIMIT, DynamoDBDriver

pytestmark = pytest.mark.anyio

Opener = Callable[..., tuple[Storage, DynamoDBDriver]]


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Moto:
    return moto(request)


@pytest.fixture
def ddb(server: Moto) -> Any:
    client = server.client("dynamodb")
    yield client
    client.close()


@pytest.fixture
async def open_storage(server: Moto) -> AsyncIterator[Opener]:
    """Makes Storages with a dynamodb driver mounted at "t" (a fresh table the driver
    creates, unless `options` say otherwise); disposed of after the test."""
    opened: list[Storage] = []

    def open_(**options: Any) -> tuple[Storage, DynamoDBDriver]:
        full = {
            **server.options(),
            "table": f"ddbt-{uuid.uuid4().hex[:10]}",
            "create_table": True,
            **options,
        }
        driver = create_driver("dynamodb", full, root=Path("."))
        assert isinstance(driver, DynamoDBDriver)
        opened.append(Storage(timeout=10).mount("t", driver))
        return opened[-1], driver

    yield open_
    for storage in opened:
        await storage.dispose()


async def test_items_carry_the_native_ttl_on_a_table_with_ttl_on(
    open_storage: Opener, ddb: Any
) -> None:
    storage, driver = open_storage(base="app", ttl_attribute="expires_at")
    before = time.time()
    await storage.set_item_raw("t:users:1", b"\x00\xff binary", ttl=600)
    await storage.set_item_raw("t:users:2", b"forever")
    item = ddb.get_item(TableName=driver.table, Key={"key": {"S": "app:users:1"}})["Item"]
    assert item["value"] == {"B": b"\x00\xff binary"}
    assert item["ttl"] == {"N": "600"}
    assert before <= float(item["mtime"]["N"]) <= time.time()
    expires = int(item["expires_at"]["N"])
    assert expires == math.ceil(float(item["mtime"]["N"]) + 600)
    plain = ddb.get_item(TableName=driver.table, Key={"key": {"S": "app:users:2"}})["Item"]
    assert set(plain) == {"key", "value", "mtime"}
    ttl = ddb.describe_time_to_live(TableName=driver.table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    table = ddb.describe_table(TableName=driver.table)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    await storage.set_item_raw("t:empty", b"")
    assert await storage.get_item_raw("t:empty") == b""
    meta = await storage.get_meta("t:users:1")
    assert meta == {"size": 9, "mtime": float(item["mtime"]["N"]), "ttl": 600}


async def test_expiry_is_checked_on_read_before_aws_deletes_the_item(
    open_storage: Opener, ddb: Any
) -> None:
    storage, driver = open_storage()
    await storage.set_item("t:alive", 1)
    now = time.time()
    expired = {
        "a": {"mtime": {"N": repr(now - 10)}, "ttl": {"N": "5"}},
        "b": {"mtime": {"N": repr(now - 10)}, "ttl": {"N": "5"}},
        "c": {"mtime": {"N": repr(now - 10)}, "ttl": {"N": "5"}},
        "d": {"mtime": {"N": repr(now - 10)}, "ttl": {"N": "5"}},
        "foreign": {"expires": {"N": str(int(now) - 1)}},  # only the native attribute
    }
    for key, attrs in expired.items():
        ddb.put_item(
            TableName=driver.table, Item={"key": {"S": key}, "value": {"B": b"1"}, **attrs}
        )
    assert await storage.get_item("t:a") is None
    assert not await storage.has_item("t:b")
    assert await storage.get_meta("t:c") == {}
    assert await storage.get_item("t:foreign") is None
    assert await storage.get_keys("t") == ["t:alive"]
    left = ddb.scan(TableName=driver.table)["Items"]
    assert [i["key"]["S"] for i in left] == ["alive"]  # the expired ones were deleted


async def test_reads_are_strongly_consistent(open_storage: Opener) -> None:
    storage, driver = open_storage()
    gets, scans = record_calls(driver._aws(), "GetItem"), record_calls(driver._aws(), "Scan")
    await storage.set_item("t:k", 1)
    await storage.get_item("t:k")
    await storage.has_item("t:k")
    await storage.get_meta("t:k")
    await storage.get_keys("t")
    assert len(gets) == 3 and all(g["ConsistentRead"] for g in gets)
    assert scans and all(s["ConsistentRead"] for s in scans)


async def test_keys_and_clear_page_through_the_scan(open_storage: Opener) -> None:
    storage, driver = open_storage()
    driver._scan_limit = 4  # moto pages at 1 MB: small pages make pagination cheap to test
    await asyncio.gather(*(storage.set_item(f"t:n:{i:02}", i) for i in range(30)))
    await asyncio.gather(*(storage.set_item(f"t:other:{i}", i) for i in range(3)))
    scans = record_calls(driver._aws(), "Scan")
    assert await storage.get_keys("t:n") == [f"t:n:{i:02}" for i in range(30)]
    assert len(scans) >= 9  # 33 items, 4 a page
    assert scans[0]["Limit"] == 4 and scans[0]["ProjectionExpression"] == "#k, #m, #t, #e"
    driver._scan_limit = None
    writes = record_calls(driver._aws(), "BatchWriteItem")
    await storage.clear("t:n")
    assert [len(w["RequestItems"][driver.table]) for w in writes] == [25, 5]
    assert await storage.get_keys("t") == ["t:other:0", "t:other:1", "t:other:2"]


async def test_clear_resends_unprocessed_items(open_storage: Opener) -> None:
    storage, driver = open_storage()
    await asyncio.gather(*(storage.set_item(f"t:n:{i}", i) for i in range(10)))
    client = driver._aws()
    real = client.batch_write_item
    sizes: list[int] = []

    def throttled(RequestItems: dict[str, Any]) -> dict[str, Any]:
        requests = RequestItems[driver.table]
        sizes.append(len(requests))
        done, rest = requests[: len(requests) // 2 or 1], requests[len(requests) // 2 or 1 :]
        real(RequestItems={driver.table: done})
        return {"UnprocessedItems": {driver.table: rest} if rest else {}}

    client.batch_write_item = throttled
    await storage.clear("t")
    assert sizes == [10, 5, 3, 2, 1]
    assert await storage.get_keys("t") == []


async def test_values_past_the_400_kb_item_limit_are_refused(
    open_storage: Opener, ddb: Any
) -> None:
    storage, driver = open_storage()
    await storage.set_item_raw("t:fits", b"x" * 400_000)
    assert len(await storage.get_item_raw("t:fits") or b"") == 400_000
    # Refused before sending; and past moto's own count (405,000 bytes, below AWS's
    # 409,600), the backend's refusal reads the same.
    for size in (ITEM_LIMIT, 406_000):
        with pytest.raises(ValueError) as caught:
            await storage.set_item_raw("t:big", b"x" * size)
        message = str(caught.value)
        assert "[nitro:storage:dynamodb] the value for 'big' is too large" in message
        assert f"{size:,} bytes" in message
        assert "limited to 400 KB (409,600 bytes" in message
    assert "Item" not in ddb.get_item(TableName=driver.table, Key={"key": {"S": "big"}})


async def test_set_if_absent_replaces_only_an_expired_item(open_storage: Opener, ddb: Any) -> None:
    storage, driver = open_storage()
    assert not await storage.has_item("t:lock")  # the driver creates the table
    past = {"mtime": {"N": repr(time.time() - 10)}, "ttl": {"N": "5"}}
    ddb.put_item(TableName=driver.table, Item={"key": {"S": "lock"}, "value": {"B": b"1"}, **past})
    wins = await asyncio.gather(*(storage.set_item_if_absent("t:lock", i) for i in range(10)))
    assert wins.count(True) == 1
    assert await storage.get_item("t:lock") == wins.index(True)
    assert not await storage.set_item_if_absent("t:lock", "late")


async def test_bases_share_a_table_without_seeing_each_other(open_storage: Opener) -> None:
    first, driver = open_storage(base="one")
    second, _ = open_storage(table=driver.table, base="two")  # the table exists already
    await first.set_item("t:k", 1)
    await second.set_item("t:k", 2)
    assert await first.get_keys("t") == ["t:k"]
    await first.clear("t")
    assert await second.get_item("t:k") == 2


async def test_a_missing_table_is_a_clear_error(open_storage: Opener) -> None:
    storage, _ = open_storage(table="nitro-no-such-table", create_table=False)
    attempts = [
        lambda: storage.get_item("t:k"),
        lambda: storage.has_item("t:k"),
        lambda: storage.set_item("t:k", 1),
        lambda: storage.get_keys("t"),
        lambda: storage.clear("t"),
    ]
    for attempt in attempts:
        with pytest.raises(StorageError) as caught:
            await attempt()
        message = str(caught.value)
        assert "[nitro:storage:dynamodb] mount 't'" in message
        assert "the table 'nitro-no-such-table' does not exist" in message
        assert "create_table=True" in message


def test_options_are_checked_and_the_endpoint_has_no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    with pytest.raises(ValueError, match="unknown option 'tabel'; did you mean 'table'"):
        create_driver("dynamodb", {"tabel": "t"}, root=Path("."))
    with pytest.raises(ValueError, match="option 'table' must name a table"):
        create_driver("dynamodb", {"table": ""}, root=Path("."))
    with pytest.raises(ValueError, match="option 'ttl_attribute' cannot be 'ttl'"):
        create_driver("dynamodb", {"table": "t", "ttl_attribute": "ttl"}, root=Path("."))
    driver = create_driver(
        "dynamodb",
        {
            "table": "kv",
            "base": "app/cache",
            "region": "eu-west-1",
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "s3cr3t",
        },
        root=Path("."),
    )
    assert driver.endpoint.startswith("dynamodb://kv/app:cache: in eu-west-1")
    assert "AKIAEXAMPLE" not in driver.endpoint and "s3cr3t" not in driver.endpoint


async def test_too_long_keys_are_refused_clearly(open_storage: Opener) -> None:
    storage, _ = open_storage()
    with pytest.raises(ValueError, match="limited to 2048 bytes"):
        await storage.set_item("t:" + "x" * 2100, 1)
