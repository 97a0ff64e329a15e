"""The API's tests, in-process with nitro.testing (`python -m pytest`)."""

from pathlib import Path

import pytest

from nitro.testing import TestClient

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.anyio
async def test_hello():
    async with TestClient(PROJECT) as client:
        response = await client.get("/api/hello", params={"name": "you"})
        assert response.json() == {"message": "Hello, you!"}
