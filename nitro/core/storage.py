"""`use_storage`: one async key/value API over mounted drivers (unstorage's model).

Keys are normalised (``/`` and ``\\`` become ``:``, repeated ``:`` collapse, the
ends are trimmed) and routed to the mount with the longest matching base.
Values are JSON on the way in and parsed on the way out; bytes go through the
raw methods. Drivers only move bytes: see `Driver`.

This module is the front (`Storage`, `use_storage`); the contract with drivers
(`Driver`, the key normal form, the errors) lives in `storage_driver`, the view in
`storage_view`, and every name is exported from here.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from .response import encode_json
from .storage_driver import (
    AtomicDriver,
    Driver,
    ReadOnlyStorageError,
    StorageError,
    normalize_base,
    normalize_key,
)
from .storage_view import StorageView

__all__ = [
    "AtomicDriver",
    "Driver",
    "ReadOnlyStorageError",
    "Storage",
    "StorageError",
    "StorageView",
    "normalize_base",
    "normalize_key",
    "use_storage",
]

DEFAULT_TIMEOUT = 10.0


class _Mount:
    # A plain class: a NamedTuple in a module with string annotations compiles each
    # one when defined, on every cold start.
    __slots__ = ("base", "driver", "timeout")

    def __init__(self, base: str, driver: Driver, timeout: float | None) -> None:
        self.base = base  # "" or "data:"
        self.driver = driver
        self.timeout = timeout

    @property
    def label(self) -> str:
        """How messages name the mount: ``[nitro:storage:redis] mount 'data'``."""
        return f"[nitro:storage:{self.driver.name}] mount {self.base.rstrip(':') or '(root)'!r}"


class Storage:
    """Mounted drivers behind one key space (``use_storage()``).

    Example::

        storage = use_storage()
        await storage.set_item("data:users:1", {"name": "Ada"}, ttl=3600)
        user = await storage.get_item("data:users:1")
        keys = await storage.get_keys("data:users")   # ["data:users:1"]
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._mounts: list[_Mount] = []  # longest base first
        self._resolved: dict[str, tuple[_Mount, str]] = {}

    # --- mounts ---

    def mount(self, base: str, driver: Driver) -> Storage:
        """Serve keys under `base` from `driver` (replacing a driver already there)."""
        if not isinstance(driver, Driver):
            raise TypeError(f"[nitro:storage] mount {base!r}: {driver!r} is not a storage driver")
        normalized = normalize_base(base)
        self._mounts = [m for m in self._mounts if m.base != normalized]
        timeout = self.timeout if driver.network else None
        self._mounts.append(_Mount(normalized, driver, timeout))
        self._mounts.sort(key=lambda m: len(m.base), reverse=True)
        self._resolved.clear()
        return self

    async def unmount(self, base: str, *, dispose: bool = True) -> None:
        """Remove the mount at `base` (disposing its driver)."""
        normalized = normalize_base(base)
        found = [m for m in self._mounts if m.base == normalized]
        self._mounts = [m for m in self._mounts if m.base != normalized]
        self._resolved.clear()
        if dispose:
            for mount in found:
                await mount.driver.dispose()

    def mounts(self) -> dict[str, Driver]:
        """Mount base (without the trailing ``:``) -> driver."""
        return {m.base.rstrip(":"): m.driver for m in self._mounts}

    def _resolve(self, key: str) -> tuple[_Mount, str]:
        found = self._resolved.get(key)
        if found is not None:
            return found
        normalized = normalize_key(key)
        if not normalized:
            raise ValueError("[nitro:storage] the key is empty")
        probe = normalized + ":"
        for mount in self._mounts:
            if probe.startswith(mount.base):
                found = (mount, normalized[len(mount.base) :])
                if len(self._resolved) > 4096:
                    self._resolved.clear()
                self._resolved[key] = found
                return found
        raise StorageError(
            f"[nitro:storage] no mount serves {normalized!r}; mounts: "
            f"{', '.join(repr(m.base.rstrip(':')) for m in self._mounts) or 'none'}. "
            "Configure `storage` in nitro.config.py or call storage.mount(base, driver)",
            status=500,
        )

    # --- values ---

    async def get_item(self, key: str) -> Any:
        """The value at `key` (parsed JSON), or None when there is none."""
        mount, rel = self._resolve(key)
        try:  # _call inlined: the hottest storage path
            if mount.timeout is None:
                raw = await mount.driver.get(rel)
            else:
                async with asyncio.timeout(mount.timeout):
                    raw = await mount.driver.get(rel)
        except Exception as exc:
            failure = self._failure(mount, "get", exc)
            if failure is exc:
                raise
            raise failure from exc
        return None if raw is None else _parse(raw)

    async def get_item_raw(self, key: str) -> bytes | None:
        """The bytes at `key`, unparsed, or None."""
        mount, rel = self._resolve(key)
        return await self._call(mount, "get", rel)

    async def set_item(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store `value` (anything JSON can hold) at `key`, expiring after `ttl` seconds.

        A value JSON cannot hold is a `TypeError` naming the key; nothing is written.
        """
        if isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"[nitro:storage] {key!r}: store bytes with set_item_raw()")
        await self._write(key, _encode(key, value), ttl)

    async def set_item_raw(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store bytes at `key` as they are."""
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"[nitro:storage] set_item_raw({key!r}) needs bytes, got {type(value).__name__}"
            )
        await self._write(key, bytes(value), ttl)

    async def _write(self, key: str, data: bytes, ttl: float | None) -> None:
        if ttl is not None:
            _check_ttl(key, ttl)
        mount, rel = self._resolve(key)
        if mount.driver.read_only:
            self._writable(mount)
        if mount.timeout is None:  # _call inlined for local drivers, as in get_item
            try:
                await mount.driver.set(rel, data, ttl)
            except Exception as exc:
                failure = self._failure(mount, "set", exc)
                if failure is exc:
                    raise
                raise failure from exc
        else:
            await self._call(mount, "set", rel, data, ttl)

    async def set_item_if_absent(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store `value` only if `key` holds nothing; True when this call stored it.

        Atomic across processes and instances sharing the backend, which makes it a
        lock or a claim (scheduled tasks use it to run each tick once). A mount whose
        driver cannot do this atomically raises `StorageError`.
        """
        data = _encode(key, value)
        _check_ttl(key, ttl)
        mount, rel = self._resolve(key)
        self._writable(mount)
        if not hasattr(mount.driver, "set_if_absent"):
            raise StorageError(
                f"{mount.label} cannot create keys atomically; use a driver that can "
                "(memory, fs, redis, upstash, dynamodb, ...)",
                status=500,
            )
        return await self._call(mount, "set_if_absent", rel, data, ttl)

    def supports_atomic(self, key: str) -> bool:
        """Whether the mount serving `key` can `set_item_if_absent`."""
        mount, _ = self._resolve(key)
        return hasattr(mount.driver, "set_if_absent")

    async def has_item(self, key: str) -> bool:
        """Whether `key` holds a value."""
        mount, rel = self._resolve(key)
        return await self._call(mount, "has", rel)

    async def remove_item(self, key: str) -> None:
        """Delete `key` (nothing happens when it is missing)."""
        mount, rel = self._resolve(key)
        self._writable(mount)
        await self._call(mount, "remove", rel)

    async def get_meta(self, key: str) -> dict[str, Any]:
        """What the driver knows about `key`: `mtime` (epoch seconds), `size`, and `ttl`
        (seconds, when one was set); ``{}`` for a missing key."""
        mount, rel = self._resolve(key)
        return await self._call(mount, "meta", rel) or {}

    # --- many keys ---

    async def get_keys(self, base: str | None = None) -> list[str]:
        """Every key under `base` (all keys when None), across mounts, sorted."""
        prefix = normalize_base(base)
        keys: list[str] = []
        for mount, rel_prefix in self._mounts_under(prefix):
            found = await self._call(mount, "keys", rel_prefix)
            keys.extend(mount.base + k for k in found)
        return sorted(k for k in keys if k.startswith(prefix))

    async def clear(self, base: str | None = None) -> None:
        """Remove every key under `base` (everything when None), across mounts."""
        prefix = normalize_base(base)
        targets = self._mounts_under(prefix)
        for mount, _ in targets:
            self._writable(mount)
        for mount, rel_prefix in targets:
            await self._call(mount, "clear", rel_prefix)

    def _mounts_under(self, prefix: str) -> list[tuple[_Mount, str]]:
        """The mounts holding keys under `prefix`, each with the prefix relative to it."""
        out: list[tuple[_Mount, str]] = []
        owner_found = False
        for mount in self._mounts:
            if mount.base.startswith(prefix):
                out.append((mount, ""))  # a whole mount below the prefix
            elif prefix.startswith(mount.base) and not owner_found:
                out.append((mount, prefix[len(mount.base) :]))  # the mount the prefix lies in
                owner_found = True
        return out

    async def dispose(self) -> None:
        """Close every driver's connections."""
        for mount in self._mounts:
            await mount.driver.dispose()

    def view(self, base: str) -> StorageView:
        """The keys under `base`, addressed without it (``use_storage("data")``)."""
        return StorageView(self, normalize_base(base))

    # --- internals ---

    def _writable(self, mount: _Mount) -> None:
        if mount.driver.read_only:
            raise ReadOnlyStorageError(f"{mount.label} is read-only")

    async def _call(self, mount: _Mount, operation: str, *args: Any) -> Any:
        try:
            if mount.timeout is None:
                return await getattr(mount.driver, operation)(*args)
            async with asyncio.timeout(mount.timeout):
                return await getattr(mount.driver, operation)(*args)
        except Exception as exc:
            failure = self._failure(mount, operation, exc)
            if failure is exc:
                raise
            raise failure from exc

    def _failure(self, mount: _Mount, operation: str, exc: Exception) -> Exception:
        """What a driver's exception becomes: itself for a bad key or value, else a
        StorageError naming the driver, the mount and the endpoint."""
        where = f"{mount.label} ({mount.driver.endpoint})"
        if isinstance(exc, (json.JSONDecodeError, UnicodeError)):
            # ValueErrors, but about what the backend answered, not about the key or value.
            return StorageError(f"{where}: {operation} got an unreadable answer: {exc}")
        if isinstance(exc, (StorageError, ValueError, TypeError)):
            return exc  # a bad key or value, already explained by the driver
        if isinstance(exc, TimeoutError):
            return StorageError(f"{where}: {operation} timed out after {mount.timeout:g}s")
        return StorageError(f"{where}: {operation} failed: {type(exc).__name__}: {exc}")


def _check_ttl(key: str, ttl: float | None) -> None:
    if ttl is None:
        return
    if (
        isinstance(ttl, bool)
        or not isinstance(ttl, (int, float))
        or not math.isfinite(ttl)
        or ttl <= 0
    ):
        raise ValueError(f"[nitro:storage] ttl for {key!r} must be a positive number of seconds")


def _encode(key: str, value: Any) -> bytes:
    try:
        return encode_json(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(
            f"[nitro:storage] the value for {key!r} cannot be stored as JSON: {exc}"
        ) from None


def _parse(raw: bytes) -> Any:
    # Like unstorage's destr: JSON when it is JSON, else the text, else the bytes.
    # Decoding first is much cheaper than json.loads(bytes), which sniffs the
    # encoding in Python; nitro writes UTF-8 only.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    try:
        return _loads(text)
    except ValueError:
        return text


_loads = json.JSONDecoder().decode


def use_storage(base: str | None = None) -> Storage | StorageView:
    """The app's storage, or the part of it under `base` (keys relative to it).

    Example::

        from nitro import define_handler, use_storage

        @define_handler
        async def handler(event):
            visits = (await use_storage("data").get_item("visits")) or 0
            await use_storage("data").set_item("visits", visits + 1)
            return {"visits": visits + 1}
    """
    from .context import use_nitro_app

    storage = use_nitro_app().storage
    return storage.view(base) if base else storage
