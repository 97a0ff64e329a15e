"""Route rules: matching and merging, and each rule's effect on requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nitro import HTTPError, NitroApp, define_handler, define_middleware
from nitro.core.route_rules import RouteRules, apply_tail
from nitro.core.storage import Storage
from nitro.storage_drivers.memory import MemoryDriver
from nitro.testing import TestClient

from helpers import cached_admin_project, raw_asgi, serve_in_thread

pytestmark = pytest.mark.anyio


def test_rules_merge_from_least_to_most_specific() -> None:
    rules = RouteRules(
        {
            "/**": {"headers": {"x-site": "1", "x-level": "root"}, "cors": True},
            "/blog/**": {"headers": {"x-level": "blog"}, "swr": 60},
            "/blog/drafts/**": {"swr": False, "cors": False},
            "/blog/:slug": {"headers": {"x-one": "post"}},
            "POST /blog/**": {"headers": {"x-level": "post-method"}},
        }
    )
    assert rules.get("GET", "/blog/hello") == {
        "headers": {"x-site": "1", "x-level": "blog", "x-one": "post"},
        "cors": {},
        "swr": 60,
    }
    assert rules.get("GET", "/blog/drafts/x") == {"headers": {"x-site": "1", "x-level": "blog"}}
    assert rules.get("POST", "/blog/x")["headers"]["x-level"] == "post-method"
    assert rules.get("HEAD", "/about")["headers"] == {"x-site": "1", "x-level": "root"}
    assert RouteRules({"/blog/**": {"x": 1}}).get("GET", "/blog") == {
        "x": 1
    }  # ** matches zero segments


def test_alternative_readings_of_a_path_cannot_dodge_a_rule() -> None:
    rules = RouteRules({"/admin/**": {"headers": {"x-admin": "1"}}})
    for path in ("/admin/x", "//admin/x", "/admin%2Fx", "/%2Fadmin/x"):
        assert rules.get("GET", path) == {"headers": {"x-admin": "1"}}, path


@pytest.mark.parametrize(
    ("target", "tail", "query", "expected"),
    [
        ("/new/**", "a/b", "", "/new/a/b"),
        ("/new/**", "", "", "/new"),
        ("/new/**?from=old", "x", "q=1", "/new/x?from=old&q=1"),
        (
            "https://example.com/api/**",
            "v1/users",
            "page=2",
            "https://example.com/api/v1/users?page=2",
        ),
        ("/**", "/evil.example/path", "", "/evil.example/path"),  # never //evil.example
        ("/new/**", "%2Fetc", "", "/new/%2Fetc"),  # stays encoded: one segment
    ],
)
def test_apply_tail(target: str, tail: str, query: str, expected: str) -> None:
    assert apply_tail(target, tail, query) == expected


@pytest.mark.parametrize(
    "tail", ["../admin", "a/../../b", "%2e%2e/x", "..%2fsecret", "%252e%252e/x", "a\\..\\b"]
)
def test_tails_that_could_climb_out_are_400(tail: str) -> None:
    with pytest.raises(HTTPError) as info:
        apply_tail("/new/**", tail, "")
    assert info.value.status == 400


def app_with_rules(rules: dict[str, Any], **routes: Any) -> NitroApp:
    app = NitroApp(route_rules=rules, storage=Storage().mount("cache", MemoryDriver()))
    for path, handler in routes.items():
        app.add_route("/" + path.replace("__", "/"), handler)
    return app


async def test_headers_rule_applies_to_every_final_response_but_not_preflight() -> None:
    app = app_with_rules(
        {
            "/**": {
                "headers": {"x-frame-options": "DENY", "cache-control": "no-store"},
                "cors": True,
            }
        },
        ok=lambda event: {"ok": True},
        boom=lambda event: 1 / 0,
    )
    async with TestClient(app) as client:
        ok = await client.get("/ok", headers={"origin": "https://a.example"})
        assert (
            ok.headers["x-frame-options"] == "DENY"
            and ok.headers["access-control-allow-origin"] == "*"
        )
        failed = await client.get("/boom", headers={"origin": "https://a.example"})
        assert failed.status_code == 500 and failed.headers["x-frame-options"] == "DENY"
        assert failed.headers["cache-control"] == "no-store"
        assert failed.headers["access-control-allow-origin"] == "*"  # browsers can read the error
        missing = await client.get("/nope")
        assert missing.status_code == 404 and missing.headers["x-frame-options"] == "DENY"
        preflight = await client.options(
            "/ok", headers={"origin": "https://a.example", "access-control-request-method": "PUT"}
        )
        assert preflight.status_code == 204
        assert "x-frame-options" not in preflight.headers


# --- CORS: a preflight is judged by the rules of the method it asks about ---

README_RULES: dict[str, Any] = {
    "/**": {"headers": {"x-frame-options": "DENY"}},
    "/api/**": {"cors": True, "headers": {"cache-control": "no-store"}},
    "POST /api/**": {"cors": {"origin": ["https://app.example"], "credentials": True}},
}
SAFELISTED_METHODS = {"GET", "HEAD", "POST"}


def _browser_allows(response: httpx.Response, origin: str, credentials: bool) -> bool:
    """The Fetch spec's CORS check of one response."""
    allowed = response.headers.get("access-control-allow-origin")
    if credentials:
        return (
            allowed == origin and response.headers.get("access-control-allow-credentials") == "true"
        )
    return allowed in ("*", origin)


