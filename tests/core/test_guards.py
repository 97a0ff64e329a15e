"""`require_content_type`, `is_method` and `assert_method`."""

from __future__ import annotations

from typing import Any

import pytest

from nitro import NitroApp, assert_method, define_handler, is_method, require_content_type
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


def app_with(handler: Any) -> NitroApp:
    app = NitroApp()
    app.add_route("/", define_handler(handler))
    return app


async def test_require_content_type() -> None:
    def handler(event: Any) -> Any:
        return {"type": require_content_type(event, ["application/json", "text/*"])}

    async with TestClient(app_with(handler)) as client:
        json_body = await client.post("/", json={"a": 1})
        text = await client.post("/", content=b"x", headers={"content-type": "Text/Plain; q=1"})
        missing = await client.post("/", content=b"x")
        blank = await client.post("/", content=b"x", headers={"content-type": " "})
        other = await client.post("/", data={"a": "1"})
    assert json_body.json() == {"type": "application/json"}
    assert text.json() == {"type": "text/plain"}
    assert missing.status_code == 400 and blank.status_code == 400
    assert "Missing Content-Type" in missing.json()["message"]
    assert other.status_code == 415
    assert other.json()["message"] == (
        "Unsupported Content-Type 'application/x-www-form-urlencoded' "
        "(expected application/json, text/*)"
    )


async def test_a_single_type_and_any_type() -> None:
    def handler(event: Any) -> Any:
        require_content_type(event, "application/json")
        return require_content_type(event, ["*/*"])

    async with TestClient(app_with(handler)) as client:
        assert (await client.post("/", json=1)).text == "application/json"
        assert (
            await client.post("/", content=b"x", headers={"content-type": "a/b"})
        ).status_code == 415


@pytest.mark.parametrize(
    ("method", "methods", "allow_head", "expected"),
    [
        ("GET", "GET", True, True),
        ("GET", "get", True, True),
        ("POST", ["PUT", "POST"], True, True),
        ("DELETE", ["PUT", "POST"], True, False),
        ("HEAD", "GET", True, True),  # served by GET, as the router does
        ("HEAD", "GET", False, False),
        ("HEAD", "POST", True, False),  # h3 lets HEAD through anything; nitro only with GET
        ("HEAD", ["HEAD"], False, True),
    ],
)
async def test_is_method(method: str, methods: Any, allow_head: bool, expected: bool) -> None:
    seen: list[bool] = []

    def handler(event: Any) -> None:
        seen.append(is_method(event, methods, allow_head))

    async with TestClient(app_with(handler)) as client:
        await client.request(method, "/")
    assert seen == [expected]


async def test_assert_method_answers_405_with_allow() -> None:
    def handler(event: Any) -> str:
        assert_method(event, ["GET", "POST"])
        return "ok"

    def strict(event: Any) -> str:
        assert_method(event, ["put"], allow_head=False)
        return "ok"

    app = app_with(handler)
    app.add_route("/strict", define_handler(strict))
    async with TestClient(app) as client:
        assert (await client.post("/")).text == "ok"
        assert (await client.head("/")).status_code == 200
        refused = await client.delete("/")
        strict_refused = await client.get("/strict")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, POST, HEAD"
    assert refused.json()["statusText"] == "Method Not Allowed"
    assert strict_refused.status_code == 405 and strict_refused.headers["allow"] == "PUT"
