"""What the AWS drivers (s3, dynamodb) share, against the session's moto server
(backends/_moto.py): a backend that is down or refuses the credentials fails fast,
never showing the secret; a missing boto3 names the extra."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from storage_drivers.backends import open_storage
from storage_drivers.backends._moto import moto

from nitro.core.storage import StorageError
from nitro.storage_drivers import create_driver

from helpers import free_port

pytestmark = pytest.mark.anyio

AWS = ["s3", "dynamodb"]
# What moto (as AWS) answers an access key id it does not know, per service.
UNKNOWN_KEY_ID = {"s3": "InvalidAccessKeyId", "dynamodb": "InvalidClientTokenId"}
# The least each driver needs to be created.
MINIMAL = {"s3": {"bucket": "b"}, "dynamodb": {"table": "t"}}


@pytest.mark.parametrize("name", AWS)
async def test_a_backend_that_is_down_fails_fast(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = moto(request)
    storage = await open_storage(
        name, request, tmp_path, endpoint_url=f"http://127.0.0.1:{free_port()}"
    )
    driver = storage.mounts()["t"]
    try:
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            await storage.get_item("t:k")
        assert time.monotonic() - started < 5
    finally:
        await storage.dispose()
    message = str(caught.value)
    assert f"[nitro:storage:{name}] mount 't' ({driver.endpoint}): get failed" in message
    assert "Could not connect" in message
    assert server.secret_access_key not in message


@pytest.mark.parametrize("bad", ["secret", "key id"])
@pytest.mark.parametrize("name", AWS)
async def test_refused_credentials_fail_fast_without_the_secret(
    name: str, bad: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = moto(request)
    wrong = (
        {"secret_access_key": "wrong-secret-0123456789"}
        if bad == "secret"
        else {"access_key_id": "AKIANOTAKEY000000000"}
    )
    storage = await open_storage(name, request, tmp_path, **wrong)
    driver = storage.mounts()["t"]
    try:
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            await storage.set_item("t:k", 1)
        assert time.monotonic() - started < 5
    finally:
        await storage.dispose()
    message = str(caught.value)
    assert f"[nitro:storage:{name}] mount 't' ({driver.endpoint}): set failed" in message
    assert ("SignatureDoesNotMatch" if bad == "secret" else UNKNOWN_KEY_ID[name]) in message
    for secret in ("wrong-secret-0123456789", server.secret_access_key):
        assert secret not in message


@pytest.mark.parametrize("name", AWS)
def test_a_missing_boto3_names_the_extra(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ImportError, match=r'pip install "nitro-py\[aws\]"'):
        create_driver(name, MINIMAL[name], root=Path("."))
