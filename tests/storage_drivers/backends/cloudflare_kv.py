"""Cloudflare KV for the conformance suite: the in-memory stand-in for the REST API
(`storage_drivers.cloudflare_kv_api`), served by pytest-httpx, one new namespace per call.

No real Cloudflare API can be reached from here (and none is needed: every request
the driver makes is answered by the fake), so there is no service to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from storage_drivers.cloudflare_kv_api import fake_for


async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    fake = fake_for(request)
    return {
        "account_id": fake.account_id,
        "namespace_id": fake.new_namespace(),
        "api_token": fake.token,
        "base": "nitro-test",
        "api_url": fake.api_url,
    }
