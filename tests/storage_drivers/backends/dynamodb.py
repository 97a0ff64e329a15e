"""The `dynamodb` driver on the session's moto server: a fresh table per call, made by
the driver itself (`create_table=True`)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from ._moto import moto


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {
        **moto(request).options(),
        "table": f"nitro-{uuid.uuid4().hex[:12]}",
        "create_table": True,
    }