def _preflight_allows(
    response: httpx.Response, origin: str, method: str, headers: list[str], credentials: bool
) -> bool:
    """Whether a browser goes on to send the request after this preflight answer."""
    if not 200 <= response.status_code < 300 or not _browser_allows(response, origin, credentials):
        return False
    listed = response.headers.get("access-control-allow-methods", "")
    methods = [m.strip() for m in listed.split(",") if m.strip()]
    wildcard = "*" in methods and not credentials  # with credentials "*" is a method name
    if method not in methods and method not in SAFELISTED_METHODS and not wildcard:
        return False
    listed = response.headers.get("access-control-allow-headers", "")
    names = [h.strip().lower() for h in listed.split(",") if h.strip()]
    return all(
        name in names or ("*" in names and not credentials and name != "authorization")
        for name in headers
    )


async def _cross_origin(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    origin: str,
    *,
    credentials: bool = False,
    headers: tuple[str, ...] = ("content-type",),
) -> httpx.Response | None:
    """What a browser does for a non-simple cross-origin request: the preflight, then
    the request itself; None when the browser refuses it."""
    preflight = await client.options(
        path,
        headers={
            "origin": origin,
            "access-control-request-method": method,
            "access-control-request-headers": ", ".join(headers),
        },
    )
    if not _preflight_allows(preflight, origin, method, list(headers), credentials):
        return None
    extra = {name: "application/json" if name == "content-type" else "1" for name in headers}
    response = await client.request(method, path, headers={"origin": origin, **extra})
    return response if _browser_allows(response, origin, credentials) else None


def _cors_app(rules: dict[str, Any]) -> NitroApp:
    app = app_with_rules(rules)
    app.add_route("/api/items", lambda event: {"method": event.method})
    return app


