"""The adapter conformance suite: the same requests against tests/fixture through
every platform entry (uvicorn, Lambda, Cloud Functions, Azure Functions, Vercel).

A platform test turns a `Request` into its native event, runs the built entry,
turns the native answer back into a `Reply`, and parametrizes over `CASES`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # path and query, as the client sends them
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)  # names lower-case, repeats kept
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Case:
    id: str
    requests: tuple[Request, ...]
    check: Callable[[list[Reply]], None]


Send = Callable[[Request], Reply]


def run_case(case: Case, send: Send) -> None:
    case.check([send(request) for request in case.requests])


def http_sender(client: httpx.Client) -> Send:
    """Send each request over HTTP with `client` (redirects not followed)."""

    def send(request: Request) -> Reply:
        response = client.request(
            request.method, request.path, headers=list(request.headers), content=request.body
        )
        return Reply(
            response.status_code,
            [(k.lower(), v) for k, v in response.headers.multi_items()],
            response.content,
        )

    return send


def run_case_over_http(case: Case, base_url: str) -> None:
    """Run `case` against a server listening at `base_url`."""
    with httpx.Client(base_url=base_url, follow_redirects=False) as client:
        run_case(case, http_sender(client))


def _one(request: Request, check: Callable[[Reply], None], id: str) -> Case:
    return Case(id, (request,), lambda replies: check(replies[0]))


def _hello(reply: Reply) -> None:
    assert reply.status == 200
    assert reply.json() == {"hello": "world"}
    assert reply.header("content-type") == "application/json"
    assert reply.header("x-powered-by") == "nitro-fixture"  # global middleware
    assert reply.header("x-fixture-hook") == "1"  # a plugin's response hook


def _param(reply: Reply) -> None:
    assert reply.status == 200 and reply.json() == {"id": 42, "kind": "param"}


def _static_beats_param(reply: Reply) -> None:
    assert reply.json() == {"id": "me", "kind": "static"}


def _query(reply: Reply) -> None:
    assert reply.json() == {"query": {"tag": ["a", "b"], "page": "2"}, "validated": {"page": 2}}


def _json_body(reply: Reply) -> None:
    assert reply.json() == {"body": {"name": "Ada", "tags": ["x", "y"], "n": 1.5}, "method": "POST"}


BINARY = bytes(range(256)) * 8


def _binary(reply: Reply) -> None:
    assert reply.status == 200
    assert reply.header("content-type") == "application/octet-stream"
    assert reply.body == BINARY


def _cookies(reply: Reply) -> None:
    assert reply.json() == {"seen": {"visitor": "v1", "other": "2"}, "one": "v1"}
    cookies = reply.all("set-cookie")
    assert len(cookies) == 3, cookies
    assert any(c.startswith("session=abc123") and "HttpOnly" in c for c in cookies)
    assert any(c.startswith("theme=dark") for c in cookies)


def _headers(reply: Reply) -> None:
    assert reply.status == 201
    assert reply.header("x-one") == "1"
    many = reply.all("x-many")
    assert many in (["a", "b"], ["a, b"]), many  # repeated, or joined as HTTP allows


def _http_error(reply: Reply) -> None:
    assert reply.status == 418
    assert reply.header("x-teapot") == "yes"
    assert reply.json() == {
        "error": True,
        "status": 418,
        "statusText": "I'm a Teapot",
        "message": "I am a teapot",
        "data": {"brew": "tea"},
    }


def _crash(reply: Reply) -> None:
    assert reply.status == 500
    assert reply.json() == {
        "error": True,
        "status": 500,
        "statusText": "Internal Server Error",
        "unhandled": True,
    }


def _redirect(reply: Reply) -> None:
    assert reply.status == 301 and reply.header("location") == "/about"


def _html(reply: Reply) -> None:
    assert reply.header("content-type") == "text/html; charset=utf-8"
    assert reply.body == b"<h1>About &lt;b&gt;</h1>"


def _public(reply: Reply) -> None:
    assert reply.status == 200 and reply.body == b"hello public\n"
    assert reply.header("cache-control") == "public, max-age=60"
    assert reply.header("etag")


def _head(reply: Reply) -> None:
    assert reply.status == 200 and reply.body == b""


def _bad_json(reply: Reply) -> None:
    assert reply.status == 400 and reply.json()["message"].startswith("Invalid JSON body")


def _task(reply: Reply) -> None:
    assert reply.json() == {"result": {"migrated": True, "payload": {"via": "route"}}}


def _server_app(reply: Reply) -> None:
    assert reply.json() == {"from": "fastapi", "state": "fastapi-lifespan"}


def _one_answer(status: int, body: bytes) -> Callable[[Reply], None]:
    """Exactly this answer: nothing sent on top of it after a late exception."""

    def check(reply: Reply) -> None:
        assert (reply.status, reply.body) == (status, body)
        length = reply.header("content-length")
        assert length is None or int(length) == len(reply.body)

    return check


def _storage(replies: list[Reply]) -> None:
    stored, read = replies
    assert stored.status == 200, stored.body
    assert read.json()["value"] == {"saved": [1, 2, 3]}


JSON = (("content-type", "application/json"),)


def _storage_case() -> Case:
    key = uuid.uuid4().hex
    return Case(
        "storage",
        (Request("PUT", f"/kv/{key}", JSON, b'{"saved": [1, 2, 3]}'), Request("GET", f"/kv/{key}")),
        _storage,
    )


CASES: list[Case] = [
    _one(Request("GET", "/api/hello"), _hello, "routing"),
    _one(Request("GET", "/users/42"), _param, "typed-param"),
    _one(Request("GET", "/users/me"), _static_beats_param, "static-beats-param"),
    _one(Request("GET", "/query?tag=a&tag=b&page=2"), _query, "query"),
    _one(
        Request("POST", "/echo", JSON, b'{"name": "Ada", "tags": ["x", "y"], "n": 1.5}'),
        _json_body,
        "json-body",
    ),
    _one(Request("POST", "/echo", JSON, b'{"name": '), _bad_json, "malformed-json"),
    _one(
        Request("POST", "/raw", (("content-type", "application/octet-stream"),), BINARY),
        _binary,
        "binary-body",
    ),
    _one(Request("GET", "/cookies", (("cookie", "visitor=v1; other=2"),)), _cookies, "cookies"),
    _one(Request("GET", "/status"), _headers, "status-and-headers"),
    _one(Request("GET", "/errors/http"), _http_error, "http-error"),
    _one(Request("GET", "/errors/crash"), _crash, "unhandled-error"),
    _one(Request("GET", "/redirect"), _redirect, "redirect"),
    _one(Request("GET", "/about", (("x-name", "<b>"),)), _html, "html"),
    _one(Request("GET", "/hello.txt"), _public, "public-asset"),
    _one(Request("HEAD", "/api/hello"), _head, "head"),
    _one(
        Request("POST", "/run-task", JSON, b'{"name": "db:migrate", "payload": {"via": "route"}}'),
        _task,
        "task",
    ),
    _one(Request("GET", "/legacy/hello"), _server_app, "server-app"),
    _one(
        Request("GET", "/legacy/crash"),
        _one_answer(500, b"Internal Server Error"),
        "server-app-raises-after-answering",
    ),
    _one(
        Request("GET", "/legacy/save"),
        _one_answer(200, b'{"saved":true}'),
        "server-app-background-task-fails",
    ),
]


def cases() -> list[Case]:
    """Every case, the storage one with a fresh key (call once per test session)."""
    return [*CASES, _storage_case()]
