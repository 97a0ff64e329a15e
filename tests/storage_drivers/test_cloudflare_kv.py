"""What is special to the cloudflare-kv driver: the REST requests it sends, TTLs under
Cloudflare's 60 s minimum, cursor pagination, key limits and encoding, and errors.

The API is `storage_drivers.cloudflare_kv_api`, an in-memory stand-in served by
pytest-httpx (nothing real can run here); failures are staged with `httpx_mock`.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from storage_drivers.cloudflare_kv_api import (
    API_URL,
    Entry,
    FakeCloudflareKV,
    error_response,
    fake_for,
    parse_multipart,
)

from nitro.core.storage import Storage, StorageError
from nitro.storage_drivers import cloudflare_kv, create_driver

from helpers import free_port

pytestmark = pytest.mark.anyio

ACCOUNT = "0123456789abcdef0123456789abcdef"
NAMESPACE = "fedcba9876543210fedcba9876543210"
TOKEN = "secret-token-do-not-print"
ENDPOINT = f"{API_URL}/accounts/{ACCOUNT}/storage/kv/namespaces/{NAMESPACE}"


@dataclass
class KV:
    storage: Storage
    fake: FakeCloudflareKV
    namespace_id: str
    httpx_mock: HTTPXMock

    def requests(self, method: str | None = None, part: str = "") -> list[httpx.Request]:
        return [
            r
            for r in self.httpx_mock.get_requests()
            if (method is None or r.method == method) and part in r.url.path
        ]

    @property
    def store(self) -> dict[str, Entry]:
        return self.fake.entries(self.namespace_id)


@pytest.fixture
async def kv(request: pytest.FixtureRequest, httpx_mock: HTTPXMock) -> AsyncIterator[KV]:
    """A Storage with the driver mounted at "t" on a fresh namespace of the fake API,
    keys stored without a base (so the fake's names are the relative keys)."""
    fake = fake_for(request)
    namespace_id = fake.new_namespace()
    driver = create_driver(
        "cloudflare-kv",
        {"account_id": fake.account_id, "namespace_id": namespace_id, "api_token": fake.token},
        root=Path("."),
    )
    storage = Storage(timeout=10).mount("t", driver)
    try:
        yield KV(storage, fake, namespace_id, httpx_mock)
    finally:
        await storage.dispose()


def staged_storage(**extra: Any) -> Storage:
    """A Storage whose driver talks to `API_URL` with fixed ids (answers staged per test)."""
    options = {"account_id": ACCOUNT, "namespace_id": NAMESPACE, "api_token": TOKEN, **extra}
    return Storage(timeout=10).mount("t", create_driver("cloudflare-kv", options, root=Path(".")))


def put_parts(request: httpx.Request) -> tuple[bytes, dict[str, Any]]:
    parts = parse_multipart(request.headers["content-type"], request.content)
    return parts["value"], json.loads(parts["metadata"])


# --- the requests ---


async def test_requests_have_the_documented_shape(kv: KV) -> None:
    before = time.time()
    await kv.storage.set_item_raw("t:a b?c#d%e:ü", b"\x00\xffbin")
    (put,) = kv.requests("PUT")
    namespace = f"/client/v4/accounts/{kv.fake.account_id}/storage/kv/namespaces/{kv.namespace_id}"
    # ":" "/" "?" "#" "%" " " and UTF-8 all percent-encoded in the one path segment
    assert put.url.raw_path == f"{namespace}/values/a%20b%3Fc%23d%25e%3A%C3%BC".encode()
    assert put.headers["authorization"] == f"Bearer {kv.fake.token}"
    assert put.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "expiration_ttl" not in put.url.params
    value, metadata = put_parts(put)
    assert value == b"\x00\xffbin"
    assert metadata.keys() == {"mtime", "size"}
    assert metadata["size"] == 5 and before <= metadata["mtime"] <= time.time()

    assert await kv.storage.get_item_raw("t:a b?c#d%e:ü") == b"\x00\xffbin"
    gets = sorted(r.url.raw_path for r in kv.requests("GET"))
    assert gets == [
        f"{namespace}/metadata/a%20b%3Fc%23d%25e%3A%C3%BC".encode(),
        f"{namespace}/values/a%20b%3Fc%23d%25e%3A%C3%BC".encode(),
    ]
    await kv.storage.remove_item("t:a b?c#d%e:ü")
    (delete,) = kv.requests("DELETE")
    assert delete.url.raw_path == f"{namespace}/values/a%20b%3Fc%23d%25e%3A%C3%BC".encode()
    assert kv.store == {}


async def test_keys_with_special_characters_round_trip_and_list(kv: KV) -> None:
    keys = ["t:sp ace", "t:q?x#y", "t:pct%41", "t:ü:🚀", "t:back\\slash", "t:a/b"]
    for i, key in enumerate(keys):
        await kv.storage.set_item(key, i)
    for i, key in enumerate(keys):
        assert await kv.storage.get_item(key) == i
    assert set(kv.store) == {"sp ace", "q?x#y", "pct%41", "ü:🚀", "back:slash", "a:b"}
    assert await kv.storage.get_keys("t") == sorted(
        ["t:sp ace", "t:q?x#y", "t:pct%41", "t:ü:🚀", "t:back:slash", "t:a:b"]
    )


async def test_the_base_prefixes_every_key_in_the_namespace(
    request: pytest.FixtureRequest, httpx_mock: HTTPXMock
) -> None:
    fake = fake_for(request)
    namespace_id = fake.new_namespace()
    options = {"account_id": fake.account_id, "namespace_id": namespace_id, "api_token": fake.token}
    app = Storage().mount(
        "t", create_driver("cloudflare-kv", {**options, "base": "app"}, root=Path("."))
    )
    other = Storage().mount(
        "t", create_driver("cloudflare-kv", {**options, "base": "other/"}, root=Path("."))
    )
    await app.set_item("t:users:1", "ada")
    await other.set_item("t:users:1", "bob")
    assert set(fake.entries(namespace_id)) == {"app:users:1", "other:users:1"}
    assert await app.get_keys() == ["t:users:1"]
    await app.clear()
    assert set(fake.entries(namespace_id)) == {"other:users:1"}
    assert await other.get_item("t:users:1") == "bob"
    (listing,) = [r for r in httpx_mock.get_requests() if r.url.path.endswith("/keys")][:1]
    assert listing.url.params["prefix"] == "app:"
    await app.dispose()
    await other.dispose()


# --- TTL ---


async def test_short_ttls_live_in_metadata_with_the_60s_floor_natively(kv: KV) -> None:
    before = time.time()
    await kv.storage.set_item("t:short", "soon gone", ttl=0.3)
    (put,) = kv.requests("PUT")
    assert put.url.params["expiration_ttl"] == "60"  # Cloudflare's minimum: it cleans up
    _, metadata = put_parts(put)
    assert metadata["ttl"] == 0.3
    assert before + 0.3 <= metadata["expires"] <= time.time() + 0.3
    entry = kv.store["short"]
    assert entry.expiration is not None and entry.expiration >= int(before) + 60
    assert (await kv.storage.get_meta("t:short"))["ttl"] == 0.3

    deadline = time.monotonic() + 5
    while await kv.storage.get_item("t:short") is not None:
        assert time.monotonic() < deadline, "a 0.3 s TTL did not expire"
        await asyncio.sleep(0.05)
    assert not await kv.storage.has_item("t:short")
    assert await kv.storage.get_meta("t:short") == {}
    assert await kv.storage.get_keys("t") == []
    # Still in KV until Cloudflare's own expiry; not deleted on read (no DELETE race).
    assert "short" in kv.store
    assert kv.requests("DELETE") == []


async def test_long_ttls_use_the_native_expiration(kv: KV) -> None:
    before = int(time.time())
    await kv.storage.set_item("t:hour", 1, ttl=3600)
    await kv.storage.set_item("t:odd", 2, ttl=90.5)
    puts = kv.requests("PUT")
    assert [r.url.params["expiration_ttl"] for r in puts] == ["3600", "91"]
    assert before + 3600 <= kv.store["hour"].expiration <= before + 3601
    assert put_parts(puts[1])[1]["ttl"] == 90.5
    assert await kv.storage.get_meta("t:hour") == {
        "mtime": pytest.approx(time.time(), abs=5),
        "size": 1,
        "ttl": 3600,
    }
    await kv.storage.set_item("t:hour", 3)  # overwriting without a TTL drops the expiration
    assert kv.store["hour"].expiration is None
    assert "ttl" not in await kv.storage.get_meta("t:hour")


async def test_keys_filters_expired_keys_by_listing_metadata_alone(kv: KV) -> None:
    await kv.storage.set_item("t:live", 1)
    past = time.time() - 1  # expired in its metadata, not yet by Cloudflare
    kv.store["dead"] = Entry(b"1", {"mtime": past - 1, "size": 1, "ttl": 1, "expires": past})
    before = len(kv.httpx_mock.get_requests())
    assert await kv.storage.get_keys("t") == ["t:live"]
    assert [r.url.path.rsplit("/", 1)[1] for r in kv.httpx_mock.get_requests()[before:]] == ["keys"]
    assert await kv.storage.get_item("t:dead") is None


async def test_the_fake_refuses_ttls_under_60s_like_cloudflare(kv: KV) -> None:
    url = f"{kv.fake.api_url}/accounts/{kv.fake.account_id}/storage/kv/namespaces/{kv.namespace_id}/values/k"
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {kv.fake.token}"}) as client:
        response = await client.put(url, params={"expiration_ttl": 59}, content=b"v")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["errors"][0]["message"] == (
        "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."
    )
    # and the driver never sends one
    for ttl in (0.01, 1, 59, 59.5, 60):
        await kv.storage.set_item("t:k", 1, ttl=ttl)
    sent = [int(r.url.params["expiration_ttl"]) for r in kv.requests("PUT")[1:]]
    assert sent == [60, 60, 60, 60, 60]


# --- listing and clearing ---


async def test_listing_follows_the_cursor_past_many_pages(kv: KV) -> None:
    assert kv.fake.page_size == 3
    for i in range(25):
        await kv.storage.set_item(f"t:many:{i:02d}", i)
    await kv.storage.set_item("t:other", 0)
    assert await kv.storage.get_keys("t:many") == [f"t:many:{i:02d}" for i in range(25)]
    listings = kv.requests("GET", "/keys")
    assert len(listings) == 9  # ceil(25 / 3)
    assert all(r.url.params["prefix"] == "many:" for r in listings)
    assert all(r.url.params["limit"] == "1000" for r in listings)
    assert "cursor" not in listings[0].url.params
    cursors = [r.url.params["cursor"] for r in listings[1:]]
    assert all(cursors) and len(set(cursors)) == 8


async def test_clear_deletes_in_bulk_in_chunks(kv: KV, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloudflare_kv, "BULK_DELETE_LIMIT", 10)
    for i in range(25):
        await kv.storage.set_item(f"t:x:{i:02d}", i)
    await kv.storage.set_item("t:keep", 1)
    await kv.storage.clear("t:x")
    bulk = kv.requests("POST", "/bulk/delete")
    assert [len(json.loads(r.content)) for r in bulk] == [10, 10, 5]
    assert bulk[0].headers["content-type"] == "application/json"
    assert set(kv.store) == {"keep"}
    assert kv.requests("DELETE") == []  # one request per 10 keys, not one per key


async def test_values_written_by_other_tools_are_read_with_their_size(kv: KV) -> None:
    kv.store["legacy"] = Entry(b"written by wrangler")
    assert await kv.storage.get_item("t:legacy") == "written by wrangler"
    assert await kv.storage.get_meta("t:legacy") == {"size": 19}
    assert await kv.storage.get_keys("t") == ["t:legacy"]


# --- keys the API cannot take ---


async def test_keys_over_512_bytes_are_refused_before_any_request(kv: KV) -> None:
    await kv.storage.set_item("t:" + "k" * 512, 1)  # exactly the limit
    before = len(kv.httpx_mock.get_requests())
    long_key = "é" * 257  # 514 bytes
    with pytest.raises(ValueError, match=r"key 'é+' is 514 bytes; .* at most 512 bytes"):
        await kv.storage.set_item("t:" + long_key, 1)
    with pytest.raises(ValueError, match="at most 512 bytes"):
        await kv.storage.get_item("t:" + long_key)
    assert len(kv.httpx_mock.get_requests()) == before


async def test_the_base_counts_towards_the_key_limit(httpx_mock: HTTPXMock) -> None:
    storage = staged_storage(base="app")
    with pytest.raises(ValueError, match=r"513 bytes with the base 'app:'"):
        await storage.set_item("t:" + "k" * 509, 1)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("key", [".", ".."])
async def test_dot_keys_never_reach_the_url(httpx_mock: HTTPXMock, key: str) -> None:
    # httpx would resolve /values/.. to the namespace itself: a DELETE there drops it.
    storage = staged_storage()
    for attempt in (
        lambda: storage.remove_item(f"t:{key}"),
        lambda: storage.set_item(f"t:{key}", 1),
    ):
        with pytest.raises(ValueError, match="refuses the key"):
            await attempt()
    assert httpx_mock.get_requests() == []


# --- errors ---

ERRORS = {
    "auth": (
        lambda: error_response(403, 10000, "Authentication error"),
        r"HTTP 403: 10000 Authentication error \(check api_token",
    ),
    "rate-limit": (
        lambda: error_response(429, 971, "Please wait and consider throttling your request speed"),
        r"HTTP 429: 971 Please wait .*\(rate limited",
    ),
    "server": (
        lambda: error_response(500, 10001, "service temporarily unavailable"),
        r"HTTP 500: 10001 service temporarily unavailable",
    ),
    "html": (
        lambda: httpx.Response(502, text="<html>Bad gateway</html>"),
        r"HTTP 502: the answer is not the API's JSON: '<html>Bad gateway",
    ),
    "malformed-json": (
        lambda: httpx.Response(
            200, text='{"success": tru', headers={"content-type": "application/json"}
        ),
        r"HTTP 200: the answer is not the API's JSON",
    ),
    "not-an-envelope": (
        lambda: httpx.Response(200, json=["nope"]),
        r"HTTP 200: the answer is not the API's JSON",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
@pytest.mark.parametrize("operation", ["set", "has", "keys"])
async def test_api_errors_are_storage_errors_without_the_token(
    httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch, case: str, operation: str
) -> None:
    monkeypatch.setattr(cloudflare_kv, "RETRY_DELAYS", (0.01, 0.01))
    make, pattern = ERRORS[case]
    httpx_mock.add_callback(lambda request: make(), is_reusable=True)
    storage = staged_storage()
    calls = {
        "set": lambda: storage.set_item("t:k", 1),
        "has": lambda: storage.has_item("t:k"),
        "keys": lambda: storage.get_keys("t"),
    }
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        await calls[operation]()
    assert time.monotonic() - started < 2
    text = str(info.value)
    assert "[nitro:storage:cloudflare-kv] mount 't'" in text
    assert ENDPOINT in text
    assert TOKEN not in text and TOKEN not in repr(info.value.__cause__)
    assert re.search(pattern, text), text
    retried = case in ("rate-limit", "server", "html")
    assert len(httpx_mock.get_requests()) == (3 if retried else 1)
    await storage.dispose()


async def test_a_timeout_is_a_storage_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("read timed out"), is_reusable=True)
    storage = staged_storage(timeout=1.5)
    with pytest.raises(
        StorageError, match=r"get failed: .*no answer in time \(ReadTimeout; .*timeout=1.5s"
    ):
        await storage.get_item("t:k")
    assert len(httpx_mock.get_requests()) == 2  # value and metadata, neither retried
    await storage.dispose()


async def test_an_error_echoing_the_token_is_redacted(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        status_code=400,
        json={
            "success": False,
            "errors": [{"code": 6003, "message": f"bad header Bearer {TOKEN}"}],
        },
    )
    storage = staged_storage()
    with pytest.raises(StorageError) as info:
        await storage.set_item("t:k", 1)
    assert TOKEN not in str(info.value) and "Bearer ***" in str(info.value)
    await storage.dispose()


async def test_a_rate_limit_is_retried_after_retry_after(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        status_code=429,
        headers={"retry-after": "0"},
        json={"success": False, "errors": [{"code": 10048, "message": "Too many requests"}]},
    )
    httpx_mock.add_response(json={"success": True, "errors": [], "messages": [], "result": None})
    storage = staged_storage()
    await storage.set_item("t:k", 1)
    assert len(httpx_mock.get_requests()) == 2
    await storage.dispose()


async def test_a_wrong_token_through_the_fake_is_refused(
    request: pytest.FixtureRequest, httpx_mock: HTTPXMock
) -> None:
    fake = fake_for(request)
    options = {
        "account_id": fake.account_id,
        "namespace_id": fake.new_namespace(),
        "api_token": "wrong-" + TOKEN,
    }
    storage = Storage().mount("t", create_driver("cloudflare-kv", options, root=Path(".")))
    with pytest.raises(StorageError, match=r"10000 Authentication error") as info:
        await storage.set_item("t:k", 1)
    assert TOKEN not in str(info.value)
    await storage.dispose()


async def test_an_unknown_namespace_is_an_error_not_an_empty_store(
    request: pytest.FixtureRequest, httpx_mock: HTTPXMock
) -> None:
    fake = fake_for(request)
    options = {"account_id": fake.account_id, "namespace_id": "0" * 32, "api_token": fake.token}
    storage = Storage().mount("t", create_driver("cloudflare-kv", options, root=Path(".")))
    for attempt in (
        lambda: storage.get_item("t:k"),
        lambda: storage.has_item("t:k"),
        lambda: storage.get_keys(),
    ):
        with pytest.raises(StorageError, match="HTTP 404: 10013 namespace not found"):
            await attempt()
    await storage.dispose()


async def test_an_api_that_is_down_fails_within_seconds() -> None:
    port = free_port()  # nothing listens there
    endpoint = (
        f"http://127.0.0.1:{port}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces/{NAMESPACE}"
    )
    storage = staged_storage(api_url=f"http://127.0.0.1:{port}/client/v4")
    started = time.monotonic()
    with pytest.raises(StorageError, match="cannot connect") as info:
        await storage.set_item("t:k", 1)
    assert time.monotonic() - started < 5
    assert endpoint in str(info.value) and "mount 't'" in str(info.value)
    assert TOKEN not in str(info.value)
    await storage.dispose()


# --- options and lifecycle ---


def test_unknown_options_name_the_nearest() -> None:
    with pytest.raises(ValueError, match="unknown option 'namespace'; did you mean 'namespace_id'"):
        create_driver("cloudflare-kv", {"namespace": "x"}, root=Path("."))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"namespace_id": NAMESPACE, "api_token": TOKEN}, "'account_id' is required"),
        ({"account_id": ACCOUNT, "api_token": TOKEN}, "'namespace_id' is required"),
        (
            {"account_id": ACCOUNT, "namespace_id": NAMESPACE, "api_token": " "},
            "'api_token' is required",
        ),
        (
            {
                "account_id": ACCOUNT,
                "namespace_id": NAMESPACE,
                "api_token": TOKEN,
                "api_url": "api.cloudflare.com",
            },
            "api_url must be an http",
        ),
        (
            {"account_id": ACCOUNT, "namespace_id": NAMESPACE, "api_token": TOKEN, "timeout": 0},
            "timeout must be a positive",
        ),
    ],
)
def test_options_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_driver("cloudflare-kv", options, root=Path("."))


async def test_connects_lazily_and_disposes_twice(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        json={"success": True, "errors": [], "messages": [], "result": None}, is_reusable=True
    )
    driver = create_driver(
        "cloudflare-kv",
        {"account_id": ACCOUNT, "namespace_id": NAMESPACE, "api_token": TOKEN},
        root=Path("."),
    )
    assert driver.endpoint == ENDPOINT and driver.network
    assert driver._client is None  # type: ignore[attr-defined]
    assert httpx_mock.get_requests() == []
    await driver.remove("k")
    await driver.dispose()
    await driver.dispose()
    await driver.remove("k")  # a new client after dispose
    await driver.dispose()
    assert len(httpx_mock.get_requests()) == 2


def test_the_module_imports_without_httpx() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None\n"
        "import nitro.storage_drivers.cloudflare_kv as m\n"
        "try:\n"
        "    m.driver({'account_id': 'a', 'namespace_id': 'n', 'api_token': 't'}, root=None)\n"
        "except ModuleNotFoundError as exc:\n"
        "    print('missing', exc.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "missing httpx", result.stderr
