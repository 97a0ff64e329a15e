"""proxy_request against a real upstream server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nitro import NitroApp, define_handler, proxy_request
from nitro.testing import TestClient

from helpers import free_port, serve_in_thread

pytestmark = pytest.mark.anyio


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "size": len(body),
            "headers": dict(request.headers),
        },
        headers={"x-upstream": "1", "connection": "close"},
    )


async def slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return Response("late")


async def redirect(request: Request) -> Response:
    return Response(status_code=302, headers={"location": "/elsewhere"})


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/slow", slow),
            Route("/redirect", redirect),
            Route("/{path:path}", echo, methods=["GET", "POST", "PUT"]),
        ]
    )
    with serve_in_thread(app) as url:
        yield url


def proxy_app(target: str, timeout: float = 5.0) -> NitroApp:
    @define_handler
    async def handler(event):
        return await proxy_request(event, target + event.path, timeout=timeout)

    app = NitroApp()
    app.add_route("/**", handler)
    return app


async def test_forwards_method_path_query_body_and_drops_hop_by_hop(upstream: str) -> None:
    async with TestClient(proxy_app(upstream)) as client:
        response = await client.post(
            "/api/x?y=1",
            content=b"z" * 5000,
            headers={"x-custom": "kept", "connection": "keep-alive, x-custom", "te": "trailers"},
        )
    body = response.json()
    assert (body["method"], body["path"], body["query"], body["size"]) == (
        "POST",
        "/api/x",
        "y=1",
        5000,
    )
    assert body["headers"]["x-custom"] == "kept"
    assert "te" not in body["headers"]
    assert body["headers"]["host"].startswith("127.0.0.1:")
    assert response.headers["x-upstream"] == "1"
    assert "connection" not in response.headers


async def test_redirects_pass_through(upstream: str) -> None:
    async with TestClient(proxy_app(upstream)) as client:
        response = await client.get("/redirect")
    assert response.status_code == 302
    assert response.headers["location"] == "/elsewhere"


async def test_upstream_timeout_is_504(upstream: str) -> None:
    async with TestClient(proxy_app(upstream, timeout=0.2)) as client:
        response = await client.get("/slow")
    assert response.status_code == 504


async def test_unreachable_upstream_is_502() -> None:
    async with TestClient(proxy_app(f"http://127.0.0.1:{free_port()}")) as client:
        response = await client.get("/x")
    assert response.status_code == 502
    assert "Upstream 127.0.0.1" in response.json()["message"]


async def test_the_proxy_client_is_closed_on_shutdown(upstream: str) -> None:
    app = proxy_app(upstream)
    async with TestClient(app) as client:
        await client.get("/x")
        proxy_client: httpx.AsyncClient = app.state["proxy_client"]
    assert proxy_client.is_closed
