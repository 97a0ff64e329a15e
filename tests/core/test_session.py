"""Sessions in a sealed cookie: `use_session` and friends, in-process.

The same behaviour through every platform entry is the suite's "session" case
(tests/adapters/suite.py).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nitro import (
    NitroApp,
    clear_session,
    define_handler,
    get_session,
    read_body,
    update_session,
    use_session,
)
from nitro.core.event import Event
from nitro.core.utils import session as session_module
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio

PASSWORD = "correct-horse-battery-staple-0123456789"
OTHER = "another-password-of-at-least-32-chars"


def session_app(**options: Any) -> NitroApp:
    """/s: GET reads the session, POST merges the JSON body, DELETE clears it."""
    options.setdefault("password", PASSWORD)

    async def handler(event: Event) -> Any:
        session = await use_session(event, **options)
        if event.method == "POST":
            await session.update(await read_body(event))
        elif event.method == "DELETE":
            await session.clear()
        return {"id": session.id, "data": session.data, "created_at": session.created_at}

    app = NitroApp()
    app.add_route("/s", define_handler(handler))
    return app


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")[1:]]
    return {k.lower(): v for k, _, v in (p.partition("=") for p in parts)}


def cookie_value(response: httpx.Response, name: str = "nitro") -> str:
    (cookie,) = [c for c in set_cookies(response) if c.startswith(f"{name}=")]
    return cookie.split(";", 1)[0].partition("=")[2]


class Clock:
    """Stands in for the `time` module in session.py."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(session_module, "time", fake)
    return fake


async def test_a_session_lives_in_one_sealed_cookie() -> None:
    async with TestClient(session_app()) as client:
        made = await client.post("/s", json={"user": "ada", "roles": ["admin"]})
        read = await client.get("/s")
    assert made.status_code == 200
    session = made.json()
    assert session["data"] == {"user": "ada", "roles": ["admin"]}
    assert len(session["id"]) == 36 and session["created_at"] > 0  # a UUID, epoch seconds
    assert read.json() == session
    assert set_cookies(read) == []  # reading does not seal again
    (cookie,) = set_cookies(made)
    assert cookie.startswith("nitro=n1.")
    assert "ada" not in cookie  # encrypted, not just signed
    assert attributes(cookie) == {"httponly": "", "path": "/", "samesite": "Lax"}


async def test_a_fresh_session_sets_its_cookie_at_once_as_h3_does() -> None:
    async with TestClient(session_app()) as client:
        first = await client.get("/s")
        second = await client.get("/s")
    assert first.json()["data"] == {} and len(set_cookies(first)) == 1
    assert second.json()["id"] == first.json()["id"]  # the id survives the first request
    assert set_cookies(second) == []


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [
        ("http://localhost:3000", False),
        ("http://127.0.0.1:3000", False),
        ("http://[::1]:3000", False),
        ("http://app.localhost", False),
        ("https://localhost", True),
        ("https://example.com", True),
        # plain HTTP to a real host: a TLS-terminating proxy in front of the app
        ("http://example.com", True),
        ("http://localhost.example.com", True),
    ],
)
async def test_cookies_are_secure_unless_plain_http_on_localhost(
    base_url: str, secure: bool
) -> None:
    async with TestClient(session_app(), base_url=base_url) as client:
        response = await client.get("/s")
    assert ("secure" in attributes(set_cookies(response)[0])) is secure


async def test_cookie_options_override_the_defaults() -> None:
    app = session_app(
        name="app-session",
        cookie={
            "secure": True,
            "http_only": False,
            "same_site": "Strict",
            "path": "/app",
            "domain": "example.com",
        },
    )
    async with TestClient(app) as client:
        response = await client.get("/s")
    assert attributes(set_cookies(response)[0]) == {
        "secure": "",
        "path": "/app",
        "samesite": "Strict",
        "domain": "example.com",
    }
    assert set_cookies(response)[0].startswith("app-session=")


