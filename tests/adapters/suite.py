"""The adapter conformance suite: the same requests against tests/fixture through
every platform entry (uvicorn, Lambda, Cloud Functions, Azure Functions, Vercel).

A platform test turns a `Request` into its native event, runs the built entry,
turns the native answer back into a `Reply`, and parametrizes over `CASES`.
"""

from __future__ import annotations

import base64
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


# A request made from the replies before it (to send back a cookie, say).
Follow = Callable[[list["Reply"]], Request]


@dataclass(frozen=True)
class Case:
    id: str
    requests: tuple[Request | Follow, ...]
    check: Callable[[list[Reply]], None]


Send = Callable[[Request], Reply]


def run_case(case: Case, send: Send) -> None:
    replies: list[Reply] = []
    for request in case.requests:
        replies.append(send(request if isinstance(request, Request) else request(replies)))
    case.check(replies)


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


def _session_cookie(reply: Reply) -> str:
    """``nitro=<seal>`` from the reply's one session Set-Cookie."""
    cookies = [c for c in reply.all("set-cookie") if c.startswith("nitro=")]
    assert len(cookies) == 1, reply.headers
    return cookies[0].split(";", 1)[0]


def _tampered(cookie: str) -> str:
    name, _, seal = cookie.partition("=")
    flipped = "A" if seal[-5] != "A" else "B"
    return f"{name}={seal[:-5]}{flipped}{seal[-4:]}"


def _session(replies: list[Reply]) -> None:
    made, read, tampered, cleared = replies
    assert made.status == 200, made.body
    session_id = made.json()["id"]
    assert made.json() == {"id": session_id, "data": {"name": "Ada"}}
    attributes = {a.strip().lower() for a in made.header("set-cookie").split(";")[1:]}  # type: ignore[union-attr]
    assert {"httponly", "samesite=lax", "path=/", "max-age=3600"} <= attributes, attributes
    # the cookie sent back: the same session, and nothing to set again
    assert read.json() == {"id": session_id, "data": {"name": "Ada"}}
    assert read.all("set-cookie") == []
    # a tampered cookie: a fresh, empty session (never an error)
    assert tampered.status == 200
    assert tampered.json()["data"] == {} and tampered.json()["id"] != session_id
    assert _session_cookie(tampered) != _session_cookie(made)
    # clear(): empty, and the cookie deleted
    assert cleared.json() == {"id": "", "data": {}}
    deleted = cleared.header("set-cookie") or ""
    assert deleted.startswith("nitro=") and "max-age=0" in deleted.lower(), deleted


def _session_case() -> Case:
    def cookie_of_first(replies: list[Reply]) -> tuple[tuple[str, str], ...]:
        return (("cookie", f"theme=dark; {_session_cookie(replies[0])}"),)

    return Case(
        "session",
        (
            Request("POST", "/session", JSON, b'{"name": "Ada"}'),
            lambda replies: Request("GET", "/session", cookie_of_first(replies)),
            lambda replies: Request(
                "GET", "/session", (("cookie", _tampered(_session_cookie(replies[0]))),)
            ),
            lambda replies: Request("DELETE", "/session", cookie_of_first(replies)),
        ),
        _session,
    )


def _basic(credentials: bytes) -> tuple[tuple[str, str], ...]:
    return (("authorization", "Basic " + base64.b64encode(credentials).decode()),)


def _basic_auth(replies: list[Reply]) -> None:
    missing, right, wrong, no_colon, bad_base64, not_utf8 = replies
    assert right.status == 200 and right.json() == {"user": "ada"}
    for reply in (missing, wrong, no_colon, bad_base64, not_utf8):
        assert reply.status == 401, reply.body
        assert reply.header("www-authenticate") == 'Basic realm="fixture vault"'
        assert reply.json()["status"] == 401


def _conditional_get(replies: list[Reply]) -> None:
    first, again = replies
    assert first.status == 200 and first.json() == {"version": 1}
    assert first.header("etag") == '"v1"'
    assert first.header("cache-control") == "public, max-age=60, s-maxage=60"
    assert again.status == 304 and again.body == b""
    assert again.header("etag") == '"v1"'


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
    _session_case(),
    Case(
        "basic-auth",
        (
            Request("GET", "/vault"),
            Request("GET", "/vault", _basic(b"ada:lovelace:1815")),
            Request("GET", "/vault", _basic(b"ada:babbage")),
            Request("GET", "/vault", _basic(b"ada")),
            Request("GET", "/vault", (("authorization", "Basic !!not base64!!"),)),
            Request("GET", "/vault", _basic(b"ada:\xff\xfe")),
        ),
        _basic_auth,
    ),
    Case(
        "conditional-get",
        (Request("GET", "/fresh"), Request("GET", "/fresh", (("if-none-match", '"v1"'),))),
        _conditional_get,
    ),
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
