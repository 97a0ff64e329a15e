"""`azure-blob`: one Azure Blob Storage block blob per key, through the async SDK.

Key ``a:b`` is the blob ``<base>a/b`` in the container. Calls go through
`azure.storage.blob.aio` (aiohttp) with socket timeouts and a short linear retry
(3 attempts, half a second apart), so a dead endpoint or a refused key fails
within seconds.

TTL: lifecycle management works in whole days, so a TTL is kept in the blob's
metadata (``nitro_expires``, epoch seconds, and ``nitro_ttl``, as set: metadata
names must be C# identifiers, so no hyphens), checked on every read; an expired
blob counts as missing and is deleted when seen (only if its ETag is unchanged,
so a fresh write is never lost). Listings carry the metadata, so `keys` filters
expired blobs without extra requests. `meta`: ``mtime`` (``Last-Modified``),
``size`` and ``ttl``.

Credentials: a connection string, or `account_url` with `account_key` or
`sas_token`, or `account_url` alone for ``DefaultAzureCredential`` (managed
identity on Azure Functions / App Service; that needs ``pip install
azure-identity``, which nitro does not install).

API: https://learn.microsoft.com/rest/api/storageservices/blob-service-rest-api
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import AsyncIterator, Awaitable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..core.options import Options
from ._base import (
    DriverBase,
    check_timeouts,
    expires_at,
    metadata_expired,
    parse_options,
    public_url,
)

DRIVER_NAME = "azure-blob"
REQUIRES = ["azure-storage-blob>=12.19", "aiohttp>=3.9"]
EXPIRES = "nitro_expires"
TTL = "nitro_ttl"
DELETE_CONCURRENCY = 16  # deletes in flight at once while clearing
PREFIX = "[nitro:storage:azure-blob]"
BLOCK = 1 << 20  # bytes per request when uploading

T = TypeVar("T")


class AzureBlobOptions(Options):
    """Options of the `azure-blob` driver. Give `connection_string`, or `account_url`
    (with `account_key`, `sas_token`, or neither for ``DefaultAzureCredential``)."""

    container: str
    """Container name (required)."""
    base: str = ""
    """Blob-name prefix, so several apps can share a container: ``"app"`` stores key
    ``a:b`` as ``app/a/b``. Default ``""``."""
    connection_string: str | None = None
    """A storage account connection string, usually
    ``"{{AZURE_STORAGE_CONNECTION_STRING}}"``. Default None."""
    account_url: str | None = None
    """``https://<account>.blob.core.windows.net``. Default None."""
    account_key: str | None = None
    """Shared key for `account_url`. Default None."""
    sas_token: str | None = None
    """SAS token for `account_url`. Default None."""
    create_container: bool = False
    """Create the container on first use when it is missing (default False)."""
    connect_timeout: float = 5.0
    """Seconds to open a connection (default 5)."""
    timeout: float = 10.0
    """Seconds to wait for the server between bytes of a reply (default 10)."""

    def validate(self) -> None:
        if not isinstance(self.container, str) or not self.container:
            raise ValueError(f"{PREFIX} 'container' must be a container name")
        if bool(self.connection_string) == bool(self.account_url):
            raise ValueError(f"{PREFIX} give either 'connection_string' or 'account_url'")
        if self.connection_string and (self.account_key or self.sas_token):
            raise ValueError(f"{PREFIX} 'account_key'/'sas_token' go with 'account_url'")
        if self.account_key and self.sas_token:
            raise ValueError(f"{PREFIX} give 'account_key' or 'sas_token', not both")
        check_timeouts(self, PREFIX + " {name!r} must be a positive number of seconds")


class AzureBlobError(RuntimeError):
    """The service refused a call (the status, the error code and the first line of
    its message, without the request details)."""


class ContainerNotFound(AzureBlobError, LookupError):
    """The configured container does not exist."""


