"""A local Upstash REST server (upstash_server.py) over the real Redis on 127.0.0.1:6379,
started once per session; each call gets a key prefix of its own."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from storage_drivers.backends.redis import require_redis, unique_base
from storage_drivers.upstash_server import UpstashServer

TOKEN = "test-token-" + secrets.token_hex(8)
_server: UpstashServer | None = None


def server(request: pytest.FixtureRequest) -> UpstashServer:
    """The session's server, started on first use (it needs Redis)."""
    global _server
    require_redis()
    if _server is None:
        _server = UpstashServer(TOKEN).start()
        request.config.add_cleanup(_stop)
    return _server


def _stop() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {"url": server(request).url, "token": TOKEN, "base": unique_base()}
