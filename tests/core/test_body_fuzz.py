"""No request body is a 500: every body reader, fed any bytes under any content type,
answers through the app with a success or a 4xx (DESIGN.md 3.2: malformed input is a 400).

The app is driven through `nitro.testing.TestClient` on one event loop for the module;
hypothesis sends the bodies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from nitro import (
    NitroApp,
    define_handler,
    read_body,
    read_form_data,
    read_raw_body,
    read_validated_body,
)
from nitro.testing import TestClient


class NewUser(BaseModel):
    name: str = Field(min_length=1)
    age: int = Field(ge=0)


def _has_name(body: Any) -> Any:
    # A validator as users write them: it trusts the shape it is handed.
    return {"name": body["name"].strip()}


def _summary(value: Any) -> Any:
    """A JSON-safe account of what a reader returned."""
    if hasattr(value, "multi_items"):  # FormData
        return {
            "form": [[k, getattr(v, "filename", None) or str(v)] for k, v in value.multi_items()]
        }
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    return {"value": json.loads(json.dumps(value, default=repr))}


def fuzz_app() -> NitroApp:
    app = NitroApp(max_body_size=64 * 1024)

    async def body(event: Any) -> Any:
        return _summary(await read_body(event))

    async def raw(event: Any) -> Any:
        return {"size": len(await read_raw_body(event))}

    async def form(event: Any) -> Any:
        return _summary(await read_form_data(event))

    async def model(event: Any) -> Any:
        return await read_validated_body(event, NewUser)

    async def function(event: Any) -> Any:
        return await read_validated_body(event, _has_name)

    async def typed(event: Any, user: NewUser) -> Any:
        return {"created": user}

    for path, fn in [
        ("/body", body),
        ("/raw", raw),
        ("/form", form),
        ("/model", model),
        ("/function", function),
        ("/typed", typed),
    ]:
        app.add_route(path, define_handler(fn), method="POST")
    return app


READERS = ["/body", "/raw", "/form", "/model", "/function", "/typed"]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.api+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data; boundary=XyZ; charset=unicode_escape",
    "multipart/form-data; boundary=XyZ; charset=punycode",
    "multipart/form-data; boundary=XyZ; charset=utf-7",
    "multipart/form-data",
    'multipart/form-data; boundary=""',
    "text/plain",
    "text/plain; charset=latin-1",
    "text/plain; charset=no-such-codec",
    "text/plain; charset=utf-16",
    "text/plain; charset=unicode_escape",
    "text/plain; charset=punycode",
    "text/plain; charset=rot13",
    "text/plain; charset=base64",
    "text/plain; charset=utf-7",
    "application/octet-stream",
]

Post = Callable[[str, str | None, bytes], httpx.Response]


@pytest.fixture(scope="module")
def post() -> Iterator[Post]:
    runner = asyncio.Runner()
    client = TestClient(fuzz_app())
    runner.run(client.__aenter__())

    def send(path: str, content_type: str | None, body: bytes) -> httpx.Response:
        headers = {"content-type": content_type} if content_type is not None else {}
        return runner.run(client.post(path, content=body, headers=headers))

    try:
        yield send
    finally:
        runner.run(client.__aexit__(None, None, None))
        runner.close()


# Bodies that look like what each parser expects, then go wrong.
_FRAGMENTS = st.sampled_from(
    [
        b"--XyZ\r\n",
        b"--XyZ--\r\n",
        b'Content-Disposition: form-data; name="name"\r\n',
        b'Content-Disposition: form-data; name="f"; filename="a\xff.txt"\r\n',
        b"Content-Disposition: form-data\r\n",
        b"Content-Type: text/plain\r\n",
        b"\r\n",
        b"\xff\xfe\x00",
        b"\xed\xa0\x80",
        b"\\ud800",
        b"abc-9999",
        b"+2AA-",
        b"name=%ff&age=1&&=",
        b"%zz=%",
        b'{"name": "a", "age": ',
        b'{"name": "\\ud800", "age": 1}',
        b'{"name": "a", "age": 1}',
        b"[" * 50,
        b"null",
        b"1e999999",
    ]
)
BODIES = st.one_of(st.binary(max_size=300), st.lists(_FRAGMENTS, max_size=12).map(b"".join))


def _assert_no_500(response: httpx.Response, where: tuple[Any, ...]) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:500])
    if response.status_code >= 400:
        error = response.json()
        assert error["error"] is True and error["status"] == response.status_code, where


@pytest.mark.parametrize("path", READERS)
def test_a_json_body_that_is_not_utf8_is_400(post: Post, path: str) -> None:
    response = post(path, "application/json", b"\xff04\x02 ")
    assert response.status_code == (200 if path in ("/raw", "/form") else 400), response.text
    if path in ("/model", "/typed"):
        assert response.json()["message"] == "Invalid body"
        assert response.json()["data"]["issues"][0]["type"] == "json_invalid"


def _multipart(value: bytes) -> bytes:
    return (
        b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\n' + value + b"\r\n--XyZ--\r\n"
    )


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        # a JSON string escape that is half a surrogate pair: no encoder can write it back
        ("/body", None, b'{"name": "\\ud800"}'),
        ("/function", "application/json", b'{"name": "\\udfff"}'),
        # "charsets" that are Python codecs, not character sets
        ("/body", "text/plain; charset=unicode_escape", b"\\\x00"),
        ("/body", "text/plain; charset=punycode", b"abc-9999"),
        ("/body", "text/plain; charset=utf-7", b"+2AA-"),
        ("/form", "multipart/form-data; boundary=XyZ; charset=utf-7", _multipart(b"+2AA-")),
        ("/form", "multipart/form-data; boundary=XyZ; charset=punycode", _multipart(b"a-99")),
        # a validator that trusts the shape it gets
        ("/function", "application/json", b"[1]"),
        ("/function", "application/json", b'{"age": 1}'),
    ],
)
def test_malformed_bodies_are_400(
    post: Post, path: str, content_type: str | None, body: bytes
) -> None:
    response = post(path, content_type, body)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    ("path", "content_type", "body", "expected"),
    [
        ("/body", None, b'{"name": "\\ud83d\\ude00"}', {"value": {"name": "\U0001f600"}}),
        ("/body", "text/plain; charset=utf-7", b"+AOk-", {"value": "\u00e9"}),
        ("/body", "application/json", b'\xef\xbb\xbf{"a": 1}', {"value": {"a": 1}}),
        ("/form", "multipart/form-data; boundary=XyZ", _multipart(b"x"), {"form": [["name", "x"]]}),
        ("/model", "application/json", b'{"name": "a", "age": 1}', {"name": "a", "age": 1}),
        ("/function", "application/json", b'{"name": " a "}', {"name": "a"}),
        ("/typed", None, b'{"name": "a", "age": 1}', {"created": {"name": "a", "age": 1}}),
    ],
)
def test_well_formed_bodies_are_read(
    post: Post, path: str, content_type: str | None, body: bytes, expected: Any
) -> None:
    response = post(path, content_type, body)
    assert (response.status_code, response.json()) == (200, expected)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(READERS), st.sampled_from(CONTENT_TYPES), BODIES)
@example("/typed", "application/json", b"\xff04\x02 ")
@example("/model", None, b'{"name": "\xff", "age": 1}')
@example("/function", "application/json", b"[1]")
@example("/form", "multipart/form-data; boundary=XyZ", b"--XyZ\r\n\r\n--XyZ--\r\n")
def test_no_body_reaches_a_500(
    post: Post, path: str, content_type: str | None, body: bytes
) -> None:
    _assert_no_500(post(path, content_type, body), (path, content_type, body))