class AzureBlobDriver(DriverBase):
    name = DRIVER_NAME
    network = True
    page_size = 5000  # blobs per listing request (the service's maximum)

    def __init__(self, options: AzureBlobOptions, account_url: str) -> None:
        self.options = options
        self.container = options.container
        self.base = options.base.strip("/") + "/" if options.base.strip("/") else ""
        self.endpoint = f"{public_url(account_url)}/{self.container}/{self.base}"
        self._client: Any = None
        self._credential: Any = None
        self._ready = not options.create_container
        self._lock = asyncio.Lock()

    # --- client ---

    async def _connect(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        if not self._ready:
            from azure.core.exceptions import ResourceExistsError

            async with self._lock, self._errors():
                if not self._ready:  # `create_container`: once, whoever comes first
                    with contextlib.suppress(ResourceExistsError):
                        await self._client.create_container()
                    self._ready = True
        return self._client

    def _make_client(self) -> Any:
        from azure.storage.blob.aio import ContainerClient, LinearRetry

        options = self.options
        settings: dict[str, Any] = {
            "connection_timeout": options.connect_timeout,
            "read_timeout": options.timeout,
            # The SDK's default waits 15 s and more between attempts.
            "retry_policy": LinearRetry(backoff=0.5, retry_total=2, random_jitter_range=0.2),  # type: ignore[arg-type]
            # aiohttp warns (ResourceWarning) about request bodies over 1 MiB, so
            # larger values go up as 1 MiB blocks, committed at once by Put Block List.
            "max_single_put_size": BLOCK,
            "max_block_size": BLOCK,
        }
        if options.connection_string:
            return ContainerClient.from_connection_string(
                options.connection_string, self.container, **settings
            )
        assert options.account_url is not None
        if options.account_key:
            credential: Any = options.account_key
        elif options.sas_token:
            from azure.core.credentials import AzureSasCredential

            credential = AzureSasCredential(options.sas_token.lstrip("?"))
        else:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._credential = DefaultAzureCredential()
        return ContainerClient(
            options.account_url, self.container, credential=credential, **settings
        )

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """Service errors as one line: the SDK's messages run to a dozen lines of XML."""
        from azure.core.exceptions import HttpResponseError

        try:
            yield
        except HttpResponseError as exc:
            code = _error_code(exc)
            if code == "ContainerNotFound":
                raise ContainerNotFound(
                    f"container {self.container!r} does not exist (create it, set "
                    "'create_container': True, or check the 'container' option)"
                ) from exc
            first = (str(exc.message or exc).strip().splitlines() or [""])[0]
            status = f"HTTP {exc.status_code} " if exc.status_code else ""
            if exc.status_code in (401, 403):
                first += " (check the account key, SAS token or the identity's role)"
            raise AzureBlobError(f"{status}{code or type(exc).__name__}: {first}") from exc

    def _name(self, key: str) -> str:
        return self.base + key.replace(":", "/")

    def _key(self, name: str) -> str:
        return name[len(self.base) :].replace("/", ":")

    # --- operations ---

    async def _or_none(self, call: Awaitable[T]) -> T | None:
        """`call`'s result, or None when the blob is missing (not the container)."""
        from azure.core.exceptions import ResourceNotFoundError

        async with self._errors():
            try:
                return await call
            except ResourceNotFoundError as exc:
                if _error_code(exc) == "ContainerNotFound":
                    raise
                return None

    async def get(self, key: str) -> bytes | None:
        blob = (await self._connect()).get_blob_client(self._name(key))
        # One request: the download's first reply carries the metadata.
        download = await self._or_none(blob.download_blob())
        if download is None:
            return None
        if metadata_expired(download.properties.metadata, EXPIRES):
            await self._delete_expired(blob.blob_name, download.properties.etag)
            return None
        async with self._errors():
            data: bytes = await download.readall()
        return data

    async def has(self, key: str) -> bool:
        return await self._properties(key) is not None

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        from azure.storage.blob import ContentSettings

        client = await self._connect()
        metadata = None
        if ttl is not None:
            metadata = {EXPIRES: repr(expires_at(ttl)), TTL: repr(float(ttl))}
        async with self._errors():
            # Put Blob replaces the metadata too: a write without a TTL drops an old one.
            await client.upload_blob(
                self._name(key),
                value,
                overwrite=True,
                max_concurrency=4,
                metadata=metadata,
                content_settings=ContentSettings(content_type="application/octet-stream"),
            )

    async def remove(self, key: str) -> None:
        await self._delete(await self._connect(), self._name(key))

    async def _delete(self, client: Any, name: str) -> None:
        await self._or_none(client.delete_blob(name, delete_snapshots="include"))

    async def _delete_expired(self, name: str, etag: str) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        async with self._errors():
            with contextlib.suppress(ResourceModifiedError, ResourceNotFoundError):
                await self._client.delete_blob(
                    name, etag=etag, match_condition=MatchConditions.IfNotModified
                )

    async def _list(self, prefix: str) -> AsyncIterator[Any]:
        """Every blob under `prefix`; the pager follows continuation markers."""
        client = await self._connect()
        async with self._errors():
            async for blob in client.list_blobs(
                name_starts_with=self.base + prefix.replace(":", "/"),
                include=["metadata"],
                results_per_page=self.page_size,
            ):
                metadata = blob.metadata or {}
                if blob.name.endswith("/") or metadata.get("hdi_isfolder") == "true":
                    continue  # a directory of a hierarchical-namespace account
                yield blob

    async def keys(self, prefix: str) -> list[str]:
        keys = []
        async for blob in self._list(prefix):
            if metadata_expired(blob.metadata, EXPIRES):
                await self._delete_expired(blob.name, blob.etag)
            else:
                keys.append(self._key(blob.name))
        return keys

    async def clear(self, prefix: str) -> None:
        names = [blob.name async for blob in self._list(prefix)]
        client = await self._connect()
        for start in range(0, len(names), DELETE_CONCURRENCY):
            chunk = names[start : start + DELETE_CONCURRENCY]
            await asyncio.gather(*(self._delete(client, name) for name in chunk))

    async def _properties(self, key: str) -> Any:
        blob = (await self._connect()).get_blob_client(self._name(key))
        properties = await self._or_none(blob.get_blob_properties())
        if properties is not None and metadata_expired(properties.metadata, EXPIRES):
            await self._delete_expired(blob.blob_name, properties.etag)
            return None
        return properties

    async def meta(self, key: str) -> dict[str, Any] | None:
        properties = await self._properties(key)
        if properties is None:
            return None
        meta: dict[str, Any] = {"size": int(properties.size or 0)}
        if properties.last_modified is not None:
            meta["mtime"] = properties.last_modified.timestamp()
        ttl = (properties.metadata or {}).get(TTL)
        if ttl is not None:
            meta["ttl"] = float(ttl)
        return meta

    async def dispose(self) -> None:
        client, self._client = self._client, None
        credential, self._credential = self._credential, None
        if client is not None:
            await client.close()  # closes the aiohttp session
        if credential is not None:
            await credential.close()


def _error_code(exc: Exception) -> str | None:
    """The service's error code (the SDK sets it as a str enum, or not at all)."""
    code = getattr(exc, "error_code", None)
    return getattr(code, "value", code)


def _connection_url(connection_string: str) -> str:
    """The blob endpoint a connection string names (never echoing the string: it
    holds the key)."""
    settings = {}
    for part in connection_string.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            settings[name.strip().lower()] = value.strip()
    if settings.get("usedevelopmentstorage", "").lower() == "true":
        return "http://127.0.0.1:10000/devstoreaccount1"
    if settings.get("blobendpoint"):
        return settings["blobendpoint"]
    if settings.get("accountname"):
        scheme = settings.get("defaultendpointsprotocol", "https")
        suffix = settings.get("endpointsuffix", "core.windows.net")
        return f"{scheme}://{settings['accountname']}.blob.{suffix}"
    raise ValueError(f"{PREFIX} 'connection_string' names no BlobEndpoint or AccountName")


def driver(options: Mapping[str, Any], *, root: Path) -> AzureBlobDriver:
    parsed = parse_options(AzureBlobOptions, options, DRIVER_NAME)
    import aiohttp  # noqa: F401  (a missing library surfaces here, as the extra's)
    import azure.storage.blob.aio  # noqa: F401

    if parsed.connection_string:
        url = _connection_url(parsed.connection_string)
    else:
        assert parsed.account_url is not None
        url = parsed.account_url
        if not (parsed.account_key or parsed.sas_token) and (
            importlib.util.find_spec("azure.identity") is None
        ):
            raise ImportError(
                f"{PREFIX} 'account_url' without 'account_key' or 'sas_token' signs in with "
                "DefaultAzureCredential: pip install azure-identity"
            )
    return AzureBlobDriver(parsed, url)
