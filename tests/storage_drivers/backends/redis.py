"""The real Redis on 127.0.0.1:6379 (shared: each call gets a key prefix of its own)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from helpers import port_open, require_service

HOST, PORT = "127.0.0.1", 6379
URL = f"redis://{HOST}:{PORT}/0"
HOW_TO_START = "apt-get install redis-server && redis-server --daemonize yes"


def require_redis() -> None:
    require_service(port_open(HOST, PORT), f"Redis on {HOST}:{PORT}", HOW_TO_START)


def unique_base() -> str:
    return f"nitro-test:{secrets.token_hex(6)}:"


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    require_redis()
    return {"url": URL, "base": unique_base()}
