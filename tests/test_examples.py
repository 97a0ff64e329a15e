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


async def test_login_example_keeps_a_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NITRO_SESSION_PASSWORD", "example-session-password-0123456789")
    async with TestClient(REPO / "examples", dev=True) as client:
        anonymous = await client.get("/account")
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
        form = await client.get("/login")
        assert '<form method="post" action="/login">' in form.text

        wrong = await client.post("/login", data={"user": "demo", "password": "nope"})
        assert wrong.headers["location"] == "/login?error=1"
        assert "Wrong user or password." in (await client.get("/login?error=1")).text
        not_a_form = await client.post("/login", json={"user": "demo"})
        assert not_a_form.status_code == 415

        signed_in = await client.post("/login", data={"user": "demo", "password": "demo-password"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account"
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith("nitro=") and "HttpOnly" in cookie and "Max-Age=28800" in cookie
        account = await client.get("/account")  # the client sends the cookie back
        assert account.status_code == 200 and "Hello, demo" in account.text

        signed_out = await client.post("/logout")
        assert signed_out.headers["location"] == "/login"
        assert "Max-Age=0" in signed_out.headers["set-cookie"]
        assert (await client.get("/account")).status_code == 303
