from __future__ import annotations

import json
from typing import Any

import pytest

from nitro import NitroApp, define_handler, read_body, read_raw_body
from nitro.core.utils.body import DRAIN_BYTES
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


def echo_app(limit: int | None = 100) -> NitroApp:
    app = NitroApp(max_body_size=limit)

    @define_handler
    async def handler(event):
        return {"size": len(await read_raw_body(event))}

    app.add_route("/", handler)
    return app


async def asgi_post(
    app: NitroApp, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, int]:
    """POST through raw ASGI; returns (status, number of receive() calls)."""
    calls = 0
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": headers,
    }
    await app(scope, receive, send)
    return sent[0]["status"], calls


async def test_honest_oversize_content_length_is_refused_before_reading() -> None:
    status, calls = await asgi_post(echo_app(), [(b"content-length", b"1000000")], [b"x" * 10])
    assert status == 413
    assert calls == 0


async def test_streamed_body_stops_at_the_limit() -> None:
    chunks = [b"x" * 40] * 100
    status, calls = await asgi_post(echo_app(), [], chunks)
    assert status == 413
    # 40 + 40 + 40 > 100: refused there; the rest (small) is read and dropped so the
    # 413 is not lost to a reset of a connection closed with unread data
    assert calls == 100


async def test_a_refused_stream_is_drained_only_up_to_a_bound() -> None:
    chunk = b"x" * (64 * 1024)
    status, calls = await asgi_post(echo_app(), [], [chunk] * 50)
    assert status == 413
    assert calls == 1 + DRAIN_BYTES // len(chunk)  # the refused chunk, then 256 KiB dropped


async def test_an_honest_content_length_the_drain_covers_is_read_and_dropped() -> None:
    status, calls = await asgi_post(echo_app(), [(b"content-length", b"400")], [b"x" * 200] * 2)
    assert status == 413
    assert calls == 2


async def test_lying_content_length_is_still_counted() -> None:
    status, _ = await asgi_post(echo_app(), [(b"content-length", b"10")], [b"x" * 60, b"x" * 60])
    assert status == 413


async def test_no_limit_when_max_body_size_is_none() -> None:
    status, _ = await asgi_post(echo_app(limit=None), [], [b"x" * 1000] * 5)
    assert status == 200


async def test_invalid_content_length_is_400() -> None:
    status, _ = await asgi_post(echo_app(), [(b"content-length", b"ten")], [b"x"])
    assert status == 400


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", b'{"a": 1}', {"a": 1}),
        ("application/vnd.api+json", b"[1]", [1]),
        ("", b'"no content type means JSON"', "no content type means JSON"),
        ("text/plain; charset=latin-1", "é".encode("latin-1"), "é"),
        ("application/x-www-form-urlencoded", b"a=1&b=%C3%A9", {"a": "1", "b": "é"}),
        ("application/octet-stream", b"\x00\x01", "AAE="),
    ],
)
async def test_read_body_by_content_type(content_type: str, body: bytes, expected: object) -> None:
    @define_handler
    async def handler(event):
        value = await read_body(event)
        if isinstance(value, bytes):
            import base64

            value = base64.b64encode(value).decode()
        return {"value": value}

    app = NitroApp()
    app.add_route("/", handler)
    headers = {"content-type": content_type} if content_type else {}
    async with TestClient(app) as client:
        response = await client.post("/", content=body, headers=headers)
    assert json.loads(response.content) == {"value": expected}


async def test_empty_body_is_none_and_bad_charset_is_400() -> None:
    @define_handler
    async def handler(event):
        return {"body": await read_body(event)}

    app = NitroApp()
    app.add_route("/", handler)
    async with TestClient(app) as client:
        assert (await client.post("/")).json() == {"body": None}
        bad = await client.post(
            "/", content=b"\xff\xfe", headers={"content-type": "text/plain; charset=utf-8"}
        )
        assert bad.status_code == 400
        not_utf8 = await client.post(
            "/", content=b'"\xff"', headers={"content-type": "application/json"}
        )
        assert not_utf8.status_code == 400
