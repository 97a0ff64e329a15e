"""`s3`: one object per key in an Amazon S3 bucket (key ``a:b`` is ``<base>a/b``).

boto3 is blocking, so every call runs in a worker thread; the client is made once,
on first use, with its own connect/read timeouts and a single retry.

TTL: S3 lifecycle rules count in days, so a TTL is kept in the object's user
metadata (``x-amz-meta-nitro-expires``: epoch seconds, ``x-amz-meta-nitro-ttl``:
as set) and checked on every read; an expired object reads as missing and is
deleted then, with ``If-Match: <etag>`` so a value rewritten meanwhile survives.

Listing (``keys``): ListObjectsV2 returns no user metadata, so whether a listed
object has expired needs a HEAD. To HEAD only the objects that may carry an
expiry, the driver writes objects WITHOUT a TTL with a SHA-256 checksum and
objects WITH one with CRC32; the listing reports each object's
``ChecksumAlgorithm``. An object listed with SHA256 was last written without a
TTL and is taken as it is; every other object (TTL'd, written by another tool,
or on an S3-compatible store that does not report checksums) is HEADed, up to
16 at a time. So a listing costs one request per 1,000 keys plus one HEAD per
TTL'd key (never a HEAD for plain keys on S3), and stays correct when the mark
is missing, only slower. Writes cost nothing extra (the checksum is computed
locally and verified by S3).

``clear`` lists and deletes in batches of 1,000 (DeleteObjects). The bucket must
exist: nitro never creates one. API: https://docs.aws.amazon.com/AmazonS3/latest/API/
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..core.sync import DEFAULT_MAX_THREADS
from ._aws import AwsDriver, AwsOptions, base_prefix, error_code, parse_number
from ._base import in_thread, parse_options, require_library

DRIVER_NAME = "s3"
REQUIRES = ["boto3>=1.34"]

EXPIRES = "nitro-expires"  # user metadata (x-amz-meta-*)
TTL = "nitro-ttl"
PLAIN_CHECKSUM = "SHA256"  # the mark of an object written without a TTL
TTL_CHECKSUM = "CRC32"
HEAD_CONCURRENCY = 16
POOL_SIZE = DEFAULT_MAX_THREADS  # one kept connection per worker thread
MAX_KEY_BYTES = 1024


class S3Options(AwsOptions):
    """Options of the `s3` driver (and the connection options of `AwsOptions`)."""

    bucket: str
    """The bucket (required; it must exist)."""
    base: str = ""
    """Key prefix inside the bucket (``"cache"`` stores ``a:b`` as ``cache/a/b``); default ``""``."""


class BucketNotFoundError(LookupError):
    """The configured bucket does not exist."""


class S3Driver(AwsDriver):
    name = DRIVER_NAME
    service = "s3"
    client_config = {"max_pool_connections": POOL_SIZE}

    def __init__(self, options: S3Options) -> None:
        self.bucket = options.bucket
        self.base = base_prefix(options.base, "/")
        super().__init__(options, f"{self.bucket}/{self.base}")
        self._bucket_seen = False

    # --- async API: boto3 calls run in worker threads ---

    async def get(self, key: str) -> bytes | None:
        return await in_thread(self._get, key)

    async def has(self, key: str) -> bool:
        return await in_thread(self._head, key) is not None

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        await in_thread(self._set, key, value, ttl)

    async def remove(self, key: str) -> None:
        await in_thread(self._remove, key)

    async def meta(self, key: str) -> dict[str, Any] | None:
        head = await in_thread(self._head, key)
        if head is None:
            return None
        meta: dict[str, Any] = {
            "mtime": head["LastModified"].timestamp(),
            "size": head["ContentLength"],
        }
        if TTL in head.get("Metadata", {}):
            meta["ttl"] = parse_number(head["Metadata"][TTL])
        return meta

    async def keys(self, prefix: str) -> list[str]:
        listed = await in_thread(self._list, prefix)
        keys = [key for key, plain in listed if plain]
        limiter = asyncio.Semaphore(HEAD_CONCURRENCY)

        async def check(key: str) -> None:
            if await in_thread(self._head, key, limiter=limiter) is not None:
                keys.append(key)

        await asyncio.gather(*(check(key) for key, plain in listed if not plain))
        return keys

    async def clear(self, prefix: str) -> None:
        await in_thread(self._clear, prefix)

    # --- blocking work ---

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            result = getattr(self._aws(), operation)(Bucket=self.bucket, **params)
        except Exception as exc:
            if error_code(exc) == "NoSuchBucket":
                raise self._no_bucket() from None
            raise
        self._bucket_seen = True
        return result

    def _no_bucket(self) -> BucketNotFoundError:
        return BucketNotFoundError(
            f"the bucket {self.bucket!r} does not exist ({self.endpoint}); create it "
            "(nitro never creates buckets) or fix the `bucket` option"
        )

    def _object(self, key: str) -> str:
        name = self.base + key.replace(":", "/")
        if len(name.encode()) > MAX_KEY_BYTES:
            raise ValueError(
                f"[nitro:storage:s3] key {key!r} is too long: S3 object keys are limited "
                f"to {MAX_KEY_BYTES} bytes (with the base)"
            )
        return name

    def _remove(self, key: str) -> None:
        self._call("delete_object", Key=self._object(key))

    def _get(self, key: str) -> bytes | None:
        try:
            response = self._call("get_object", Key=self._object(key))
        except Exception as exc:
            if error_code(exc) == "NoSuchKey":
                self._bucket_seen = True
                return None
            raise
        body = response["Body"]
        try:
            return None if self._expired(response, key) else body.read()
        finally:
            body.close()

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head = self._call("head_object", Key=self._object(key))
        except Exception as exc:
            if error_code(exc) not in ("404", "NoSuchKey"):
                raise
            # A HEAD 404 does not say whether the key or the bucket is missing.
            if not self._bucket_seen:
                self._check_bucket()
            return None
        return None if self._expired(head, key) else head

    def _check_bucket(self) -> None:
        try:
            self._call("head_bucket")
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchBucket"):
                raise self._no_bucket() from None
            if error_code(exc) not in ("403", "AccessDenied"):
                raise

    def _expired(self, response: dict[str, Any], key: str) -> bool:
        expires = response.get("Metadata", {}).get(EXPIRES)
        if expires is None or float(expires) > time.time():
            return False
        self._delete_unchanged(self._object(key), response.get("ETag"))
        return True

    def _delete_unchanged(self, name: str, etag: str | None) -> None:
        """Delete an expired object unless it was rewritten since it was read."""
        try:
            if etag:
                self._call("delete_object", Key=name, IfMatch=etag)
            else:
                self._call("delete_object", Key=name)
        except Exception as exc:
            code = error_code(exc)
            if code == "NotImplemented":  # S3-compatible stores without conditional deletes
                self._call("delete_object", Key=name)
            elif code not in ("PreconditionFailed", "NoSuchKey", "412", "404"):
                raise

    def _set(self, key: str, value: bytes, ttl: float | None) -> None:
        params: dict[str, Any] = {"Key": self._object(key), "Body": value}
        if ttl is None:
            params["ChecksumAlgorithm"] = PLAIN_CHECKSUM
        else:
            params["ChecksumAlgorithm"] = TTL_CHECKSUM
            params["Metadata"] = {EXPIRES: repr(time.time() + ttl), TTL: repr(ttl)}
        self._call("put_object", **params)

    def _pages(self, prefix: str) -> Iterator[list[dict[str, Any]]]:
        paginator = self._aws().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.base + prefix.replace(":", "/"))
        try:
            for page in pages:
                self._bucket_seen = True
                yield page.get("Contents", [])
        except Exception as exc:
            if error_code(exc) == "NoSuchBucket":
                raise self._no_bucket() from None
            raise

    def _list(self, prefix: str) -> list[tuple[str, bool]]:
        """(key, written without a TTL) for each object under `prefix`."""
        found = []
        for contents in self._pages(prefix):
            for item in contents:
                name = item["Key"]
                rel = name[len(self.base) :]
                if "" in rel.split("/"):
                    continue  # "folder/" markers and the like: no key maps to them
                plain = PLAIN_CHECKSUM in item.get("ChecksumAlgorithm", ())
                found.append((rel.replace("/", ":"), plain))
        return found

    def _clear(self, prefix: str) -> None:
        for contents in self._pages(prefix):
            # A page holds at most 1,000 objects: the most one DeleteObjects takes.
            if not contents:
                continue
            objects = [{"Key": item["Key"]} for item in contents]
            response = self._call("delete_objects", Delete={"Objects": objects, "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"{len(errors)} objects were not deleted; first {first.get('Key')!r}: "
                    f"{first.get('Code')}: {first.get('Message')}"
                )


def driver(options: Mapping[str, Any], *, root: Path) -> S3Driver:
    parsed = parse_options(S3Options, options, DRIVER_NAME)
    if not parsed.bucket or not isinstance(parsed.bucket, str):
        raise ValueError("[nitro:storage:s3] option 'bucket' must name a bucket")
    require_library("boto3")  # imported in a worker thread on first use

    return S3Driver(parsed)