async def test_unknown_cookie_options_and_bad_max_age_are_errors() -> None:
    event = _event()
    with pytest.raises(ValueError, match=r"unknown cookie option.*'httponly'"):
        await use_session(event, password=PASSWORD, cookie={"httponly": True})
    with pytest.raises(ValueError, match="max_age must be positive"):
        await use_session(event, password=PASSWORD, max_age=0)


async def test_a_short_password_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\[nitro:session\] password must be at least 32"):
        await use_session(_event(), password="too-short")


async def test_max_age_counts_from_the_last_seal_with_one_second_of_skew(clock: Clock) -> None:
    async with TestClient(session_app(max_age=60)) as client:
        made = await client.post("/s", json={"n": 1})
        assert attributes(set_cookies(made)[0])["max-age"] == "60"
        clock.now += 60.9  # past max_age, within the tolerated skew
        assert (await client.get("/s")).json()["data"] == {"n": 1}
        updated = await client.post("/s", json={"n": 2})  # seals again: the clock restarts
        assert updated.json()["id"] == made.json()["id"]
        clock.now += 60.9
        assert (await client.get("/s")).json()["data"] == {"n": 2}
        clock.now += 0.2  # 61.1 s after the last seal
        expired = await client.get("/s")
    assert expired.status_code == 200
    assert expired.json()["data"] == {} and expired.json()["id"] != made.json()["id"]


async def test_rotating_passwords() -> None:
    async with TestClient(session_app(password=OTHER)) as old:
        sealed_with_old = cookie_value(await old.post("/s", json={"user": "ada"}))
    rotated = session_app(password=[PASSWORD, OTHER])
    async with TestClient(rotated, cookies={"nitro": sealed_with_old}) as client:
        read = await client.get("/s")
        assert read.json()["data"] == {"user": "ada"}  # the old password still unseals
        resealed = cookie_value(await client.post("/s", json={"n": 1}))
    async with TestClient(session_app(password=PASSWORD), cookies={"nitro": resealed}) as client:
        assert (await client.get("/s")).json()["data"] == {"user": "ada", "n": 1}
    async with TestClient(session_app(password=OTHER), cookies={"nitro": resealed}) as client:
        assert (await client.get("/s")).json()["data"] == {}  # the new seal is not the old key's


async def _seal_of(app: NitroApp, name: str = "nitro") -> str:
    async with TestClient(app) as client:
        return cookie_value(await client.post("/s", json={"user": "ada"}), name)


