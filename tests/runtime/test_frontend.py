"""The front-end at run time, in-process: the SPA fallback of a build (what it answers
and what keeps its 404), Vite's dev server behind the app (HTTP and WebSocket, and a
Vite that stopped), and `dev_proxy` rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from nitro import HTTPError, NitroApp
from nitro.core.utils.static import DirectoryAssets, PublicDir
from nitro.runtime.app import with_dev_proxy
from nitro.runtime.frontend import mount_spa_fallback, mount_vite_dev_server
from nitro.testing import TestClient

from helpers import free_port, serve_in_thread

pytestmark = pytest.mark.anyio
PAGE = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
INDEX = "<!doctype html><div id=app></div>"


def spa_app(tmp_path: Path, **options: object) -> NitroApp:
    public = tmp_path / "public"
    (public / "assets").mkdir(parents=True)
    (public / "index.html").write_text(INDEX)
    (public / "assets" / "app-1a2b.js").write_text("console.log(1)")
    app = NitroApp(
        public=DirectoryAssets(
            [
                PublicDir(public / "assets", "/assets", 31536000, immutable=True),
                PublicDir(public),
            ]
        ),
        **options,
    )
    app.add_route("/api/hello", lambda event: {"hello": "world"})
    app.add_route("/contact", lambda event: {"sent": True}, "post")

    def missing(event: object) -> None:
        raise HTTPError(404, "No such user")

    app.add_route("/users/:id", missing)
    mount_spa_fallback(app, "/index.html")
    return app


async def test_a_page_request_nothing_answers_gets_the_front_ends_index(tmp_path: Path) -> None:
    async with TestClient(spa_app(tmp_path)) as client:
        deep = await client.get("/some/client/route", headers=PAGE)
        assert deep.status_code == 200 and deep.text == INDEX
        assert deep.headers["content-type"].startswith("text/html")
        head = await client.head("/some/client/route", headers=PAGE)
        assert head.status_code == 200 and head.content == b""
        # A path only POST answers is a page for the browser's GET.
        assert (await client.get("/contact", headers=PAGE)).text == INDEX
        assert (await client.post("/contact")).json() == {"sent": True}
        # Routes and files answer first.
        assert (await client.get("/api/hello", headers=PAGE)).json() == {"hello": "world"}
        asset = await client.get("/assets/app-1a2b.js")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_everything_else_keeps_its_404(tmp_path: Path) -> None:
    async with TestClient(spa_app(tmp_path)) as client:
        for path, headers in [
            ("/some/client/route", {"accept": "*/*"}),  # scripts, fetch(), curl
            ("/some/client/route", {"accept": "application/json"}),
            ("/assets/missing-9z.js", {"accept": "*/*"}),
            ("/api/missing", PAGE),  # API misses stay errors, even for a browser
            ("/api", PAGE),
        ]:
            response = await client.get(path, headers=headers)
            assert response.status_code == 404, (path, headers)
        body = (await client.get("/some/client/route", headers={"accept": "*/*"})).json()
        assert body["status"] == 404 and body["error"] is True
        post = await client.post("/some/client/route", headers=PAGE)
        assert post.status_code == 404
        # A route that answers 404 itself has answered.
        user = await client.get("/users/7", headers={"accept": "application/json"})
        assert user.status_code == 404 and user.json()["message"] == "No such user"
        assert (await client.get("/users/7", headers=PAGE)).status_code == 404


async def test_rule_headers_and_response_hooks_apply_to_the_fallback(tmp_path: Path) -> None:
    app = spa_app(tmp_path, route_rules={"/**": {"headers": {"x-frame-options": "DENY"}}})
    seen: list[int] = []
    app.hooks.hook("response", lambda event, response: seen.append(response.status_code))
    async with TestClient(app) as client:
        response = await client.get("/deep", headers=PAGE)
    assert response.status_code == 200 and response.headers["x-frame-options"] == "DENY"
    assert seen == [200]


async def test_server_py_app_comes_first_and_its_404_falls_back(tmp_path: Path) -> None:
    async def docs(request: object) -> PlainTextResponse:
        return PlainTextResponse("fastapi docs")

    async def not_found(request: object, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    inner = Starlette(routes=[Route("/docs", docs)], exception_handlers={404: not_found})
    app = spa_app(tmp_path, server_app=inner)
    async with TestClient(app) as client:
        assert (await client.get("/docs", headers=PAGE)).text == "fastapi docs"
        assert (await client.get("/client/route", headers=PAGE)).text == INDEX
        # Not a page request: server.py's app's own 404 stands, as it sent it.
        response = await client.get("/client/route", headers={"accept": "application/json"})
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


async def test_without_the_fallback_the_app_is_unchanged(tmp_path: Path) -> None:
    app = spa_app(tmp_path)
    app.fallback = None
    async with TestClient(app) as client:
        assert (await client.get("/deep", headers=PAGE)).status_code == 404
        assert (await client.get("/contact", headers=PAGE)).status_code == 405


# --- Vite's dev server behind the app (a stand-in upstream; the real one: tests/cli) ---


def fake_vite() -> Starlette:
    async def source(request: object) -> PlainTextResponse:
        return PlainTextResponse("export default 1", media_type="text/javascript")

    async def hmr(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="vite-hmr")
        await websocket.send_text('{"type":"connected"}')
        async for text in websocket.iter_text():
            await websocket.send_text(f"echo {text} {websocket.query_params.get('token')}")

    return Starlette(routes=[Route("/src/main.js", source), WebSocketRoute("/", hmr)])


def dev_app(url: str) -> NitroApp:
    app = NitroApp(dev=True)
    app.add_route("/api/hello", lambda event: {"hello": "world"})
    mount_vite_dev_server(app, url)
    return app


async def test_dev_proxies_what_nothing_else_answers_to_vite() -> None:
    with serve_in_thread(fake_vite()) as vite:
        async with TestClient(dev_app(vite)) as client:
            assert (await client.get("/api/hello")).json() == {"hello": "world"}
            source = await client.get("/src/main.js")
            assert source.text == "export default 1"
            # Vite's 404 is nitro's (JSON here), and /api/ misses never reach Vite.
            missing = await client.get("/nothing.js")
            assert missing.status_code == 404 and missing.json()["error"] is True
            assert (await client.get("/api/nothing")).status_code == 404


async def test_a_vite_that_stopped_is_a_502_saying_so_at_once() -> None:
    app = dev_app(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    async with TestClient(app) as client:
        started = time.monotonic()
        response = await client.get("/src/main.js")
    assert time.monotonic() - started < 5
    assert response.status_code == 502
    assert "[nitro:vite] Vite's dev server" in response.json()["message"]
    assert "is not running" in response.json()["message"]


def test_vites_hot_reload_socket_goes_through_the_app() -> None:
    from websockets.sync.client import connect

    with serve_in_thread(fake_vite()) as vite, serve_in_thread(dev_app(vite)) as nitro:
        url = nitro.replace("http", "ws") + "/?token=abc"
        with connect(url, subprotocols=["vite-hmr"]) as socket:  # type: ignore[list-item]
            assert socket.subprotocol == "vite-hmr"
            assert socket.recv(5) == '{"type":"connected"}'
            socket.send("ping")
            assert socket.recv(5) == "echo ping abc"


# --- dev_proxy ---


async def test_dev_proxy_rules_proxy_in_dev_only() -> None:
    async def legacy(request: object) -> PlainTextResponse:
        return PlainTextResponse(f"legacy {request.url.path}?{request.url.query}")  # type: ignore[attr-defined]

    upstream_app = Starlette(routes=[Route("/{path:path}", legacy)])
    with serve_in_thread(upstream_app) as upstream:
        rules = with_dev_proxy(
            {"/legacy/**": {"headers": {"x-rule": "1"}}}, {"/legacy/**": upstream + "/old/**"}
        )
        app = NitroApp(dev=True, route_rules=rules)
        async with TestClient(app) as client:
            response = await client.get("/legacy/a/b?x=1")
            assert response.text == "legacy /old/a/b?x=1"
            assert response.headers["x-rule"] == "1"  # the project's own rule still applies


async def test_dev_proxy_is_read_by_nitro_dev_and_not_by_a_build(tmp_path: Path) -> None:
    (tmp_path / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        "config = define_nitro_config(dev_proxy={'/legacy/**': 'http://127.0.0.1:9/**'})\n"
    )
    async with TestClient(tmp_path, dev=True) as client:
        assert (await client.get("/legacy/x")).status_code == 502  # proxied (nothing there)
    async with TestClient(tmp_path) as client:
        assert (await client.get("/legacy/x")).status_code == 404
