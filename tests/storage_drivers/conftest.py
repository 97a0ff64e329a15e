from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from storage_drivers.backends import MOUNT, backend, open_storage
from storage_drivers.backends.redis import URL as REDIS_URL
from storage_drivers.backends.redis import require_redis

from nitro.core.storage import Storage
from nitro.storage_drivers import driver_names

if TYPE_CHECKING:
    import redis.asyncio as aioredis


def _params() -> list[str]:
    """Driver names; a backend with VARIANTS (db: sqlite, postgresql) runs once per variant."""
    params: list[str] = []
    for name in driver_names():
        variants = getattr(backend(name), "VARIANTS", None)
        if variants:
            params.extend(f"{name}[{variant}]" for variant in variants)
        else:
            params.append(name)
    return params


@pytest.fixture(params=_params())
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """A Storage with one driver of the registry mounted at "t", empty."""
    name, _, variant = request.param.partition("[")
    storage = await open_storage(name, request, tmp_path, variant.rstrip("]") or None)
    try:
        yield storage
    finally:
        try:
            await storage.clear(MOUNT)
        finally:
            await storage.dispose()
            cleanup = getattr(backend(name), "cleanup", None)
            if cleanup is not None:
                await cleanup()


@pytest.fixture
async def raw_redis() -> AsyncIterator[aioredis.Redis]:
    """redis-py on the test Redis (behind the redis and upstash drivers), to see what a
    driver really stored."""
    from redis.asyncio import Redis

    require_redis()
    client = Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()
