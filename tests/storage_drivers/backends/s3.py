"""The `s3` driver on the session's moto server: one bucket, a fresh `base` per call."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from ._moto import moto

BUCKET = "nitro-tests"
_made: set[tuple[str, str]] = set()


def make_bucket(request: pytest.FixtureRequest, name: str) -> None:
    server = moto(request)
    if (server.url, name) in _made:
        return
    client = server.client("s3")
    try:
        client.create_bucket(Bucket=name)
    finally:
        client.close()
    _made.add((server.url, name))


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    make_bucket(request, BUCKET)
    return {**moto(request).options(), "bucket": BUCKET, "base": f"t-{uuid.uuid4().hex[:12]}"}
