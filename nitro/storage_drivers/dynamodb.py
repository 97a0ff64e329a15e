"""`dynamodb`: one item per key in an Amazon DynamoDB table.

An item is ``key`` (the partition key, a string: ``<base><key>``), ``value``
(binary), ``mtime`` (epoch seconds), and, when a TTL is set, ``ttl`` (seconds, as
set) plus the table's native TTL attribute (``expires`` by default: epoch seconds,
rounded up). DynamoDB deletes expired items only eventually (within days), so the
driver also checks the expiry (``mtime + ttl``) on every get/has/keys/meta: an
expired item reads as missing and is deleted then (only if it was not rewritten
meanwhile). Reads are strongly consistent.

``keys`` and ``clear`` Scan the table with a ``begins_with`` filter, page by page
(a Scan reads the whole table: give a big key space a table of its own);
``clear`` deletes with BatchWriteItem, retrying unprocessed items. An item is at
most 400 KB: a larger value is refused before it is sent. ``set_if_absent`` (a
claim, for locks and scheduled tasks) is a conditional PutItem.

boto3 is blocking, so every call runs in a worker thread; the client is made once,
on first use. With ``create_table=True`` the table is created then (on-demand
billing, TTL on) if it does not exist. API: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._aws import AwsDriver, AwsOptions, base_prefix, error_code, parse_number
from ._base import in_thread, parse_options, require_library

DRIVER_NAME = "dynamodb"
REQUIRES = ["boto3>=1.34"]

ITEM_LIMIT = 400 * 1024  # bytes, attribute names included
NUMBER_SIZE = 21  # the most a number attribute takes
MAX_KEY_BYTES = 2048
BATCH = 25  # BatchWriteItem's limit
RESERVED = ("key", "value", "mtime", "ttl")
ABSENT = {
    "ConditionExpression": "attribute_not_exists(#k)",
    "ExpressionAttributeNames": {"#k": "key"},
}


class DynamoDBOptions(AwsOptions):
    """Options of the `dynamodb` driver (and the connection options of `AwsOptions`)."""

    table: str
    """The table (required): partition key ``key`` (string), no sort key."""
    base: str = ""
    """Key prefix inside the table (``"cache"`` stores ``a:b`` as ``cache:a:b``); default ``""``."""
    ttl_attribute: str = "expires"
    """The table's native TTL attribute (epoch seconds); default ``"expires"``."""
    create_table: bool = False
    """Create the table (on-demand, TTL on) on first use if it does not exist; default
    False (for tests and local development: deploy creates it in production)."""


class TableNotFoundError(LookupError):
    """The configured table does not exist."""


