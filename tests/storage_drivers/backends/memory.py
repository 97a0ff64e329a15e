from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {}
