from __future__ import annotations

import re

import pytest

from nitro import (
    NitroApp,
    create_event_stream,
    define_handler,
    define_middleware,
    handle_cors,
    set_cookie,
)
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


def cors_app(options: dict) -> NitroApp:
    @define_middleware
    def cors(event):
        return handle_cors(event, options)  # type: ignore[arg-type]

    app = NitroApp(middleware=[cors])
    app.add_route("/data", lambda event: {"ok": True})
    return app


async def test_cors_true_defaults_answer_star_and_preflight_204() -> None:
    async with TestClient(cors_app({})) as client:
        simple = await client.get("/data", headers={"origin": "https://a.example"})
        assert simple.headers["access-control-allow-origin"] == "*"
        preflight = await client.options(
            "/data",
            headers={
                "origin": "https://a.example",
                "access-control-request-method": "PUT",
                "access-control-request-headers": "x-token",
            },
        )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "x-token"


async def test_cors_origin_list_regex_and_credentials() -> None:
    options = {
        "origin": ["https://app.example", re.compile(r"https://.*\.preview\.example")],
        "credentials": True,
        "max_age": 600,
    }
    async with TestClient(cors_app(options)) as client:
        allowed = await client.get("/data", headers={"origin": "https://pr-1.preview.example"})
        denied = await client.get("/data", headers={"origin": "https://evil.example"})
        preflight = await client.options(
            "/data",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://pr-1.preview.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in denied.headers
    assert preflight.headers["access-control-max-age"] == "600"
    assert preflight.headers.get_list("vary") == ["Origin"]


async def test_wildcard_with_credentials_echoes_the_origin() -> None:
    async with TestClient(cors_app({"credentials": True})) as client:
        response = await client.get("/data", headers={"origin": "https://a.example"})
    assert response.headers["access-control-allow-origin"] == "https://a.example"


async def test_sse_push_formats_multiline_and_comments() -> None:
    @define_handler
    async def handler(event):
        stream = create_event_stream(event)

        async def produce():
            await stream.push_comment("keep-alive")
            await stream.push("line1\nline2")
            await stream.push({"data": "x", "retry": 1000})
            await stream.close()
            await stream.push("ignored after close")

        event.wait_until(produce())
        return stream

    app = NitroApp()
    app.add_route("/sse", handler)
    async with TestClient(app) as client:
        response = await client.get("/sse")
    assert response.text == ": keep-alive\n\ndata: line1\ndata: line2\n\nretry: 1000\ndata: x\n\n"
    assert response.headers["cache-control"] == "no-cache"


async def test_invalid_cookie_options_are_a_clear_error() -> None:
    app = NitroApp(dev=True)
    app.add_route("/samesite", lambda event: set_cookie(event, "a", "b", same_site="sometimes"))  # type: ignore[arg-type]
    app.add_route("/name", lambda event: set_cookie(event, "bad name;", "b"))
    async with TestClient(app) as client:
        samesite = (await client.get("/samesite")).json()
        name = (await client.get("/name")).json()
    assert "same_site must be 'lax', 'strict' or 'none'" in samesite["message"]
    assert "invalid cookie name 'bad name;'" in name["message"]