class DynamoDBDriver(AwsDriver):
    name = DRIVER_NAME
    service = "dynamodb"
    options: DynamoDBOptions
    _scan_limit: int | None = None  # items per Scan page (None: DynamoDB's 1 MB pages)

    def __init__(self, options: DynamoDBOptions) -> None:
        self.table = options.table
        self.base = base_prefix(options.base, ":")
        super().__init__(options, f"{self.table}/{self.base}")
        self._names = {"#k": "key", "#m": "mtime", "#t": "ttl", "#e": options.ttl_attribute}

    # --- async API: boto3 calls run in worker threads ---

    async def get(self, key: str) -> bytes | None:
        item = await in_thread(self._get, key, False)
        return None if item is None else item["value"]["B"]

    async def has(self, key: str) -> bool:
        return await in_thread(self._get, key, True) is not None

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        await in_thread(self._set, key, value, ttl)

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        """Create `key` only when it holds nothing (or an expired value), atomically:
        a conditional PutItem."""
        return await in_thread(self._set_if_absent, key, value, ttl)

    async def remove(self, key: str) -> None:
        await in_thread(self._remove, key)

    async def meta(self, key: str) -> dict[str, Any] | None:
        item = await in_thread(self._get, key, False)
        if item is None:
            return None
        meta: dict[str, Any] = {"size": len(item["value"]["B"])}
        if "mtime" in item:
            meta["mtime"] = float(item["mtime"]["N"])
        if "ttl" in item:
            meta["ttl"] = parse_number(item["ttl"]["N"])
        return meta

    async def keys(self, prefix: str) -> list[str]:
        return await in_thread(self._keys, prefix)

    async def clear(self, prefix: str) -> None:
        await in_thread(self._clear, prefix)

    # --- blocking work ---

    def _make_client(self) -> Any:
        client = super()._make_client()
        if self.options.create_table:
            self._create_table(client)
        return client

    def _create_table(self, client: Any) -> None:
        try:
            client.describe_table(TableName=self.table)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            try:
                client.create_table(
                    TableName=self.table,
                    AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
                    BillingMode="PAY_PER_REQUEST",
                )
            except Exception as race:
                if error_code(race) != "ResourceInUseException":  # another process made it
                    raise
        deadline = time.monotonic() + 120
        while client.describe_table(TableName=self.table)["Table"]["TableStatus"] != "ACTIVE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the table {self.table!r} is not ACTIVE after 120s")
            time.sleep(0.5)
        ttl = client.describe_time_to_live(TableName=self.table)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") in (None, "DISABLED"):
            client.update_time_to_live(
                TableName=self.table,
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": self.options.ttl_attribute,
                },
            )

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._aws(), operation)(TableName=self.table, **params)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise TableNotFoundError(
                    f"the table {self.table!r} does not exist ({self.endpoint}); create it "
                    "(deploy does) or set the option create_table=True for local development"
                ) from None
            raise

    def _item_key(self, key: str) -> str:
        full = self.base + key
        if len(full.encode()) > MAX_KEY_BYTES:
            raise ValueError(
                f"[nitro:storage:dynamodb] key {key!r} is too long: partition keys are "
                f"limited to {MAX_KEY_BYTES} bytes (with the base)"
            )
        return full

    def _remove(self, key: str) -> None:
        self._call("delete_item", Key={"key": {"S": self._item_key(key)}})

    def _get(self, key: str, head: bool) -> dict[str, Any] | None:
        params: dict[str, Any] = {
            "Key": {"key": {"S": self._item_key(key)}},
            "ConsistentRead": True,
        }
        if head:
            params.update(
                ProjectionExpression="#k, #m, #t, #e", ExpressionAttributeNames=self._names
            )
        item = self._call("get_item", **params).get("Item")
        if item is None or self._expired(item):
            return None
        return item

    def _expires(self, item: dict[str, Any]) -> float | None:
        if "ttl" in item and "mtime" in item:
            return float(item["mtime"]["N"]) + float(item["ttl"]["N"])
        attr = self.options.ttl_attribute
        return float(item[attr]["N"]) if attr in item else None

    def _unchanged(self, item: dict[str, Any]) -> dict[str, Any]:
        """Condition parameters that hold only while `item` is the stored version."""
        field, name = ("mtime", "#m") if "mtime" in item else (self.options.ttl_attribute, "#e")
        return {
            "ConditionExpression": f"{name} = :v",
            "ExpressionAttributeNames": {name: self._names[name]},
            "ExpressionAttributeValues": {":v": item[field]},
        }

    def _expired(self, item: dict[str, Any]) -> bool:
        """Whether `item` has expired; if so it is deleted unless rewritten meanwhile."""
        expires = self._expires(item)
        if expires is None or expires > time.time():
            return False
        try:
            self._call("delete_item", Key={"key": item["key"]}, **self._unchanged(item))
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        return True

    def _item(self, key: str, value: bytes, ttl: float | None) -> dict[str, Any]:
        full = self._item_key(key)
        now = time.time()
        item: dict[str, Any] = {
            "key": {"S": full},
            "value": {"B": value},
            "mtime": {"N": repr(now)},
        }
        if ttl is not None:
            import decimal  # here, not at import: a cold start that sets no TTL never needs it

            item["ttl"] = {"N": format(decimal.Decimal(repr(ttl)), "f")}
            item[self.options.ttl_attribute] = {"N": str(math.ceil(now + ttl))}
        size = sum(len(name.encode()) for name in item) + len(full.encode()) + len(value)
        if size + NUMBER_SIZE * (len(item) - 2) > ITEM_LIMIT:
            raise self._too_large(key, value)
        return item

    def _too_large(self, key: str, value: bytes) -> ValueError:
        return ValueError(
            f"[nitro:storage:dynamodb] the value for {key!r} is too large: {len(value):,} "
            f"bytes, and DynamoDB items are limited to 400 KB ({ITEM_LIMIT:,} bytes with the "
            "key and metadata); keep large values in s3"
        )

    def _put(self, key: str, value: bytes, item: dict[str, Any], **params: Any) -> None:
        try:
            self._call("put_item", Item=item, **params)
        except Exception as exc:
            # The backend's own count is the last word (DynamoDB-compatible stores differ).
            if error_code(exc) == "ValidationException" and "size" in str(exc):
                raise self._too_large(key, value) from None
            raise

    def _set(self, key: str, value: bytes, ttl: float | None) -> None:
        self._put(key, value, self._item(key, value, ttl))

    def _set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        item = self._item(key, value, ttl)
        condition: dict[str, Any] = ABSENT
        for _ in range(5):
            try:
                self._put(
                    key, value, item, ReturnValuesOnConditionCheckFailure="ALL_OLD", **condition
                )
                return True
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                old = getattr(exc, "response", {}).get("Item")
            if old is None:  # not every DynamoDB-compatible store returns it
                old = self._call("get_item", Key={"key": item["key"]}, ConsistentRead=True)
                old = old.get("Item")
            if old is None:
                condition = ABSENT  # deleted meanwhile: try again
                continue
            expires = self._expires(old)
            if expires is None or expires > time.time():
                return False
            # Replace exactly that expired version (or nothing, if a reader deleted it
            # meanwhile): of several claimers, only one can.
            condition = self._unchanged(old)
            condition["ConditionExpression"] += " OR attribute_not_exists(#k)"
            condition["ExpressionAttributeNames"]["#k"] = "key"
        return False

    def _scan(self, prefix: str, projection: str) -> Iterator[list[dict[str, Any]]]:
        names = {n: self._names[n] for n in self._names if n in projection}
        params: dict[str, Any] = {
            "ConsistentRead": True,
            "ProjectionExpression": projection,
            "ExpressionAttributeNames": names,
        }
        if self.base + prefix:
            params["FilterExpression"] = "begins_with(#k, :p)"
            params["ExpressionAttributeValues"] = {":p": {"S": self.base + prefix}}
        if self._scan_limit:
            params["Limit"] = self._scan_limit
        while True:
            page = self._call("scan", **params)
            yield page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _keys(self, prefix: str) -> list[str]:
        keys = []
        for items in self._scan(prefix, "#k, #m, #t, #e"):
            for item in items:
                if not self._expired(item):
                    keys.append(item["key"]["S"][len(self.base) :])
        return keys

    def _clear(self, prefix: str) -> None:
        for items in self._scan(prefix, "#k"):
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                self._delete_batch([{"DeleteRequest": {"Key": {"key": i["key"]}}} for i in batch])

    def _delete_batch(self, requests: list[dict[str, Any]]) -> None:
        for attempt in range(8):
            response = self._aws().batch_write_item(RequestItems={self.table: requests})
            requests = response.get("UnprocessedItems", {}).get(self.table, [])
            if not requests:
                return
            time.sleep(min(0.05 * 2**attempt, 2))  # throttled: back off, then resend the rest
        raise RuntimeError(
            f"{len(requests)} items were still unprocessed after 8 BatchWriteItem calls"
        )


def driver(options: Mapping[str, Any], *, root: Path) -> DynamoDBDriver:
    parsed = parse_options(DynamoDBOptions, options, DRIVER_NAME)
    if not parsed.table or not isinstance(parsed.table, str):
        raise ValueError("[nitro:storage:dynamodb] option 'table' must name a table")
    if not parsed.ttl_attribute or parsed.ttl_attribute in RESERVED:
        raise ValueError(
            f"[nitro:storage:dynamodb] option 'ttl_attribute' cannot be {parsed.ttl_attribute!r}: "
            f"the driver uses {', '.join(RESERVED)}"
        )
    require_library("boto3")  # imported in a worker thread on first use

    return DynamoDBDriver(parsed)
