"""`redis`: values as Redis strings, through redis-py's asyncio client.

Key ``a:b`` is the Redis key ``<base>a:b``; the value is stored as it is (bytes
in, the same bytes out). A TTL is native: ``SET ... PX <ms>``, so Redis itself
expires the key, and a ``SET`` without a TTL clears an old one. Listing and
clearing walk the key space with ``SCAN`` (never ``KEYS``, which blocks the
server) matching the escaped prefix, and delete with ``UNLINK`` in batches.

Metadata: ``size`` (``STRLEN``) and, when the key expires, ``ttl``: Redis keeps
the expiry time, not the TTL as set, so `ttl` is the time left (``PTTL``)
rounded up to whole seconds: right after ``ttl=600`` it reads 600, a minute
later 540. There is no ``mtime``.

``set_if_absent`` (locks, scheduled-task claims) is ``SET NX``: atomic on the
server, across every process using the database.

Commands: https://redis.io/docs/latest/commands/ (SET, SCAN, UNLINK, PTTL).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from ..core.options import Options
from ._base import DriverBase, check_timeouts, parse_options

if TYPE_CHECKING:
    from redis.asyncio import Redis

DRIVER_NAME = "redis"
REQUIRES = ["redis>=5.0"]
SCAN_COUNT = 1000  # keys Redis looks at per SCAN call (a hint, not a limit)
DELETE_BATCH = 500  # keys per UNLINK
SCHEMES = ("redis", "rediss", "unix")
RETRIES = 2  # connection errors and timeouts: retried twice, then reported


class RedisOptions(Options):
    """Options of the `redis` driver."""

    url: str = "redis://127.0.0.1:6379/0"
    """Server URL: ``redis://[[user]:password@]host:port/db``, ``rediss://`` for TLS,
    ``unix:///path/to/socket?db=0``. Default ``"redis://127.0.0.1:6379/0"``; usually
    ``"{{REDIS_URL}}"``."""
    base: str = ""
    """Prefix of every key inside the database (``"app"`` or ``"app:"`` stores key ``x``
    as ``app:x``), so several apps can share one database. Default ``""``: no prefix,
    and clearing the root mount clears the whole database."""
    connect_timeout: float = 5.0
    """Seconds to open a connection (default 5)."""
    timeout: float = 10.0
    """Seconds to wait for a reply to a command (default 10)."""


def escape_glob(text: str) -> str:
    """`text` matched literally by a SCAN ``MATCH`` pattern (also used by `upstash`)."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def expiry_ms(ttl: float | None) -> int | None:
    """``SET ... PX`` for a TTL: whole milliseconds, rounded up so that a value never
    expires early (also used by `upstash`)."""
    return None if ttl is None else max(1, math.ceil(ttl * 1000))


def key_meta(size: int, pttl: int) -> dict[str, Any]:
    """`meta` from ``STRLEN`` and a ``PTTL`` of an existing key (also used by `upstash`)."""
    meta: dict[str, Any] = {"size": size}
    if pttl >= 0:  # -1: no expiry
        meta["ttl"] = math.ceil(pttl / 1000)
    return meta


def _public_endpoint(url: str) -> str:
    """The URL without credentials or query parameters (which may hold a password)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: leave it out
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisDriver(DriverBase):
    name = DRIVER_NAME
    network = True

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        base = options.base.strip(":")
        self.base = base + ":" if base else ""
        self.endpoint = _public_endpoint(options.url)
        self._client: Redis | None = None

    def _redis(self) -> Redis:
        # Created on first use: from_url opens nothing, but connections belong to
        # the event loop that opens them, which is only known now.
        if self._client is None:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import ExponentialBackoff

            self._client = Redis.from_url(
                self.options.url,
                socket_connect_timeout=self.options.connect_timeout,
                socket_timeout=self.options.timeout,
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
            )
        return self._client

    def _key(self, key: str) -> str:
        return self.base + key

    async def get(self, key: str) -> bytes | None:
        # bytes: the client is created without decode_responses
        return cast("bytes | None", await self._redis().get(self._key(key)))

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        await self._redis().set(self._key(key), value, px=expiry_ms(ttl))

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None) -> bool:
        # SET NX is atomic on the server: of racing writers, exactly one gets OK.
        return bool(await self._redis().set(self._key(key), value, px=expiry_ms(ttl), nx=True))

    async def has(self, key: str) -> bool:
        return bool(await self._redis().exists(self._key(key)))

    async def remove(self, key: str) -> None:
        await self._redis().unlink(self._key(key))

    async def _scan(self, prefix: str) -> list[bytes]:
        """Every Redis key under base + prefix, each once (SCAN may repeat a key)."""
        full = (self.base + prefix).encode()
        pattern = escape_glob(self.base + prefix) + "*"
        found: dict[bytes, None] = {}
        async for raw in self._redis().scan_iter(match=pattern, count=SCAN_COUNT):
            if raw.startswith(full):
                found[raw] = None
        return list(found)

    async def keys(self, prefix: str) -> list[str]:
        # Redis drops expired keys from SCAN replies itself.
        strip = len(self.base.encode())
        return [raw[strip:].decode("utf-8", "replace") for raw in await self._scan(prefix)]

    async def clear(self, prefix: str) -> None:
        found = await self._scan(prefix)
        for start in range(0, len(found), DELETE_BATCH):
            await self._redis().unlink(*found[start : start + DELETE_BATCH])

    async def meta(self, key: str) -> dict[str, Any] | None:
        pipe = self._redis().pipeline(transaction=False)
        pipe.strlen(self._key(key))
        pipe.pttl(self._key(key))
        size, pttl = await pipe.execute()
        return None if pttl == -2 else key_meta(size, pttl)  # -2: no such key

    async def dispose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def driver(options: Mapping[str, Any], *, root: Path) -> RedisDriver:
    parsed = parse_options(RedisOptions, options, DRIVER_NAME)
    if not isinstance(parsed.url, str) or urlsplit(parsed.url).scheme not in SCHEMES:
        raise ValueError(
            "[nitro:storage:redis] url must start with redis://, rediss:// or unix:// "
            "(e.g. redis://127.0.0.1:6379/0)"
        )
    check_timeouts(parsed, "[nitro:storage:redis] {name} must be a positive number of seconds")
    import redis.asyncio  # noqa: F401  (a missing library fails here, not on first use)

    return RedisDriver(parsed)
