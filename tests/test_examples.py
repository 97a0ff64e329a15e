"""The example project the README runs keeps working."""

from __future__ import annotations

import pytest

from nitro.testing import TestClient

from helpers import REPO

pytestmark = pytest.mark.anyio


async def test_notes_example() -> None:
    async with TestClient(REPO / "examples", dev=True) as client:
        created = await client.post("/api/notes", json={"title": "hi", "body": "there"})
        assert created.status_code == 201
        note_id = created.json()["id"]
        assert (await client.get(f"/api/notes/{note_id}")).json()["title"] == "hi"
        assert (await client.post("/api/notes", json={"title": ""})).status_code == 400
        page = await client.get("/")
        assert "nitro notes" in page.text and page.headers["server-timing"].startswith("app;dur=")
        assert (await client.get("/style.css")).headers["cache-control"] == "public, max-age=3600"
        assert (await client.delete(f"/api/notes/{note_id}")).status_code == 204
        assert (await client.get(f"/api/notes/{note_id}")).status_code == 404
