"""What is special to the gcs driver, against gcp-storage-emulator (backends/gcs.py).

The emulator ignores ``maxResults`` (one listing is one page), so pagination is
tested through a small proxy in front of it that splits listings into pages
with ``nextPageToken``, as Cloud Storage does.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from storage_drivers.backends import gcs as backend
from storage_drivers.http_stubs import Answer, RecordingProxy, serve

from nitro.core.storage import Storage, StorageError
from nitro.storage_drivers import create_driver
from nitro.storage_drivers.gcs import EXPIRES, TTL, GcsDriver

from helpers import free_port

pytestmark = pytest.mark.anyio
LISTING = re.compile(r"^/storage/v1/b/[^/]+/o$")


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> str:
    url = backend.start_emulator(request.config)
    backend.require_service(url is not None, "gcp-storage-emulator", backend.HOW_TO_START)
    assert url is not None
    return url


@pytest.fixture
def bucket(emulator: str) -> str:
    return backend.create_bucket(emulator)


def mount(options: dict[str, Any], tmp_path: Path) -> tuple[Storage, GcsDriver]:
    driver = create_driver("gcs", options, root=tmp_path)
    assert isinstance(driver, GcsDriver)
    return Storage(timeout=10).mount("t", driver), driver


def sdk_bucket(emulator: str, bucket: str) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulator},
    )
    return client.bucket(bucket)


async def test_ttl_is_kept_in_the_object_metadata(emulator: str, bucket: str, tmp_path) -> None:
    storage, _ = mount({"bucket": bucket, "endpoint": emulator, "base": "app"}, tmp_path)
    before = time.time()
    await storage.set_item("t:users:1", {"name": "Ada"}, ttl=600)
    blob = sdk_bucket(emulator, bucket).get_blob("app/users/1")  # key a:b is <base>a/b
    assert blob is not None and blob.metadata is not None
    assert before + 600 <= float(blob.metadata[EXPIRES]) <= time.time() + 600
    assert float(blob.metadata[TTL]) == 600
    assert blob.download_as_bytes() == b'{"name":"Ada"}'
    meta = await storage.get_meta("t:users:1")
    assert meta["ttl"] == 600 and meta["size"] == len(b'{"name":"Ada"}')
    assert before - 5 <= meta["mtime"] <= time.time() + 5

    await storage.set_item("t:users:1", "no ttl")  # an overwrite drops the old expiry
    blob = sdk_bucket(emulator, bucket).get_blob("app/users/1")
    assert not (blob.metadata or {}).get(EXPIRES)
    await storage.dispose()


async def test_expired_objects_are_missing_and_deleted(emulator: str, bucket: str, tmp_path):
    sdk = sdk_bucket(emulator, bucket)
    for name in ("old/1", "old/2"):  # written by an earlier run, expired an hour ago
        blob = sdk.blob(name)
        blob.metadata = {EXPIRES: str(time.time() - 3600), TTL: "60"}
        blob.upload_from_string(b"stale")
    storage, _ = mount({"bucket": bucket, "endpoint": emulator}, tmp_path)
    await storage.set_item("t:old:3", "fresh")
    assert await storage.get_keys("t") == ["t:old:3"]
    assert sdk.get_blob("old/1") is None and sdk.get_blob("old/2") is None  # cleaned up
    blob = sdk.blob("old/4")
    blob.metadata = {EXPIRES: str(time.time() - 1)}
    blob.upload_from_string(b"stale")
    assert await storage.get_item("t:old:4") is None
    assert await storage.get_meta("t:old:4") == {}
    assert sdk.get_blob("old/4") is None
    await storage.dispose()


class PagingProxy(RecordingProxy):
    """Forwards to the emulator; splits object listings into ``maxResults`` pages."""

    def answer(self, method: str, path: str, query: dict[str, str]) -> Answer | None:
        if method != "GET" or not LISTING.match(path):
            return None
        size = int(query.pop("maxResults", "1000"))
        start = int(query.pop("pageToken", "0"))
        full = httpx.get(f"{self.upstream}{path}?{urlencode(query)}")
        if full.status_code != 200:
            return full.status_code, full.content, {}
        listing = full.json()
        items = listing.get("items", [])
        listing["items"] = items[start : start + size]
        if start + size < len(items):
            listing["nextPageToken"] = str(start + size)
        return 200, json.dumps(listing).encode(), {"content-type": "application/json"}


@pytest.fixture
def proxy(emulator: str) -> Iterator[PagingProxy]:
    with PagingProxy(emulator) as proxy:
        yield proxy


async def test_keys_page_through_listings(proxy: PagingProxy, bucket: str, tmp_path) -> None:
    storage, driver = mount({"bucket": bucket, "endpoint": proxy.url}, tmp_path)
    driver.page_size = 3
    names = [f"t:items:{i:02}" for i in range(10)]
    for name in names:
        await storage.set_item(name, name)
    sdk = sdk_bucket(proxy.upstream, bucket)
    blob = sdk.blob("items/expired")
    blob.metadata = {EXPIRES: str(time.time() - 60)}
    blob.upload_from_string(b"stale")
    proxy.requests.clear()

    assert await storage.get_keys("t:items") == names
    listings = [r for r in proxy.requests if r[0] == "GET" and LISTING.match(r[1])]
    assert len(listings) == 4  # 11 objects, 3 a page
    assert [r[2].get("pageToken") for r in listings] == [None, "3", "6", "9"]
    # Expiry comes with the listing: no object was fetched one by one.
    assert [r for r in proxy.requests if r[0] == "GET" and not LISTING.match(r[1])] == []
    assert sdk.get_blob("items/expired") is None

    await storage.clear("t:items")  # clear pages through too
    assert await storage.get_keys("t") == []
    await storage.dispose()


async def test_binary_values_and_unicode_keys(emulator: str, bucket: str, tmp_path) -> None:
    storage, _ = mount({"bucket": bucket, "endpoint": emulator, "base": "bin/"}, tmp_path)
    blob = bytes(range(256)) * 64 + b"\r\n\x00"
    keys = ["t:ünï:cödé ✓", "t:emoji:🚀", "t:space and %20 and #?&=+"]
    for key in keys:
        await storage.set_item_raw(key, blob)
    for key in keys:
        assert await storage.get_item_raw(key) == blob
        assert (await storage.get_meta(key))["size"] == len(blob)
    assert await storage.get_keys("t") == sorted(keys)
    listed = sorted(b.name for b in sdk_bucket(emulator, bucket).client.list_blobs(bucket))
    assert listed == sorted("bin/" + k[2:].replace(":", "/") for k in keys)
    await storage.set_item_raw("t:empty", b"")
    assert await storage.get_item_raw("t:empty") == b""
    assert (await storage.get_meta("t:empty"))["size"] == 0
    large = bytes(range(256)) * (9 * 4096 + 1)  # 9 MiB + 256 B: a resumable upload
    await storage.set_item_raw("t:large", large, ttl=600)
    assert await storage.get_item_raw("t:large") == large
    assert (await storage.get_meta("t:large"))["ttl"] == 600
    await storage.clear("t")
    assert await storage.get_keys("t") == []
    await storage.dispose()


async def test_a_missing_bucket_is_a_clear_error(emulator: str, tmp_path) -> None:
    storage, _ = mount({"bucket": "nitro-no-such-bucket", "endpoint": emulator}, tmp_path)
    with pytest.raises(StorageError) as caught:
        await storage.get_item("t:k")
    message = str(caught.value)
    assert "[nitro:storage:gcs] mount 't'" in message
    assert "gs://nitro-no-such-bucket/" in message and emulator in message
    assert "bucket 'nitro-no-such-bucket' does not exist" in message
    await storage.dispose()


async def test_an_emulator_that_is_down_fails_within_seconds(tmp_path) -> None:
    port = free_port()  # nothing listens there
    storage, _ = mount({"bucket": "b", "endpoint": f"127.0.0.1:{port}"}, tmp_path)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        await storage.set_item("t:k", 1)
    assert time.monotonic() - started < 6
    assert f"[nitro:storage:gcs] mount 't' (gs://b/ via http://127.0.0.1:{port})" in str(
        caught.value
    )
    await storage.dispose()


async def test_a_server_that_never_answers_times_out(tmp_path) -> None:
    with socket.socket() as listener:  # accepts connections, never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        options = {"bucket": "b", "endpoint": f"http://127.0.0.1:{port}", "timeout": 0.5}
        storage, _ = mount(options, tmp_path)
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"mount 't' \(gs://b/"):
            await storage.get_item("t:k")
        assert time.monotonic() - started < 8
        await storage.dispose()


def service_account_file(tmp_path: Path, token_uri: str) -> tuple[Path, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "sa.json"
    info = {
        "type": "service_account",
        "project_id": "test",
        "private_key_id": "abc123",
        "private_key": pem,
        "client_email": "nitro@test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return path, pem


async def test_refused_credentials_fail_fast_without_the_key(emulator, bucket, tmp_path):
    class Refuse(http.server.BaseHTTPRequestHandler):  # a token endpoint saying no
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}'
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve(Refuse) as token_server:
        path, pem = service_account_file(tmp_path, f"{token_server}/token")
        options = {"bucket": bucket, "endpoint": emulator, "credentials_file": str(path)}
        storage, _ = mount(options, tmp_path)
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            await storage.get_item("t:k")
        assert time.monotonic() - started < 6
        message = str(caught.value)
        assert f"[nitro:storage:gcs] mount 't' (gs://{bucket}/ via {emulator})" in message
        assert "invalid_grant" in message
        key_body = "".join(pem.splitlines()[1:-1])
        assert key_body[:40] not in message.replace("\\n", "")
        await storage.dispose()


async def test_storage_emulator_host_is_honoured(emulator, bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.removeprefix("http://"))
    storage, driver = mount({"bucket": bucket}, tmp_path)
    assert driver.endpoint == f"gs://{bucket}/ via {emulator}"
    await storage.set_item("t:k", "via env")
    assert sdk_bucket(emulator, bucket).get_blob("k").download_as_bytes() == b'"via env"'
    await storage.dispose()
    await storage.dispose()  # disposing twice is fine


def test_options_are_checked(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"unknown option 'bucke'; did you mean 'bucket'\?"):
        create_driver("gcs", {"bucke": "b"}, root=tmp_path)
    with pytest.raises(ValueError, match="bucket"):
        create_driver("gcs", {}, root=tmp_path)
    with pytest.raises(ValueError, match="'timeout' must be a positive number"):
        create_driver("gcs", {"bucket": "b", "timeout": 0}, root=tmp_path)
    (tmp_path / "user.json").write_text('{"type": "authorized_user", "refresh_token": "s3cret"}')
    with pytest.raises(ValueError, match=r"user\.json' is not a service-account key") as caught:
        create_driver("gcs", {"bucket": "b", "credentials_file": "user.json"}, root=tmp_path)
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ValueError, match="cannot read credentials_file"):
        create_driver("gcs", {"bucket": "b", "credentials_file": "missing.json"}, root=tmp_path)
    # Nothing connects before the first call, so a wrong endpoint is no error yet.
    create_driver("gcs", {"bucket": "b", "endpoint": "http://127.0.0.1:9"}, root=tmp_path)


def test_a_missing_library_names_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.storage", None)
    with pytest.raises(ImportError, match=r'pip install "nitro-py\[gcp\]"'):
        create_driver("gcs", {"bucket": "b"}, root=tmp_path)
