from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid

import pytest
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse, Response

from nitro import NitroApp, define_handler, set_response_header, set_response_status
from nitro.core.response import encode_json
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class User(BaseModel):
    name: str


async def fetch(value: object, path: str = "/") -> tuple[int, dict[str, str], bytes]:
    app = NitroApp()
    app.add_route("/", lambda event: value)
    async with TestClient(app) as client:
        response = await client.get(path)
    return response.status_code, dict(response.headers), response.content


@pytest.mark.parametrize(
    ("value", "content_type", "body"),
    [
        ({"a": 1}, "application/json", b'{"a":1}'),
        ([1, "é"], "application/json", '[1,"é"]'.encode()),
        (3, "application/json", b"3"),
        (2.5, "application/json", b"2.5"),
        (True, "application/json", b"true"),
        ("hi", "text/plain; charset=utf-8", b"hi"),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
        (Point(1, 2), "application/json", b'{"x":1,"y":2}'),
        (User(name="ada"), "application/json", b'{"name":"ada"}'),
        ((1, 2), "application/json", b"[1,2]"),
    ],
)
async def test_return_values(value: object, content_type: str, body: bytes) -> None:
    status, headers, content = await fetch(value)
    assert status == 200
    assert headers["content-type"] == content_type
    assert content == body
    assert headers["content-length"] == str(len(body))


async def test_none_is_204_unless_a_status_was_staged() -> None:
    status, headers, body = await fetch(None)
    assert (status, body) == (204, b"")
    assert "content-length" not in headers

    @define_handler
    def staged(event):
        set_response_status(event, 202)

    status, _, body = await fetch_handler(staged)
    assert (status, body) == (202, b"")


async def fetch_handler(handler: object) -> tuple[int, dict[str, str], bytes]:
    app = NitroApp()
    app.add_route("/", handler)  # type: ignore[arg-type]
    async with TestClient(app) as client:
        response = await client.get("/")
    return response.status_code, dict(response.headers), response.content


async def test_a_returned_response_is_sent_as_is_with_staged_headers_as_defaults() -> None:
    @define_handler
    def handler(event):
        set_response_header(event, "x-staged", "1")
        set_response_header(event, "content-type", "text/csv")
        set_response_status(event, 201)
        return PlainTextResponse("raw", status_code=202)

    status, headers, body = await fetch_handler(handler)
    assert (status, body) == (202, b"raw")
    assert headers["x-staged"] == "1"
    assert headers["content-type"] == "text/plain; charset=utf-8"


async def test_a_returned_plain_response_runs_its_background_task() -> None:
    ran: list[str] = []

    @define_handler
    def handler(event):
        return Response("done", background=BackgroundTask(ran.append, "after"))

    status, _, body = await fetch_handler(handler)
    assert (status, body, ran) == (200, b"done", ["after"])


async def test_staged_content_type_wins_for_plain_values() -> None:
    @define_handler
    def handler(event):
        set_response_header(event, "content-type", "text/csv")
        return "a,b\n"

    _, headers, body = await fetch_handler(handler)
    assert headers["content-type"] == "text/csv"
    assert body == b"a,b\n"


async def test_sync_and_async_iterators_stream() -> None:
    def gen():
        yield "a"
        yield b"b"

    async def agen():
        yield "c"
        yield "d"

    assert (await fetch(gen()))[2] == b"ab"
    assert (await fetch(agen()))[2] == b"cd"


async def test_unsendable_value_is_a_500_that_names_the_type() -> None:
    app = NitroApp(dev=True)
    app.add_route("/", lambda event: object())
    async with TestClient(app) as client:
        body = (await client.get("/")).json()
    assert body["status"] == 500
    assert "returned object, which nitro cannot send" in body["message"]


def test_encode_json_understands_common_types() -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    ident = uuid.UUID(int=1)
    assert encode_json({"t": when, "u": ident, "c": Color.RED, "s": {1}}) == (
        b'{"t":"2026-01-02T03:04:05+00:00","u":"00000000-0000-0000-0000-000000000001","c":"red","s":[1]}'
    )
