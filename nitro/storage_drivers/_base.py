"""What drivers share: defaults for the optional operations, and option parsing."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypeVar

from ..core.options import options_as

T = TypeVar("T")


def parse_options(cls: type[T], options: Mapping[str, Any], driver: str) -> T:
    """`options` as the driver's options dataclass; an unknown key names the nearest one."""
    return options_as(cls, options, f"nitro:storage:{driver}")


class DriverBase:
    """Defaults: `has` through `get`, `clear` through `keys` + `remove`, no `meta`."""

    name = "driver"
    endpoint = ""
    network = False
    read_only = False

    async def get(self, key: str) -> bytes | None:
        raise NotImplementedError

    async def has(self, key: str) -> bool:
        return await self.get(key) is not None

    async def keys(self, prefix: str) -> list[str]:
        raise NotImplementedError

    async def remove(self, key: str) -> None:
        raise NotImplementedError

    async def clear(self, prefix: str) -> None:
        for key in await self.keys(prefix):
            await self.remove(key)

    async def meta(self, key: str) -> dict[str, Any] | None:
        return {} if await self.has(key) else None

    async def dispose(self) -> None:
        return None


def expires_at(ttl: float | None) -> float | None:
    """The wall-clock expiry (epoch seconds) for a TTL, for drivers that store it."""
    return None if ttl is None else time.time() + ttl


def expired(expires: float | None) -> bool:
    return expires is not None and expires <= time.time()
