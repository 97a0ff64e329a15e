"""What `Storage` and its drivers agree on: the `Driver` protocol, the normal form of
keys, and the errors. `nitro.core.storage` re-exports all of it.

Example::

    normalize_key("a/b\\\\c::d:")   # "a:b:c:d"
    normalize_base("data")          # "data:"
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

from .errors import HTTPError

__all__ = [
    "AtomicDriver",
    "Driver",
    "ReadOnlyStorageError",
    "StorageError",
    "normalize_base",
    "normalize_key",
]

_SEPARATORS = re.compile(r"[:/\\]+")
_CREDENTIALS = re.compile(r"(//)[^/@\s]+@")


class StorageError(HTTPError):
    """A storage backend failed. Names the driver, the mount and the endpoint, never
    credentials; inside a request it answers 503."""

    def __init__(self, message: str, *, status: int = 503) -> None:
        super().__init__(status, _CREDENTIALS.sub(r"\1***@", message))


class ReadOnlyStorageError(StorageError):
    """A write to a read-only mount (such as ``assets:server``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=500)


@runtime_checkable
class Driver(Protocol):
    """What a storage driver implements; the `Storage` front does everything else.

    Keys arrive normalised and relative to the mount. Values are bytes. `ttl` is
    seconds (or None); a driver honours it natively or stores an expiry in its own
    metadata and treats an expired key as missing. `network` drivers get a timeout
    on every call from the front; one that runs a blocking client in a worker thread
    must let that timeout abandon the thread (``nitro.core.sync.run_in_thread``
    does), or a dead backend holds the caller until the client's own timeout. `endpoint` is for messages and must not contain
    credentials. Raise `ValueError` only for a bad key or value (it reaches the
    caller as is); anything else is reported as a backend failure.
    """

    name: str
    endpoint: str
    network: bool
    read_only: bool

    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl: float | None) -> None: ...
    async def has(self, key: str) -> bool: ...
    async def remove(self, key: str) -> None: ...
    async def keys(self, prefix: str) -> list[str]: ...
    async def clear(self, prefix: str) -> None: ...
    async def meta(self, key: str) -> dict[str, Any] | None: ...
    async def dispose(self) -> None: ...


class AtomicDriver(Protocol):
    """Optional: drivers that can create a key only when it is absent (an expired key
    counts as absent), atomically across processes. Locks and claims need it."""

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool: ...


def normalize_key(key: str) -> str:
    """``"a/b\\\\c::d:"`` -> ``"a:b:c:d"``."""
    if "/" in key or "\\" in key or "::" in key or key.startswith(":") or key.endswith(":"):
        key = _SEPARATORS.sub(":", key).strip(":")
    return key


def normalize_base(base: str | None) -> str:
    """A mount or view base: the normalised key plus ``:`` (``""`` for the root)."""
    key = normalize_key(base or "")
    return key + ":" if key else ""
