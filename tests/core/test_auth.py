"""HTTP Basic auth: `basic_auth` middleware and `require_basic_auth`, in-process.

Through every platform entry it is the suite's "basic-auth" case.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nitro import (
    NitroApp,
    basic_auth,
    define_cached_handler,
    define_handler,
    require_basic_auth,
)
from nitro.core.storage import Storage
from nitro.core.utils.auth import _credentials
from nitro.storage_drivers.memory import MemoryDriver
from nitro.testing import TestClient

from helpers import cached_admin_project

pytestmark = pytest.mark.anyio


def basic(credentials: bytes | str) -> dict[str, str]:
    raw = credentials.encode() if isinstance(credentials, str) else credentials
    return {"authorization": "Basic " + base64.b64encode(raw).decode()}


def assert_challenged(response: httpx.Response, realm: str = "nitro") -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == f'Basic realm="{realm}"'
    assert response.json()["status"] == 401
    assert response.headers["cache-control"] == "no-store"


def whoami(event: Any) -> dict[str, Any]:
    return {"auth": event.context.basic_auth}


def guarded_app(**options: Any) -> NitroApp:
    options.setdefault("password", "s3cret:with:colons")
    app = NitroApp(middleware=[basic_auth(**options)])
    app.add_route("/me", define_handler(whoami))
    return app


async def test_middleware_lets_the_right_credentials_through() -> None:
    async with TestClient(guarded_app(username="ada")) as client:
        response = await client.get("/me", headers=basic("ada:s3cret:with:colons"))
    assert response.json() == {"auth": {"username": "ada", "realm": "nitro"}}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("ada:wrong"),
        basic("bob:s3cret:with:colons"),
        basic("ada:s3cret:with:colon"),
        basic("ada"),  # no colon
        basic(":s3cret:with:colons"),  # no user name
        basic(b"ada:\xff\xfe\xfd"),  # not UTF-8
        {"authorization": "Basic !!!not-base64!!!"},
        {"authorization": "Basic YWRh=OnM"},  # padding in the middle
        {"authorization": "Basic"},
        {"authorization": "Bearer YWRhOnMzY3JldA=="},
        {"authorization": "Basic " + "A" * 20_000},
    ],
    ids=lambda h: h.get("authorization", "none")[:40],
)
async def test_missing_malformed_or_wrong_credentials_are_401(headers: dict[str, str]) -> None:
    async with TestClient(guarded_app(username="ada", realm='ops "east"')) as client:
        response = await client.get("/me", headers=headers)
    assert_challenged(response, realm='ops \\"east\\"')


async def test_utf8_credentials_and_a_case_insensitive_scheme() -> None:
    async with TestClient(guarded_app(username="zoë", password="pässwörd")) as client:
        header = basic("zoë:pässwörd")["authorization"].replace("Basic", "bAsIc")
        response = await client.get("/me", headers={"authorization": header})
    assert response.json()["auth"]["username"] == "zoë"


async def test_require_basic_auth_in_a_handler_with_a_validate_function() -> None:
    users = {"ada": "lovelace", "alan": "turing"}

    async def handler(event: Any) -> Any:
        await require_basic_auth(
            event, validate=lambda user, password: users.get(user) == password, realm="team"
        )
        return event.context.basic_auth["username"]

    app = NitroApp()
    app.add_route("/", define_handler(handler))
    async with TestClient(app) as client:
        assert (await client.get("/", headers=basic("alan:turing"))).text == "alan"
        assert_challenged(await client.get("/", headers=basic("alan:lovelace")), "team")


async def test_an_async_validate_function_is_awaited() -> None:
    async def validate(user: str, password: str) -> bool:
        return (user, password) == ("ada", "pw")

    app = guarded_app(password=None, validate=validate)
    async with TestClient(app) as client:
        assert (await client.get("/me", headers=basic("ada:pw"))).status_code == 200
        assert_challenged(await client.get("/me", headers=basic("ada:nope")))


def test_options_are_checked_when_the_middleware_is_made() -> None:
    with pytest.raises(ValueError, match=r"\[nitro:basic-auth\] give a password"):
        basic_auth(username="ada")
    with pytest.raises(ValueError, match="realm must be printable ASCII"):
        basic_auth(password="x", realm="line\nbreak")


async def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    async with TestClient(guarded_app(username="ada", password="pw")) as client:
        assert_challenged(await client.get("/me", headers=basic("bob:pw")))
    # the password is compared even though the user name was already wrong
    assert compared == [(b"bob", b"ada"), (b"pw", b"pw")]


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_authorization_header_parses_or_is_refused(raw: bytes) -> None:
    header = raw.decode("latin-1")
    for value in (header, "Basic " + header, "Basic " + base64.b64encode(raw).decode()):
        parsed = _credentials(value)
        assert parsed is None or (isinstance(parsed[0], str) and parsed[0])


# --- a 401 is never cached ---


def cache_storage() -> Storage:
    storage = Storage()
    storage.mount("cache", MemoryDriver())
    return storage


async def test_a_401_is_never_cached_by_a_route_rule_cache() -> None:
    calls = []

    def handler(event: Any) -> dict[str, int]:
        calls.append(1)
        return {"secret": 42}

    app = NitroApp(
        middleware=[basic_auth(username="ada", password="pw")],
        storage=cache_storage(),
        route_rules={"/secret": {"cache": {"max_age": 60}}},
    )
    app.add_route("/secret", define_handler(handler))
    async with TestClient(app) as client:
        assert_challenged(await client.get("/secret"))
        assert (await client.get("/secret", headers=basic("ada:pw"))).json() == {"secret": 42}
        assert (await client.get("/secret", headers=basic("ada:pw"))).json() == {"secret": 42}
        # cached now, and still: no credentials, no answer
        assert_challenged(await client.get("/secret"))
        assert_challenged(await client.get("/secret", headers=basic("ada:no")))
    assert len(calls) == 1


async def test_a_401_is_never_cached_by_a_cached_handler() -> None:
    calls = []

    @define_cached_handler(max_age=60, varies=["authorization"])
    async def handler(event: Any) -> Any:
        await require_basic_auth(event, username="ada", password="pw")
        calls.append(1)
        return {"secret": 42}

    app = NitroApp(storage=cache_storage())
    app.add_route("/secret", handler)
    async with TestClient(app) as client:
        for _ in range(2):
            assert_challenged(await client.get("/secret"))
            assert_challenged(await client.get("/secret", headers=basic("ada:no")))
        assert (await client.get("/secret", headers=basic("ada:pw"))).json() == {"secret": 42}
        assert (await client.get("/secret", headers=basic("ada:pw"))).json() == {"secret": 42}
        assert_challenged(await client.get("/secret"))
    assert len(calls) == 1  # the good answer was cached, no 401 ever was


async def test_folder_middleware_runs_before_a_route_rule_cache(tmp_path: Any) -> None:
    # The cache hands the handler a copy of the request without its Authorization
    # header; the folder's auth middleware must see the real request, before the cache.
    project = cached_admin_project(
        tmp_path,
        "from nitro import basic_auth\n\nhandler = basic_auth(username='ada', password='pw')\n",
    )
    async with TestClient(project) as client:
        assert_challenged(await client.get("/admin"))
        assert (await client.get("/admin", headers=basic("ada:pw"))).json() == {"calls": 1}
        assert (await client.get("/admin", headers=basic("ada:pw"))).json() == {"calls": 1}
        assert_challenged(await client.get("/admin"))  # a cache hit, still guarded


async def test_a_handlers_own_middleware_runs_before_a_route_rule_cache() -> None:
    calls = []

    def handler(event: Any) -> dict[str, int]:
        calls.append(1)
        return {"calls": len(calls)}

    app = NitroApp(storage=cache_storage(), route_rules={"/r": {"cache": {"max_age": 60}}})
    app.add_route(
        "/r", define_handler(handler, middleware=[basic_auth(username="ada", password="pw")])
    )
    async with TestClient(app) as client:
        assert_challenged(await client.get("/r"))
        assert (await client.get("/r", headers=basic("ada:pw"))).json() == {"calls": 1}
        assert_challenged(await client.get("/r"))
        assert (await client.get("/r", headers=basic("ada:pw"))).json() == {"calls": 1}
