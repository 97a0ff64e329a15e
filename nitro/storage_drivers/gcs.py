"""`gcs`: one Google Cloud Storage object per key, through `google-cloud-storage`.

Key ``a:b`` is the object ``<base>a/b`` in the bucket. The official client is
blocking, so every call runs in a worker thread, with its own connect/read
timeouts and a retry budget of a couple of seconds: a dead endpoint or refused
credentials fail fast instead of hanging a request.

TTL: GCS lifecycle rules work in whole days, so a TTL is kept in the object's
custom metadata (``nitro-expires``, epoch seconds, and ``nitro-ttl``, as set),
checked on every read; an expired object counts as missing and is deleted when
seen (only if it is still the same generation, so a fresh write is never lost).
Listings carry the metadata, so `keys` filters expired objects without extra
requests. `meta`: ``mtime`` (the object's ``updated``), ``size`` and ``ttl``.

Credentials: Application Default Credentials (the Cloud Run / Cloud Functions
service account, or ``GOOGLE_APPLICATION_CREDENTIALS``), or `credentials_file`.
With `endpoint` (or the ``STORAGE_EMULATOR_HOST`` variable) it talks to that
server, anonymously unless `credentials_file` is given, as emulators expect.

API: https://cloud.google.com/storage/docs/json_api/v1/objects
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.options import Options
from ._base import (
    DriverBase,
    check_timeouts,
    expires_at,
    in_thread,
    metadata_expired,
    parse_options,
    public_url,
    require_library,
)

DRIVER_NAME = "gcs"
REQUIRES = ["google-cloud-storage>=2.14"]
EXPIRES = "nitro-expires"
TTL = "nitro-ttl"
RETRY_SECONDS = 2.0  # total budget for retrying one call (connection errors, 429, 5xx)
DELETE_BATCH = 100  # deletes per JSON API batch request (the service's limit)
PREFIX = "[nitro:storage:gcs]"


class GcsOptions(Options):
    """Options of the `gcs` driver."""

    bucket: str
    """Bucket name (required). The bucket must exist; the driver never creates it."""
    base: str = ""
    """Object-name prefix, so several apps can share a bucket: ``"app"`` stores key
    ``a:b`` as ``app/a/b``. Default ``""``: keys are object names from the root."""
    project: str | None = None
    """Project for the client (default None: whatever the credentials say)."""
    endpoint: str | None = None
    """API endpoint such as ``"http://127.0.0.1:9023"`` (an emulator). Default None:
    ``STORAGE_EMULATOR_HOST`` when set, else Google's. Anonymous unless
    `credentials_file` is set."""
    credentials_file: str | None = None
    """Service-account JSON key file (relative to the project root), read when the
    driver is created. Default None: Application Default Credentials (the runtime's
    service account on Google Cloud, or what ``GOOGLE_APPLICATION_CREDENTIALS`` names)."""
    connect_timeout: float = 5.0
    """Seconds to open a connection (default 5)."""
    timeout: float = 10.0
    """Seconds to wait for the server between bytes of a reply (default 10)."""

    def validate(self) -> None:
        if not isinstance(self.bucket, str) or not self.bucket:
            raise ValueError(f"{PREFIX} 'bucket' must be a bucket name, got {self.bucket!r}")
        check_timeouts(self, PREFIX + " {name!r} must be a positive number of seconds")


class BucketNotFound(LookupError):
    """The configured bucket does not exist (or is not visible to these credentials)."""


class GcsDriver(DriverBase):
    name = DRIVER_NAME
    network = True
    page_size = 1000  # objects per listing request

    def __init__(self, options: GcsOptions, endpoint: str | None, credentials: Any) -> None:
        self.options = options
        self._credentials = credentials
        self.bucket_name = options.bucket
        self.base = options.base.strip("/") + "/" if options.base.strip("/") else ""
        self.api_endpoint = endpoint
        where = f" via {endpoint}" if endpoint else ""
        self.endpoint = f"gs://{self.bucket_name}/{self.base}{where}"
        self._timeout = (options.connect_timeout, options.timeout)
        self._lock = threading.Lock()
        self._client: Any = None
        self._bucket: Any = None
        self._checked = False
        self._retry: Any = None

    # --- async API: the blocking client runs in a worker thread ---

    async def get(self, key: str) -> bytes | None:
        return await in_thread(self._get, key)

    async def has(self, key: str) -> bool:
        return await in_thread(self._live_blob, key) is not None

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        await in_thread(self._set, key, value, ttl)

    async def remove(self, key: str) -> None:
        await in_thread(self._remove, key)

    async def keys(self, prefix: str) -> list[str]:
        return await in_thread(self._keys, prefix)

    async def clear(self, prefix: str) -> None:
        await in_thread(self._clear, prefix)

    async def meta(self, key: str) -> dict[str, Any] | None:
        return await in_thread(self._meta, key)

    async def dispose(self) -> None:
        client, self._client, self._bucket, self._checked = self._client, None, None, False
        if client is not None and hasattr(client, "close"):
            await in_thread(client.close)

    # --- client ---

    def _connect(self) -> Any:
        """The bucket handle, creating the client on first use and checking once
        that the bucket exists (a listing: object-only roles may not read buckets)."""
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
                self._bucket = self._client.bucket(self.bucket_name)
            if not self._checked:
                self._list(self.base, max_results=1)  # BucketNotFound when it is missing
                self._checked = True
            return self._bucket

    def _make_client(self) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage
        from google.cloud.storage.retry import DEFAULT_RETRY

        self._retry = DEFAULT_RETRY.with_timeout(RETRY_SECONDS).with_delay(
            initial=0.1, maximum=1.0, multiplier=2.0
        )
        credentials = self._credentials
        if credentials is None and self.api_endpoint:
            credentials = AnonymousCredentials()  # what emulators expect
        client_options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        return storage.Client(
            project=self.options.project, credentials=credentials, client_options=client_options
        )

    def _name(self, key: str) -> str:
        return self.base + key.replace(":", "/")

    def _key(self, name: str) -> str:
        return name[len(self.base) :].replace("/", ":")

    # --- operations (worker thread) ---

    def _live_blob(self, key: str) -> Any:
        """The object's metadata, or None when it is missing or expired."""
        blob = self._connect().get_blob(self._name(key), timeout=self._timeout, retry=self._retry)
        if blob is None:
            return None
        if metadata_expired(blob.metadata, EXPIRES):
            self._delete_expired(blob)
            return None
        return blob

    def _get(self, key: str) -> bytes | None:
        from google.api_core.exceptions import NotFound, PreconditionFailed

        for _ in range(3):
            blob = self._live_blob(key)
            if blob is None:
                return None
            try:
                # Pinned to the generation whose expiry was checked (a value replaced
                # in between is read again); a fresh handle builds the URL from the
                # name, as gcp-storage-emulator's mediaLink leaves "%#?" unescaped.
                data: bytes = self._bucket.blob(blob.name).download_as_bytes(
                    if_generation_match=blob.generation, timeout=self._timeout, retry=self._retry
                )
                return data
            except NotFound:
                return None
            except PreconditionFailed:
                continue
        raise RuntimeError(f"{self._name(key)!r} kept changing while being read")

    def _set(self, key: str, value: bytes, ttl: float | None) -> None:
        blob = self._connect().blob(self._name(key))
        if ttl is not None:
            blob.metadata = {EXPIRES: repr(expires_at(ttl)), TTL: repr(float(ttl))}
        # An upload replaces the object, metadata included: no TTL clears an old one.
        blob.upload_from_string(
            value, content_type="application/octet-stream", timeout=self._timeout, retry=self._retry
        )

    def _remove(self, key: str) -> None:
        from google.api_core.exceptions import NotFound

        with contextlib.suppress(NotFound):
            self._connect().delete_blob(self._name(key), timeout=self._timeout, retry=self._retry)

    def _delete_expired(self, blob: Any) -> None:
        from google.api_core.exceptions import NotFound, PreconditionFailed

        # Only that generation: a value rewritten since is left alone.
        with contextlib.suppress(NotFound, PreconditionFailed):
            blob.delete(
                if_generation_match=blob.generation, timeout=self._timeout, retry=self._retry
            )

    def _list(self, prefix: str, max_results: int | None = None) -> list[Any]:
        from google.api_core.exceptions import NotFound

        try:
            # The iterator follows nextPageToken until the listing ends.
            return list(
                self._client.list_blobs(
                    self.bucket_name,
                    prefix=prefix,
                    max_results=max_results,
                    page_size=self.page_size,
                    timeout=self._timeout,
                    retry=self._retry,
                )
            )
        except NotFound:
            raise BucketNotFound(
                f"bucket {self.bucket_name!r} does not exist (create it, or check the"
                " 'bucket' option and the credentials' project)"
            ) from None

    def _keys(self, prefix: str) -> list[str]:
        self._connect()
        keys = []
        for blob in self._list(self.base + prefix.replace(":", "/")):
            if blob.name.endswith("/"):
                continue  # a console "folder" placeholder, not a key
            if metadata_expired(blob.metadata, EXPIRES):
                self._delete_expired(blob)
            else:
                keys.append(self._key(blob.name))
        return keys

    def _clear(self, prefix: str) -> None:
        from google.api_core.exceptions import NotFound

        self._connect()
        names = [blob.name for blob in self._list(self.base + prefix.replace(":", "/"))]
        for start in range(0, len(names), DELETE_BATCH):
            chunk = names[start : start + DELETE_BATCH]
            if len(chunk) == 1:
                self._remove(self._key(chunk[0]))
                continue
            try:
                with self._client.batch():
                    for name in chunk:
                        self._bucket.delete_blob(name, timeout=self._timeout)
            except NotFound:
                pass  # some were deleted meanwhile; the others went with the batch

    def _meta(self, key: str) -> dict[str, Any] | None:
        blob = self._live_blob(key)
        if blob is None:
            return None
        meta: dict[str, Any] = {"size": int(blob.size or 0)}
        if blob.updated is not None:
            meta["mtime"] = blob.updated.timestamp()
        ttl = (blob.metadata or {}).get(TTL)
        if ttl is not None:
            meta["ttl"] = float(ttl)
        return meta


