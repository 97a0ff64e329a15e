"""What is special to the upstash driver: the REST protocol, the value encoding, native
TTL, SCAN paging, and every failure naming driver/mount/endpoint but never the token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from pytest_httpx import HTTPXMock
from storage_drivers.backends import read_failure
from storage_drivers.backends import upstash as backend
from storage_drivers.backends.redis import unique_base

import nitro.storage_drivers.upstash as upstash
from nitro.core.storage import Storage, StorageError
from nitro.storage_drivers import create_driver

from helpers import free_port

pytestmark = pytest.mark.anyio

FAKE_URL = "https://eu1-fake-kv.upstash.io"
SECRET = "AX-s3cret-rest-token-1234"


@pytest.fixture
async def local(
    request: pytest.FixtureRequest, tmp_path: Path, raw_redis: aioredis.Redis
) -> AsyncIterator[tuple[Storage, str]]:
    """A Storage with the driver on the local server at "t", and its key prefix."""
    base = unique_base()
    options = {"url": backend.server(request).url, "token": backend.TOKEN, "base": base}
    storage = Storage(timeout=10)
    storage.mount("t", create_driver("upstash", options, root=tmp_path))
    try:
        yield storage, base
    finally:
        await storage.dispose()
        pattern = upstash.escape_glob(base) + "*"
        leftovers = [k async for k in raw_redis.scan_iter(match=pattern)]
        if leftovers:
            await raw_redis.unlink(*leftovers)


async def test_ttl_is_set_on_the_redis_key(
    local: tuple[Storage, str], raw_redis: aioredis.Redis
) -> None:
    storage, base = local
    await storage.set_item("t:session", {"user": 1}, ttl=60)
    assert 59_000 < await raw_redis.pttl(f"{base}session") <= 60_000
    assert await storage.get_meta("t:session") == {"size": 10, "ttl": 60}
    await storage.set_item("t:session", {"user": 2})
    assert await raw_redis.pttl(f"{base}session") == -1
    await storage.set_item("t:blink", "x", ttl=0.25)
    assert 0 < await raw_redis.pttl(f"{base}blink") <= 250
    assert (await storage.get_meta("t:blink"))["ttl"] == 1  # time left, rounded up


async def test_text_is_stored_as_text_and_other_bytes_marked(
    local: tuple[Storage, str], raw_redis: aioredis.Redis
) -> None:
    storage, base = local
    await storage.set_item("t:user", {"name": "Ada", "city": "Zürich"})
    assert await raw_redis.get(f"{base}user") == '{"name":"Ada","city":"Zürich"}'.encode()
    blob = bytes(range(256))
    await storage.set_item_raw("t:blob", blob)
    assert (await raw_redis.get(f"{base}blob")).startswith(b"base64:")
    assert await storage.get_item_raw("t:blob") == blob
    # Text that looks like the marker is escaped, so it reads back as it was.
    await storage.set_item_raw("t:tricky", b"base64:AAAA")
    assert await storage.get_item_raw("t:tricky") == b"base64:AAAA"
    # Sizes are of the value as given, not of its encoding.
    for size in (0, 1, 2, 3, 256):
        await storage.set_item_raw("t:sized", b"\xff" * size)
        assert (await storage.get_meta("t:sized"))["size"] == size
    # Bytes another client stored raw (over the Redis protocol) read back exactly.
    await raw_redis.set(f"{base}elsewhere", b"\xff\x00\xfe not UTF-8")
    assert await storage.get_item_raw("t:elsewhere") == b"\xff\x00\xfe not UTF-8"
    await raw_redis.set(f"{base}ok", b"OK")
    assert await storage.get_item_raw("t:ok") == b"OK"


def test_the_encoding_is_a_bijection() -> None:
    for value in (
        b"",
        b"text",
        "ünï".encode(),
        b"base64:",
        b"base64:x",
        b"\x80",
        bytes(range(256)),
    ):
        assert upstash.decode_value(upstash.encode_value(value).encode()) == value
    assert upstash.encode_value(b'{"a":1}') == '{"a":1}'
    assert upstash.encode_value(b"\xff") == "base64:/w=="
    assert upstash.decode_value(b"base64:not base64!") == b"base64:not base64!"


async def test_listing_and_clearing_page_through_scan(
    local: tuple[Storage, str], raw_redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, base = local
    monkeypatch.setattr(upstash, "SCAN_COUNT", 500)
    monkeypatch.setattr(upstash, "DELETE_BATCH", 400)
    pipe = raw_redis.pipeline(transaction=False)
    for i in range(2500):
        pipe.set(f"{base}many:{i}", i)
    pipe.set(f"{base}other", '"stays"')
    await pipe.execute()
    driver = storage.mounts()["t"]
    assert isinstance(driver, upstash.UpstashDriver)
    commands: list[str] = []
    original = driver._command

    async def spy(*args: object) -> object:
        commands.append(str(args[0]))
        return await original(*args)

    monkeypatch.setattr(driver, "_command", spy)
    assert sorted(await storage.get_keys("t:many")) == sorted(f"t:many:{i}" for i in range(2500))
    assert commands.count("SCAN") > 1
    await storage.clear("t:many")
    assert commands.count("DEL") >= 7  # 2,500 keys in batches of 400
    assert await storage.get_keys("t") == ["t:other"]


async def test_glob_characters_in_prefixes_match_only_themselves(
    local: tuple[Storage, str], raw_redis: aioredis.Redis
) -> None:
    storage, base = local
    await raw_redis.set(f"{base}ab:intruder", '"not ours"')
    for key in ("t:a*:1", "t:a?:2", "t:[ab]:3", "t:a\\:4"):
        await storage.set_item(key, key)
    assert await storage.get_keys("t:a*") == ["t:a*:1"]
    assert await storage.get_keys("t:a?") == ["t:a?:2"]
    assert await storage.get_keys("t:[ab]") == ["t:[ab]:3"]
    await storage.clear("t:a*")
    assert await raw_redis.get(f"{base}ab:intruder") == b'"not ours"'
    assert len(await storage.get_keys("t")) == 4


def assert_names_everything_but_the_token(message: str, endpoint: str) -> None:
    assert "[nitro:storage:upstash]" in message
    assert "mount 't'" in message
    assert f"({endpoint})" in message
    assert SECRET not in message


async def test_a_wrong_token_is_refused_by_the_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = backend.server(request).url
    storage = Storage().mount(
        "t", create_driver("upstash", {"url": url, "token": SECRET}, root=tmp_path)
    )
    try:
        message = await read_failure(storage)
    finally:
        await storage.dispose()
    assert_names_everything_but_the_token(message, url)
    assert "HTTP 401: Unauthorized" in message


async def test_a_closed_port_fails_fast(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    storage = Storage().mount(
        "t", create_driver("upstash", {"url": url, "token": SECRET}, root=tmp_path)
    )
    try:
        message = await read_failure(storage, within=3)
    finally:
        await storage.dispose()
    assert_names_everything_but_the_token(message, url)
    assert "ConnectError" in message


def mocked(tmp_path: Path, **extra: object) -> Storage:
    options = {"url": FAKE_URL + "/", "token": SECRET, "base": "app", **extra}
    return Storage().mount("t", create_driver("upstash", options, root=tmp_path))


async def test_requests_follow_the_rest_protocol(tmp_path: Path, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=FAKE_URL, json={"result": "OK"})
    httpx_mock.add_response(url=FAKE_URL, json={"result": "eyJhIjoxfQ=="})  # {"a":1}
    httpx_mock.add_response(
        url=FAKE_URL + "/pipeline",
        json=[{"result": 7}, {"result": 59_001}, {"result": "eyJhIjoxfQ=="}, {"result": "MX0="}],
    )
    storage = mocked(tmp_path)
    try:
        await storage.set_item("t:k", {"a": 1}, ttl=60)
        assert await storage.get_item("t:k") == {"a": 1}
        assert await storage.get_meta("t:k") == {"size": 7, "ttl": 60}
    finally:
        await storage.dispose()
    first, second, third = httpx_mock.get_requests()
    for sent in (first, second, third):
        assert sent.method == "POST"
        assert sent.headers["authorization"] == f"Bearer {SECRET}"
        assert sent.headers["upstash-encoding"] == "base64"
        assert SECRET not in str(sent.url)
    assert json.loads(first.content) == ["SET", "app:k", '{"a":1}', "PX", 60000]
    assert json.loads(second.content) == ["GET", "app:k"]
    assert json.loads(third.content)[0] == ["STRLEN", "app:k"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (httpx.Response(401, json={"error": "Unauthorized"}), "HTTP 401: Unauthorized"),
        (
            httpx.Response(400, json={"error": "WRONGPASS invalid password " + SECRET}),
            "HTTP 400: WRONGPASS invalid password ***",
        ),
        (
            httpx.Response(500, text="<html>upstream broke</html>"),
            "HTTP 500 (no Upstash error JSON)",
        ),
        (httpx.Response(200, text="<html>captive portal</html>"), "malformed response: not JSON"),
        (httpx.Response(200, json={"value": 1}), "malformed response: no 'result'"),
        (httpx.Response(200, json={"result": "%%%"}), "not base64"),
        (httpx.Response(200, json={"result": 12}), "expected a string"),
        (
            httpx.Response(200, json={"error": "ERR max request size exceeded"}),
            "ERR max request size",
        ),
    ],
    ids=[
        "401",
        "400-echoing-the-token",
        "500",
        "not-json",
        "no-result",
        "bad-base64",
        "wrong-type",
        "error-in-200",
    ],
)
async def test_bad_answers_are_storage_errors(
    tmp_path: Path, httpx_mock: HTTPXMock, reply: httpx.Response, expected: str
) -> None:
    httpx_mock.add_response(
        url=FAKE_URL,
        status_code=reply.status_code,
        content=reply.content,
        headers={"content-type": reply.headers.get("content-type", "text/plain")},
    )
    storage = mocked(tmp_path)
    try:
        message = await read_failure(storage)
    finally:
        await storage.dispose()
    assert_names_everything_but_the_token(message, FAKE_URL)
    assert expected in message


async def test_a_malformed_scan_or_pipeline_reply_is_a_storage_error(
    tmp_path: Path, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=FAKE_URL, json={"result": ["0"]})
    httpx_mock.add_response(url=FAKE_URL + "/pipeline", json=[{"result": 1}])
    storage = mocked(tmp_path)
    try:
        with pytest.raises(StorageError, match="SCAN did not answer"):
            await storage.get_keys("t")
        with pytest.raises(StorageError, match="one reply per pipelined command"):
            await storage.get_meta("t:k")
    finally:
        await storage.dispose()


async def test_a_timeout_is_a_storage_error(tmp_path: Path, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=FAKE_URL)
    storage = mocked(tmp_path)
    try:
        message = await read_failure(storage)
    finally:
        await storage.dispose()
    assert_names_everything_but_the_token(message, FAKE_URL)
    assert "no answer in time (ReadTimeout)" in message


async def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:  # accepts connections (backlog), never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        options = {"url": url, "token": SECRET, "timeout": 0.3}
        storage = Storage().mount("t", create_driver("upstash", options, root=tmp_path))
        try:
            message = await read_failure(storage, within=3)
        finally:
            await storage.dispose()
    assert_names_everything_but_the_token(message, url)


async def test_scan_cursors_are_followed_encoded_or_plain(
    tmp_path: Path, httpx_mock: HTTPXMock
) -> None:
    def key(name: str) -> str:
        import base64

        return base64.b64encode(name.encode()).decode()

    httpx_mock.add_response(url=FAKE_URL, json={"result": [key("17"), [key("app:a")]]})
    httpx_mock.add_response(url=FAKE_URL, json={"result": ["42", [key("app:b"), key("app:a")]]})
    httpx_mock.add_response(url=FAKE_URL, json={"result": [key("0"), [key("other:c")]]})
    storage = mocked(tmp_path)
    try:
        assert await storage.get_keys("t") == ["t:a", "t:b"]
    finally:
        await storage.dispose()
    cursors = [json.loads(r.content)[1] for r in httpx_mock.get_requests()]
    assert cursors == ["0", "17", "42"]
    assert json.loads(httpx_mock.get_requests()[0].content)[2:] == ["MATCH", "app:*", "COUNT", 1000]


def test_options_url_and_token_come_from_vercel_or_upstash_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (*upstash.URL_ENV, *upstash.TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="KV_REST_API_URL"):
        create_driver("upstash", {}, root=tmp_path)
    with pytest.raises(ValueError, match=r"token is missing.*KV_REST_API_TOKEN"):
        create_driver("upstash", {"url": FAKE_URL}, root=tmp_path)
    monkeypatch.setenv("KV_REST_API_URL", FAKE_URL)
    monkeypatch.setenv("KV_REST_API_TOKEN", SECRET)
    driver = create_driver("upstash", {}, root=tmp_path)
    assert driver.endpoint == FAKE_URL
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", "https://other.upstash.io")
    assert create_driver("upstash", {}, root=tmp_path).endpoint == "https://other.upstash.io"


def test_options_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown option 'tokne'; did you mean 'token'"):
        create_driver("upstash", {"url": FAKE_URL, "tokne": SECRET}, root=tmp_path)
    with pytest.raises(ValueError, match="REST URL"):
        create_driver(
            "upstash", {"url": "redis://x.upstash.io:6379", "token": SECRET}, root=tmp_path
        )
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        create_driver("upstash", {"url": FAKE_URL, "token": SECRET, "timeout": -1}, root=tmp_path)
    driver = create_driver(
        "upstash", {"url": "https://u:p@x.upstash.io/?_token=t", "token": SECRET}, root=tmp_path
    )
    assert driver.endpoint == "https://x.upstash.io"


async def test_dispose_is_safe_twice(tmp_path: Path) -> None:
    driver = create_driver("upstash", {"url": FAKE_URL, "token": SECRET}, root=tmp_path)
    await driver.dispose()
    await driver.dispose()
