"""The example project the README runs keeps working."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from nitro.testing import TestClient

from helpers import REPO, nitro_cli

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


def test_the_fullstack_example_is_what_nitro_init_writes(tmp_path: Path) -> None:
    target = tmp_path / "fullstack"
    result = nitro_cli("init", "--template", "vite", str(target))
    assert result.returncode == 0, result.stderr
    example = REPO / "examples" / "fullstack"
    written = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
    shipped = sorted(
        p.relative_to(example)
        for p in example.rglob("*")
        if p.is_file() and "node_modules" not in p.parts and ".output" not in p.parts
    )
    assert written == shipped
    for rel in written:
        assert (target / rel).read_text() == (example / rel).read_text(), rel


@pytest.mark.slow
def test_the_fullstack_starter_builds_and_serves_its_page_in_a_browser(tmp_path: Path) -> None:
    from adapters.builds import preview_server

    from frontend_support import NODE_MODULES, chromium, require_vite

    require_vite()
    root = tmp_path / "starter"
    assert nitro_cli("init", "--template", "vite", str(root)).returncode == 0
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr  # its own test passes
    (root / "web" / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    result = nitro_cli("build", str(root), timeout=300)
    assert result.returncode == 0, result.stderr
    server = preview_server(root, tmp_path / "preview.log")
    try:
        server.wait_ready(path="/api/hello")
        with chromium() as browser:
            page = browser.new_page()
            page.goto(server.url + "/docs/deep/link")
            page.wait_for_function(
                "document.querySelector('#message').textContent === 'Hello, you!'"
            )
            assert page.text_content("#route") == "page: /docs/deep/link"
    finally:
        assert server.stop() == 0, server.logs()


async def test_chat_example_on_nitro_dev(tmp_path: Path) -> None:
    """examples/chat, unchanged, on `nitro dev`: the same routes the Lambda build serves
    (tests/adapters/test_aws_lambda_websocket.py drives them with API Gateway events)."""
    import json

    from websockets.asyncio.client import connect

    from helpers import ServerProcess, free_port

    root = tmp_path / "chat"
    shutil.copytree(REPO / "examples" / "chat", root)
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "nitro", "dev", str(root), "--port", str(port)],
        cwd=root,
        port=port,
        log=tmp_path / "dev.log",
    )
    try:
        server.wait_ready(path="/clock?every=0")
        base = f"ws://127.0.0.1:{port}/ws/lobby"
        async with connect(f"{base}?user=ann") as ann:
            assert json.loads(await ann.recv()) == {"system": "welcome to lobby, ann"}
            async with connect(f"{base}?user=bob") as bob:
                assert json.loads(await bob.recv()) == {"system": "welcome to lobby, bob"}
                assert json.loads(await ann.recv()) == {"system": "bob joined"}
                await ann.send("hi")
                assert json.loads(await bob.recv()) == {"user": "ann", "text": "hi"}
            assert json.loads(await ann.recv()) == {"system": "bob left"}
        async with httpx.AsyncClient(base_url=server.url) as client:
            clock = await client.get("/clock?every=0")
            assert clock.text.count("event: tick") == 5
            assert "new WebSocket(url)" in (await client.get("/")).text
    finally:
        server.stop()