async def test_a_preflight_follows_the_cors_rule_of_the_method_it_asks_about() -> None:
    async with TestClient(_cors_app(README_RULES)) as client:
        # The README's promise: a credentialed POST from the app's origin.
        posted = await _cross_origin(
            client, "POST", "/api/items", "https://app.example", credentials=True
        )
        assert posted is not None and posted.json() == {"method": "POST"}
        preflight = await client.options(
            "/api/items",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "x-frame-options" not in preflight.headers  # rule headers skip preflights
        # Another origin gets no credentialed POST; other methods keep the "/api/**" rule.
        assert (
            await _cross_origin(
                client, "POST", "/api/items", "https://evil.example", credentials=True
            )
            is None
        )
        put = await _cross_origin(client, "PUT", "/api/items", "https://evil.example")
        assert put is not None and put.headers["access-control-allow-origin"] == "*"
        preflight = await client.options(
            "/api/items",
            headers={"origin": "https://evil.example", "access-control-request-method": "PUT"},
        )
        assert "access-control-allow-credentials" not in preflight.headers


async def test_method_scoped_cors_alone_and_a_method_scoped_reset() -> None:
    rules = {
        "PUT /api/**": {"cors": {"origin": ["https://app.example"], "credentials": True}},
        "/api/**": {"cors": True},
        "DELETE /api/**": {"cors": False},
    }
    async with TestClient(_cors_app(rules)) as client:
        # "*" methods with credentials would refuse a PUT: the preflight names it.
        put = await _cross_origin(
            client, "PUT", "/api/items", "https://app.example", credentials=True
        )
        assert put is not None and put.json() == {"method": "PUT"}
        assert await _cross_origin(client, "DELETE", "/api/items", "https://a.example") is None
        deleted = await client.options(
            "/api/items",
            headers={"origin": "https://a.example", "access-control-request-method": "DELETE"},
        )
        assert "access-control-allow-origin" not in deleted.headers
        # An OPTIONS request that is not a preflight is an ordinary request.
        plain = await client.options("/api/items", headers={"origin": "https://a.example"})
        assert plain.json() == {"method": "OPTIONS"}
        assert plain.headers["access-control-allow-origin"] == "*"
    only_scoped = {"POST /api/**": {"cors": {"origin": ["https://app.example"]}}}
    async with TestClient(_cors_app(only_scoped)) as client:
        # No rule names OPTIONS at all, yet the POST's preflight is answered.
        posted = await _cross_origin(client, "POST", "/api/items", "https://app.example")
        assert posted is not None and posted.json() == {"method": "POST"}
        assert await _cross_origin(client, "PATCH", "/api/items", "https://app.example") is None


def test_vercel_leaves_cors_to_the_function() -> None:
    """The Vercel preset emits no CORS headers of its own (they depend on the request's
    origin and the preflight's method): preflights reach the function, which answers
    them by the rules above, and the CDN adds no access-control header to the answer."""
    from nitro.presets.vercel.preview import VercelRouter
    from nitro.presets.vercel.routes import build_config

    config = build_config(README_RULES, {}, [])
    for route in config["routes"]:
        assert not any(
            name.lower().startswith("access-control-") for name in route.get("headers", {})
        )
    decision = VercelRouter(config, Path("/nonexistent")).decide("OPTIONS", "/api/items")
    assert decision.kind == "function"
    assert not any(name.startswith("access-control-") for name in decision.headers)


async def test_redirect_rules() -> None:
    app = app_with_rules(
        {
            "/old/**": {"redirect": "/new/**"},
            "/legacy": {"redirect": {"to": "/modern", "status": 301}},
            "/go/**": {"redirect": "/**"},
        }
    )
    async with TestClient(app) as client:
        moved = await client.get("/old/a/b?x=1")
        assert moved.status_code == 307 and moved.headers["location"] == "/new/a/b?x=1"
        legacy = await client.get("/legacy")
        assert legacy.status_code == 301 and legacy.headers["location"] == "/modern"
    for target in (b"/go//evil.example", b"/go/%2F%2Fevil.example", b"/go/\\\\evil.example"):
        status, _ = await raw_asgi(app, target)
        # never a redirect to another host: either a path of this site or refused
        assert status in (307, 400)
    status, _ = await raw_asgi(app, b"/old/..%2F..%2Fadmin")
    assert status == 400


async def test_open_redirect_attempts_stay_on_this_host() -> None:
    app = app_with_rules({"/go/**": {"redirect": "/**"}})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/go//evil.example",
        "raw_path": b"/go//evil.example",
        "query_string": b"",
        "headers": [],
    }
    await app(scope, receive, send)
    location = dict(sent[0]["headers"])[b"location"].decode()
    assert not location.startswith("//") and location == "/evil.example"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(
            {"path": request.url.path, "query": request.url.query}, headers={"x-upstream": "yes"}
        )

    app = Starlette(routes=[Route("/{path:path}", echo)])
    with serve_in_thread(app) as url:
        yield url


async def test_proxy_to_an_external_upstream(upstream: str) -> None:
    app = app_with_rules({"/ext/**": {"proxy": f"{upstream}/api/**"}})
    async with TestClient(app) as client:
        response = await client.get("/ext/users/1?full=1")
    assert response.json() == {"path": "/api/users/1", "query": "full=1"}
    assert response.headers["x-upstream"] == "yes"


async def test_proxy_to_an_internal_path_is_served_in_process() -> None:
    app = app_with_rules(
        {"/v1/**": {"proxy": "/api/**"}, "/loop/**": {"proxy": "/loop/**"}},
        api__hello=lambda event: {"hello": event.pathname},
    )
    async with TestClient(app) as client:
        assert (await client.get("/v1/hello")).json() == {"hello": "/api/hello"}
        assert (await client.get("/loop/x")).status_code == 508


async def test_proxy_failures_are_502_and_504(httpx_mock: Any) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url="https://down.example/x")
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url="https://slow.example/x")
    app = app_with_rules(
        {
            "/down/**": {"proxy": "https://down.example/**"},
            "/slow/**": {"proxy": "https://slow.example/**"},
        }
    )
    async with TestClient(app) as client:
        assert (await client.get("/down/x")).status_code == 502
        assert (await client.get("/slow/x")).status_code == 504


