"""`memory`: values in a dict of this process (the root mount; `cache` in production)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.options import Options
from ._base import DriverBase, parse_options

DRIVER_NAME = "memory"
REQUIRES: list[str] = []


class MemoryOptions(Options):
    """No options: the data lives as long as the process."""


class MemoryDriver(DriverBase):
    name = DRIVER_NAME
    endpoint = "process memory"

    def __init__(self) -> None:
        # key -> (value, mtime, ttl, expires on the monotonic clock)
        self._data: dict[str, tuple[bytes, float, float | None, float | None]] = {}
        self._writes = 0

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[3] is not None and item[3] <= time.monotonic():
            del self._data[key]
            return None
        return item[0]

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        expires = None if ttl is None else time.monotonic() + ttl
        self._data[key] = (value, time.time(), ttl, expires)
        self._writes += 1
        if self._writes % 1024 == 0:
            self._sweep()

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        # One event loop, no await between the check and the write: atomic here.
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def remove(self, key: str) -> None:
        self._data.pop(key, None)

    async def keys(self, prefix: str) -> list[str]:
        self._sweep()
        return [key for key in self._data if key.startswith(prefix)]

    async def clear(self, prefix: str) -> None:
        if not prefix:
            self._data.clear()
            return
        for key in [k for k in self._data if k.startswith(prefix)]:
            del self._data[key]

    async def meta(self, key: str) -> dict[str, Any] | None:
        if await self.get(key) is None:
            return None
        value, mtime, ttl, _ = self._data[key]
        meta: dict[str, Any] = {"mtime": mtime, "size": len(value)}
        if ttl is not None:
            meta["ttl"] = ttl
        return meta

    def _sweep(self) -> None:
        """Drop expired entries, so keys written once and never read do not pile up."""
        now = time.monotonic()
        for key in [k for k, item in self._data.items() if item[3] is not None and item[3] <= now]:
            del self._data[key]


def driver(options: Mapping[str, Any], *, root: Path) -> MemoryDriver:
    parse_options(MemoryOptions, options, DRIVER_NAME)
    return MemoryDriver()