def _load_credentials(path: Path) -> Any:
    """Service-account credentials (other kinds go through ADC), never echoing the file."""
    from google.cloud.storage import Client
    from google.oauth2 import service_account

    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        kind = info.get("type") if isinstance(info, dict) else None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{PREFIX} cannot read credentials_file {str(path)!r}: {exc}") from None
    if kind != "service_account":
        raise ValueError(
            f"{PREFIX} credentials_file {str(path)!r} is not a service-account key (type "
            f"{kind!r}); for other kinds set GOOGLE_APPLICATION_CREDENTIALS to the file instead"
        )
    return service_account.Credentials.from_service_account_info(info, scopes=list(Client.SCOPE))


def driver(options: Mapping[str, Any], *, root: Path) -> GcsDriver:
    parsed = parse_options(GcsOptions, options, DRIVER_NAME)
    require_library("google.cloud.storage")  # imported in a worker thread on first use

    endpoint = parsed.endpoint or os.environ.get("STORAGE_EMULATOR_HOST")
    credentials = None
    if parsed.credentials_file:
        path = Path(parsed.credentials_file)
        credentials = _load_credentials(path if path.is_absolute() else root / path)
    if endpoint and "://" not in endpoint:
        endpoint = "http://" + endpoint  # STORAGE_EMULATOR_HOST is often host:port
    return GcsDriver(parsed, public_url(endpoint) if endpoint else None, credentials)