async def bad_cookies() -> dict[str, str]:
    valid = await _seal_of(session_app())
    _, key_id, body = valid.split(".")
    return {
        "random bytes": "".join(map(chr, range(33, 127))).replace(";", "").replace(",", ""),
        "random base64": "n1." + key_id + "." + base64.urlsafe_b64encode(b"\x00" * 64).decode(),
        "truncated": valid[: len(valid) // 2],
        "one char short": valid[:-1],
        "flipped": valid[:-6] + ("A" if valid[-6] != "A" else "B") + valid[-5:],
        "another password": await _seal_of(session_app(password=OTHER)),
        "another session name": await _seal_of(session_app(name="other"), "other"),
        "unknown version": "n9." + key_id + "." + body,
        "huge": valid + "A" * 8000,
        "empty": "",
        "dots": "...",
    }


async def test_tampered_truncated_and_foreign_cookies_give_a_fresh_session() -> None:
    for label, value in (await bad_cookies()).items():
        async with TestClient(session_app()) as client:
            response = await client.get("/s", headers={"cookie": f"theme=dark; nitro={value}"})
        assert response.status_code == 200, label
        assert response.json()["data"] == {}, label
        assert len(set_cookies(response)) == 1, label  # a fresh session's cookie


async def test_a_huge_cookie_header_is_a_fresh_session() -> None:
    app = session_app()
    async with TestClient(app) as client:
        response = await client.get("/s", headers={"cookie": "nitro=" + "x" * 100_000})
    assert response.status_code == 200 and response.json()["data"] == {}


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_no_cookie_header_makes_reading_a_session_fail(header: bytes) -> None:
    import anyio

    async def read() -> Any:
        event = _event(headers=[(b"cookie", header)])
        return await get_session(event, password=PASSWORD)

    session = anyio.run(read)
    assert session.data == {} and session.id


async def test_sessions_over_4_kb_are_an_error_that_says_so() -> None:
    event = _event()
    session = await use_session(event, password=PASSWORD)
    with pytest.raises(ValueError, match=r"would be \d+ bytes, over the 4096 browsers keep"):
        await session.update({"blob": "x" * 4000})
    async with TestClient(session_app()) as client:
        response = await client.post("/s", json={"blob": "x" * 4000})
    assert response.status_code == 500  # a bug in the app, not the client's fault
    assert set_cookies(response) == []


async def test_session_data_must_be_json() -> None:
    session = await use_session(_event(), password=PASSWORD)
    with pytest.raises(TypeError, match=r"\[nitro:session\] session data must be JSON"):
        await session.update({"when": object()})


async def test_one_session_object_per_request_and_the_functional_helpers() -> None:
    event = _event()
    first = await use_session(event, password=PASSWORD)
    assert await get_session(event, password=PASSWORD) is first
    await update_session(event, {"a": 1}, password=PASSWORD)
    await update_session(event, lambda data: {"b": data["a"] + 1}, password=PASSWORD)
    assert first.data == {"a": 1, "b": 2}
    staged = [v for n, v in event.res.raw_headers if n == b"set-cookie"]
    assert len(staged) == 1  # the latest seal replaced the earlier ones
    await clear_session(event, password=PASSWORD)
    assert first.data == {} and first.id == ""
    staged = [v.decode() for n, v in event.res.raw_headers if n == b"set-cookie"]
    assert len(staged) == 1 and "Max-Age=0" in staged[0]
    again = await get_session(event, password=PASSWORD)  # a new session after clearing
    assert again is not first and again.id and again.data == {}


async def test_a_cleared_session_can_start_again() -> None:
    event = _event()
    session = await use_session(event, password=PASSWORD)
    old_id = session.id
    await session.clear()
    await session.update({"user": "bob"})
    assert session.id and session.id != old_id
    assert await get_session(event, password=PASSWORD) is session


async def test_clear_session_without_a_loaded_session_deletes_the_cookie() -> None:
    event = _event()
    await clear_session(event, name="other", cookie={"path": "/app"})
    (staged,) = [v.decode() for n, v in event.res.raw_headers if n == b"set-cookie"]
    assert staged.startswith("other=") and "Max-Age=0" in staged and "Path=/app" in staged


async def test_a_session_survives_an_error_response_unchanged() -> None:
    # A handler that fails after update(): the error response carries no half-made cookie.
    async def failing(event: Event) -> Any:
        session = await use_session(event, password=PASSWORD)
        await session.update({"half": True})
        raise RuntimeError("boom")

    app = session_app()
    app.add_route("/fail", define_handler(failing))
    async with TestClient(app) as client:
        await client.post("/s", json={"user": "ada"})
        assert (await client.get("/fail")).status_code == 500
        assert (await client.get("/s")).json()["data"] == {"user": "ada"}


def test_importing_nitro_and_naming_use_session_load_no_cryptography() -> None:
    code = (
        "import json, sys, nitro; nitro.use_session; nitro.basic_auth; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('cryptography'))))"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    assert loaded == []


def _event(headers: list[tuple[bytes, bytes]] | None = None) -> Event:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "scheme": "http",
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 5000),
    }

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    return Event(_APP, scope, receive, send)


_APP = NitroApp()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["nitro", " nitro", "nitro ", "theme", "nitro2", "xnitro", ""]),
            st.sampled_from(["=", ""]),
            st.text(alphabet='ab-_.= "', max_size=12),
        ),
        max_size=6,
    )
)
def test_the_session_reads_its_cookie_as_get_cookie_does(parts: list[tuple[str, str, str]]) -> None:
    from starlette.requests import cookie_parser

    header = ";".join(f"{name}{eq}{value}" for name, eq, value in parts)
    event = _event(headers=[(b"cookie", header.encode())])
    expected = cookie_parser(header).get("nitro")
    assert session_module._cookie(event, "nitro") == expected