async def test_cache_and_swr_rules_cache_the_matched_route() -> None:
    calls = {"a": 0, "b": 0}

    def counter(name: str) -> Any:
        def handler(event: Any) -> dict[str, int]:
            calls[name] += 1
            return {name: calls[name]}

        return handler

    app = app_with_rules(
        {"/a": {"cache": {"max_age": 60, "swr": False}}, "/b": {"swr": 60}},
        a=counter("a"),
        b=counter("b"),
    )
    async with TestClient(app) as client:
        for _ in range(3):
            await client.get("/a")
            cached = await client.get("/b")
    assert calls == {"a": 1, "b": 1}
    assert cached.headers["cache-control"] == "s-maxage=60, stale-while-revalidate"
    keys = await app.storage.get_keys("cache")
    assert keys and all(k.startswith("cache:nitro:route-rules:") for k in keys)


async def test_context_exposes_the_merged_rules() -> None:
    app = app_with_rules(
        {"/x": {"custom": {"flag": True}, "isr": 60}}, x=lambda event: event.context.route_rules
    )
    async with TestClient(app) as client:
        assert (await client.get("/x")).json() == {"custom": {"flag": True}, "isr": 60}


# --- a cache rule sits behind the route's middleware ---


async def test_a_cache_hit_never_skips_folder_middleware(tmp_path: Any) -> None:
    # Folder middleware deciding from what the cache key ignores (the client's
    # address here; a session or a token elsewhere): a hit must not bypass it.
    project = cached_admin_project(
        tmp_path,
        "from nitro import HTTPError, define_middleware\n\n"
        "@define_middleware\n"
        "def handler(event):\n"
        "    if event.client.host != '10.0.0.1':\n"
        "        raise HTTPError(403)\n",
    )
    async with TestClient(project, client=("10.0.0.1", 5000)) as admin:
        assert (await admin.get("/admin")).json() == {"calls": 1}
        assert (await admin.get("/admin")).json() == {"calls": 1}  # cached
    async with TestClient(admin.app, client=("203.0.113.9", 5000)) as guest:
        assert (await guest.get("/admin")).status_code == 403


async def test_folder_middleware_sees_the_real_request_behind_a_cache_rule(tmp_path: Any) -> None:
    # The cached handler gets a copy of the request with only the `varies` headers;
    # middleware checking a header must run before that, on the real request.
    project = cached_admin_project(
        tmp_path,
        "from nitro import HTTPError, define_middleware\n\n"
        "@define_middleware\n"
        "def handler(event):\n"
        "    if event.headers.get('x-key') != 'k':\n"
        "        raise HTTPError(401)\n",
    )
    async with TestClient(project) as client:
        assert (await client.get("/admin")).status_code == 401
        assert (await client.get("/admin", headers={"x-key": "k"})).json() == {"calls": 1}
        assert (await client.get("/admin", headers={"x-key": "k"})).json() == {"calls": 1}
        assert (await client.get("/admin")).status_code == 401


async def test_a_handlers_own_middleware_runs_before_a_cache_rule() -> None:
    calls = []

    @define_middleware
    def require_key(event: Any) -> None:
        if event.headers.get("x-key") != "k":
            raise HTTPError(401)

    def handler(event):  # type: ignore[no-untyped-def]  # unannotated: a sync handler's plain form
        calls.append(1)
        return {"calls": len(calls)}

    app = NitroApp(
        route_rules={"/r": {"cache": {"max_age": 60}}},
        storage=Storage().mount("cache", MemoryDriver()),
    )
    app.add_route("/r", define_handler(handler, middleware=[require_key]))
    async with TestClient(app) as client:
        assert (await client.get("/r")).status_code == 401
        assert (await client.get("/r", headers={"x-key": "k"})).json() == {"calls": 1}
        assert (await client.get("/r")).status_code == 401
        assert (await client.get("/r", headers={"x-key": "k"})).json() == {"calls": 1}


async def test_a_plain_sync_handler_works_behind_a_cache_rule() -> None:
    def handler(event):  # type: ignore[no-untyped-def]  # `def handler(event)`, as users write it
        return {"sync": True}

    app = NitroApp(
        route_rules={"/s": {"cache": {"max_age": 60}}},
        storage=Storage().mount("cache", MemoryDriver()),
    )
    app.add_route("/s", define_handler(handler))
    async with TestClient(app) as client:
        assert (await client.get("/s")).json() == {"sync": True}
        assert (await client.get("/s")).json() == {"sync": True}
