"""What drivers share: defaults for the optional operations, option parsing, worker
threads, expiry stamps and endpoint text without credentials."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..core.options import options_as
from ..core.sync import run_in_thread

T = TypeVar("T")


def parse_options(cls: type[T], options: Mapping[str, Any], driver: str) -> T:
    """`options` as the driver's `Options` class; an unknown key names the nearest one."""
    return options_as(cls, options, f"nitro:storage:{driver}")


def check_timeouts(options: Any, message: str) -> None:
    """A ValueError, ``message.format(name=...)``, unless `connect_timeout` and
    `timeout` are positive numbers of seconds."""
    for name in ("connect_timeout", "timeout"):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(message.format(name=name))


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


def metadata_expired(metadata: Mapping[str, str] | None, field: str) -> bool:
    """Whether the expiry stamp (epoch seconds as text) at `field` of an object's
    metadata has passed; an object without one, or with one not ours, never expires."""
    raw = (metadata or {}).get(field)
    if raw is None:
        return False
    try:
        return expired(float(raw))
    except ValueError:
        return False  # not ours: treat the object as a plain value


async def in_thread(
    fn: Callable[..., T], *args: Any, limiter: asyncio.Semaphore | None = None
) -> T:
    """`fn(*args)` on nitro's worker threads, for drivers over a blocking client; with
    `limiter`, at most its count at once."""
    # Abandoned on cancellation, so the Storage front's timeout is never held up by a
    # thread still waiting on the network (the client's own timeouts end it later).
    if limiter is None:
        return await run_in_thread(fn, *args)
    async with limiter:
        return await run_in_thread(fn, *args)


def public_url(url: str) -> str:
    """`url` as messages may show it: no user info, query or fragment (where passwords,
    tokens and SAS signatures live), no trailing ``/``. A port that is not a number is
    a ValueError, as for any URL a client would refuse."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")


def require_library(module: str) -> None:
    """Fail now, as a missing import would, when `module` is not installed, without
    importing it: drivers whose SDK only ever runs in worker threads import it there,
    on first use, so a cold start that never touches storage never pays for it."""
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)
