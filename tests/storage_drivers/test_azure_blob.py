"""What is special to the azure-blob driver, against Azurite (backends/azure_blob.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from storage_drivers.backends import azure_blob as backend
from storage_drivers.http_stubs import RecordingProxy

from nitro.core.storage import Storage, StorageError
from nitro.storage_drivers import create_driver
from nitro.storage_drivers.azure_blob import EXPIRES, TTL, AzureBlobDriver

from helpers import free_port

pytestmark = pytest.mark.anyio
WRONG_KEY = "bm90LXRoZS1yaWdodC1rZXktbm90LXRoZS1yaWdodC1rZXktbm90LXRoZS1yaWdodA=="


@pytest.fixture
def azurite(request: pytest.FixtureRequest) -> str:
    return backend.require_azurite(request.config)


@pytest.fixture
async def container(azurite: str) -> str:
    return await backend.create_container(azurite)


def mount(options: dict[str, Any], tmp_path: Path) -> tuple[Storage, AzureBlobDriver]:
    driver = create_driver("azure-blob", options, root=tmp_path)
    assert isinstance(driver, AzureBlobDriver)
    return Storage(timeout=10).mount("t", driver), driver


def sdk(azurite: str, container: str) -> Any:
    from azure.storage.blob.aio import ContainerClient

    return ContainerClient.from_connection_string(backend.connection_string(azurite), container)


async def put_expired(azurite: str, container: str, name: str) -> None:
    async with sdk(azurite, container) as client:
        await client.upload_blob(
            name, b"stale", overwrite=True, metadata={EXPIRES: str(time.time() - 60), TTL: "1"}
        )


async def test_ttl_is_kept_in_the_blob_metadata(azurite, container, tmp_path) -> None:
    options = {**backend.options_for(azurite, container), "base": "app"}
    storage, _ = mount(options, tmp_path)
    before = time.time()
    await storage.set_item("t:users:1", {"name": "Ada"}, ttl=600)
    async with sdk(azurite, container) as client:
        blob = client.get_blob_client("app/users/1")  # key a:b is <base>a/b
        properties = await blob.get_blob_properties()
        assert before + 600 <= float(properties.metadata[EXPIRES]) <= time.time() + 600
        assert float(properties.metadata[TTL]) == 600
        assert await (await blob.download_blob()).readall() == b'{"name":"Ada"}'
        meta = await storage.get_meta("t:users:1")
        assert meta["ttl"] == 600 and meta["size"] == len(b'{"name":"Ada"}')
        assert before - 5 <= meta["mtime"] <= time.time() + 5

        await storage.set_item("t:users:1", "no ttl")  # an overwrite drops the old expiry
        assert EXPIRES not in (await blob.get_blob_properties()).metadata
    await storage.dispose()


async def test_expired_blobs_are_missing_and_deleted(azurite, container, tmp_path) -> None:
    storage, _ = mount(backend.options_for(azurite, container), tmp_path)
    await put_expired(azurite, container, "old/1")
    await put_expired(azurite, container, "old/2")
    assert await storage.get_item("t:old:1") is None
    assert not await storage.has_item("t:old:2")
    assert await storage.get_meta("t:old:2") == {}
    await put_expired(azurite, container, "old/3")
    await storage.set_item("t:old:4", "fresh")
    assert await storage.get_keys("t") == ["t:old:4"]
    async with sdk(azurite, container) as client:
        assert [b.name async for b in client.list_blobs()] == ["old/4"]  # the rest deleted
    await storage.dispose()


@pytest.fixture
def proxy(azurite: str) -> Iterator[RecordingProxy]:
    """Between the driver and Azurite: forwards every request as it is, and records it."""
    with RecordingProxy(azurite) as proxy:
        yield proxy


async def test_keys_page_through_listings(azurite, container, proxy, tmp_path) -> None:
    options = {**backend.options_for(azurite, container), "base": "app"}
    options["connection_string"] = backend.connection_string(proxy.url)
    storage, driver = mount(options, tmp_path)
    driver.page_size = 3
    names = [f"t:items:{i:02}" for i in range(10)]
    for name in names:
        await storage.set_item(name, name)
    await put_expired(azurite, container, "app/items/expired")
    async with sdk(azurite, container) as client:  # Azurite honours the page size
        pages = client.list_blobs(name_starts_with="app/", results_per_page=3).by_page()
        first = [b.name async for b in await pages.__anext__()]
        assert len(first) == 3 and pages.continuation_token
    proxy.requests.clear()

    assert await storage.get_keys("t:items") == names
    listings = [r for r in proxy.requests if r[2].get("comp") == "list"]
    assert len(listings) == 4  # 11 blobs, 3 a page
    assert [r[2]["maxresults"] for r in listings] == ["3"] * 4
    assert "marker" not in listings[0][2] and all(r[2].get("marker") for r in listings[1:])
    # Expiry comes with the listing: the only other request deletes the expired blob.
    others = [(method, path) for method, path, query in proxy.requests if "comp" not in query]
    assert others == [("DELETE", f"/{backend.ACCOUNT}/{container}/app/items/expired")]

    await storage.clear("t:items")  # clear pages through too
    assert await storage.get_keys("t") == []
    await storage.dispose()


async def test_binary_values_and_unicode_keys(azurite, container, tmp_path) -> None:
    options = {**backend.options_for(azurite, container), "base": "bin/"}
    storage, _ = mount(options, tmp_path)
    blob = bytes(range(256)) * 64 + b"\r\n\x00"
    keys = ["t:ünï:cödé ✓", "t:emoji:🚀", "t:space and %20 and #?&=+"]
    for key in keys:
        await storage.set_item_raw(key, blob)
    for key in keys:
        assert await storage.get_item_raw(key) == blob
        assert (await storage.get_meta(key))["size"] == len(blob)
    assert await storage.get_keys("t") == sorted(keys)
    async with sdk(azurite, container) as client:
        listed = sorted([b.name async for b in client.list_blobs()])
    assert listed == sorted("bin/" + k[2:].replace(":", "/") for k in keys)
    await storage.set_item_raw("t:empty", b"")
    assert await storage.get_item_raw("t:empty") == b""
    assert (await storage.get_meta("t:empty"))["size"] == 0
    large = bytes(range(256)) * (3 * 4096 + 1)  # 3 MiB + 256 B: uploaded in 1 MiB blocks
    await storage.set_item_raw("t:large", large, ttl=600)
    assert await storage.get_item_raw("t:large") == large
    assert (await storage.get_meta("t:large"))["ttl"] == 600
    await storage.clear("t")
    assert await storage.get_keys("t") == []
    await storage.dispose()


async def test_a_missing_container_is_a_clear_error(azurite, tmp_path) -> None:
    options = backend.options_for(azurite, "nitro-no-such-container")
    storage, _ = mount(options, tmp_path)
    for attempt in (storage.get_item("t:k"), storage.set_item("t:k", 1), storage.get_keys("t")):
        with pytest.raises(StorageError) as caught:
            await attempt
        message = str(caught.value)
        assert f"[nitro:storage:azure-blob] mount 't' ({azurite}/nitro-no-such-container/)" in (
            message
        )
        assert "container 'nitro-no-such-container' does not exist" in message
    await storage.dispose()


async def test_create_container_makes_a_missing_one(azurite, tmp_path) -> None:
    name = f"nitro-created-{int(time.time() * 1000)}"
    options = {**backend.options_for(azurite, name), "create_container": True}
    storage, _ = mount(options, tmp_path)
    await asyncio.gather(*(storage.set_item(f"t:k{i}", i) for i in range(5)))  # first calls
    assert await storage.get_keys("t") == [f"t:k{i}" for i in range(5)]
    async with sdk(azurite, name) as client:
        await client.delete_container()
    await storage.dispose()


@pytest.mark.parametrize("style", ["connection_string", "account_key"])
async def test_a_wrong_account_key_fails_without_the_key(azurite, container, tmp_path, style):
    if style == "connection_string":
        options: dict[str, Any] = {
            "container": container,
            "connection_string": backend.connection_string(azurite, WRONG_KEY),
        }
    else:
        options = {"container": container, "account_url": azurite, "account_key": WRONG_KEY}
    storage, _ = mount(options, tmp_path)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        await storage.get_item("t:k")
    assert time.monotonic() - started < 6
    message = str(caught.value)
    assert f"[nitro:storage:azure-blob] mount 't' ({azurite}/{container}/)" in message
    assert "HTTP 403" in message and "check the account key" in message
    assert WRONG_KEY not in message and WRONG_KEY[:20] not in message
    assert "\n" not in message  # one line, not the SDK's XML dump
    await storage.dispose()


async def test_a_sas_token_works_and_stays_out_of_messages(azurite, container, tmp_path):
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(
        backend.ACCOUNT,
        container,
        account_key=backend.KEY,
        permission=ContainerSasPermissions(read=True, write=True, delete=True, list=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    options = {"container": container, "account_url": azurite, "sas_token": "?" + sas}
    storage, driver = mount(options, tmp_path)
    await storage.set_item("t:k", "via sas")
    assert await storage.get_keys("t") == ["t:k"]
    assert "sig=" not in driver.endpoint
    await storage.dispose()


async def test_azurite_down_fails_within_seconds(tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}/{backend.ACCOUNT}"  # nothing listens there
    storage, _ = mount(backend.options_for(url, "cont"), tmp_path)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        await storage.set_item("t:k", 1)
    assert time.monotonic() - started < 6
    message = str(caught.value)
    assert f"[nitro:storage:azure-blob] mount 't' ({url}/cont/)" in message
    assert backend.KEY not in message
    await storage.dispose()


async def test_a_server_that_never_answers_times_out(tmp_path) -> None:
    with socket.socket() as listener:  # accepts connections, never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/{backend.ACCOUNT}"
        options = {**backend.options_for(url, "cont"), "timeout": 0.5}
        storage, _ = mount(options, tmp_path)
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"mount 't' \(http://127\.0\.0\.1:\d+/"):
            await storage.get_item("t:k")
        assert time.monotonic() - started < 8
        await storage.dispose()


async def test_dispose_closes_the_session(azurite, container, tmp_path) -> None:
    storage, driver = mount(backend.options_for(azurite, container), tmp_path)
    await storage.set_item("t:k", 1)
    session = driver._client._pipeline._transport.session
    assert session is not None and not session.closed
    await storage.dispose()
    assert session.closed
    await storage.dispose()  # twice is fine


def test_options_are_checked(tmp_path) -> None:
    secret = backend.connection_string("http://127.0.0.1:1/x")
    cases = [
        ({"containr": "c"}, r"unknown option 'containr'; did you mean 'container'\?"),
        ({"connection_string": secret}, "container"),
        ({"container": "c"}, "either 'connection_string' or 'account_url'"),
        (
            {"container": "c", "connection_string": secret, "account_url": "https://a"},
            "either 'connection_string' or 'account_url'",
        ),
        (
            {"container": "c", "account_url": "https://a", "account_key": "k", "sas_token": "s"},
            "not both",
        ),
        ({"container": "c", "connection_string": "AccountKey=abc123secret"}, "no BlobEndpoint"),
        ({"container": "c", "connection_string": secret, "timeout": -1}, "'timeout' must be"),
    ]
    for options, error in cases:
        with pytest.raises(ValueError, match=error) as caught:
            create_driver("azure-blob", options, root=tmp_path)
        assert "abc123secret" not in str(caught.value) and backend.KEY not in str(caught.value)
    # Nothing connects before the first call.
    create_driver("azure-blob", {"container": "c", "connection_string": secret}, root=tmp_path)


def test_the_endpoint_comes_from_the_connection_string(tmp_path) -> None:
    options = {
        "container": "box",
        "base": "app",
        "connection_string": f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={backend.KEY};EndpointSuffix=core.windows.net",
    }
    driver = create_driver("azure-blob", options, root=tmp_path)
    assert driver.endpoint == "https://acme.blob.core.windows.net/box/app/"


def test_managed_identity_needs_azure_identity(tmp_path, monkeypatch) -> None:
    # A machine without azure-identity (the test extra brings it, for Key Vault secrets).
    for module in ("azure.identity", "azure.identity.aio"):
        monkeypatch.setitem(sys.modules, module, None)
    options = {"container": "c", "account_url": "https://acme.blob.core.windows.net"}
    with pytest.raises(ImportError, match="pip install azure-identity"):
        create_driver("azure-blob", options, root=tmp_path)


def test_a_missing_library_names_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.storage.blob.aio", None)
    options = {"container": "c", "connection_string": backend.connection_string("http://x/y")}
    with pytest.raises(ImportError, match=r'pip install "nitro-py\[azure\]"'):
        create_driver("azure-blob", options, root=tmp_path)
