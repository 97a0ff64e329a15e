"""The request suite: tests/fixture served in-process and by a real uvicorn server.

Both run the production build of the same project; every test runs twice
(`client` is parametrized in conftest.py).
"""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.anyio

PROD_500 = {"error": True, "status": 500, "statusText": "Internal Server Error", "unhandled": True}


# --- routing ---


async def test_index_is_text_with_middleware_and_hook_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.text == "nitro fixture"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-powered-by"] == "nitro-fixture"
    assert response.headers["x-fixture-hook"] == "1"


async def test_api_dir_is_mounted_under_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/hello")
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"


async def test_head_is_served_by_get_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/api/hello")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"hello":"world"}'))


async def test_typed_route_param(client: httpx.AsyncClient) -> None:
    assert (await client.get("/users/42")).json() == {"id": 42, "kind": "param"}
    assert (await client.get("/users/42/")).json() == {"id": 42, "kind": "param"}
    bad = await client.get("/users/abc")
    assert bad.status_code == 400
    assert bad.json()["data"] == {"param": "id", "value": "abc"}


async def test_static_segment_beats_param(client: httpx.AsyncClient) -> None:
    assert (await client.get("/users/me")).json() == {"id": "me", "kind": "static"}


async def test_method_specific_files(client: httpx.AsyncClient) -> None:
    assert (await client.get("/users")).json() == [{"id": 1}, {"id": 2}]
    created = await client.post("/users", json={"name": "ada"})
    assert created.status_code == 201
    assert created.json() == {"created": {"name": "ada"}}
    deleted = await client.delete("/users/5")
    assert deleted.status_code == 204
    assert deleted.content == b""


async def test_any_method_route_and_plain_function_handler(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/items/9")).json() == {"item": "9", "method": "GET"}
    assert (await client.patch("/api/items/9")).json() == {"item": "9", "method": "PATCH"}


async def test_catch_all_routes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/files/a/b/c.txt")).json() == {"path": "a/b/c.txt"}
    assert (await client.get("/wild")).json() == {"rest": ""}
    assert (await client.get("/wild/x/y")).json() == {"rest": "x/y"}


async def test_encoded_slash_in_a_param_stays_one_param(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/items/a%2Fb")).json() == {"item": "a/b", "method": "GET"}


async def test_optional_param(client: httpx.AsyncClient) -> None:
    assert (await client.get("/opt")).json() == {"id": None}
    assert (await client.get("/opt/7")).json() == {"id": "7"}


async def test_route_group_adds_no_segment_and_html_escapes(client: httpx.AsyncClient) -> None:
    response = await client.get("/about", headers={"x-name": "<script>"})
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>About &lt;script&gt;</h1>"


async def test_env_suffix_picks_the_prod_file(client: httpx.AsyncClient) -> None:
    assert (await client.get("/mode")).json() == {"mode": "prod"}
    # dev-only routes do not exist in production: the server.py app answers instead.
    assert (await client.get("/dev-only")).json() == {"detail": "Not Found"}


async def test_project_modules_are_importable_from_routes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/helper")).json() == {"message": "hello fixture"}


# --- bodies ---


async def test_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"a": [1, 2], "b": None})
    assert response.json() == {"body": {"a": [1, 2], "b": None}, "method": "POST"}


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo", content=b'{"a": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid JSON body")


async def test_too_deeply_nested_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo", content=b"[" * 20000 + b"]" * 20000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_urlencoded_and_text_bodies(client: httpx.AsyncClient) -> None:
    form = await client.post(
        "/echo",
        content=b"a=1&a=2&b=x+y",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.json()["body"] == {"a": ["1", "2"], "b": "x y"}
    text = await client.post(
        "/echo", content="héllo".encode(), headers={"content-type": "text/plain; charset=utf-8"}
    )
    assert text.json()["body"] == "héllo"


async def test_raw_body_round_trips_bytes(client: httpx.AsyncClient) -> None:
    payload = bytes(range(256)) * 4
    response = await client.post("/raw", content=payload)
    assert response.content == payload
    assert response.headers["content-type"] == "application/octet-stream"


async def test_oversize_body_with_content_length_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=b"x" * (64 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["data"] == {"limit": 65536}


async def test_oversize_chunked_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():
        for _ in range(20):
            yield b"y" * 8192

    response = await client.post("/raw", content=chunks())
    assert response.status_code == 413


async def test_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=b"z" * (64 * 1024))
    assert response.status_code == 200
    assert len(response.content) == 64 * 1024


async def test_multipart_upload(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/upload",
        data={"title": "report"},
        files={"file": ("data.bin", b"\x00\x01" * 20000, "application/octet-stream")},
    )
    assert response.json() == {
        "title": "report",
        "file": {"filename": "data.bin", "size": 40000, "type": "application/octet-stream"},
    }


async def test_oversize_multipart_upload_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/upload", files={"file": ("big.bin", b"\x00" * 100_000)})
    assert response.status_code == 413


async def test_typed_body_validation(client: httpx.AsyncClient) -> None:
    ok = await client.post("/validated", json={"name": "Ada", "age": 36})
    assert ok.status_code == 201
    assert ok.json() == {"created": {"name": "Ada", "age": 36}}
    bad = await client.post("/validated", json={"name": "", "age": -1})
    assert bad.status_code == 400
    issues = bad.json()["data"]["issues"]
    assert sorted(tuple(issue["loc"]) for issue in issues) == [("age",), ("name",)]
    broken = await client.post(
        "/validated", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400


# --- request utilities ---


async def test_query_with_repeated_keys_and_validation(client: httpx.AsyncClient) -> None:
    response = await client.get("/query?tag=a&tag=b&page=2")
    assert response.json() == {"query": {"tag": ["a", "b"], "page": "2"}, "validated": {"page": 2}}
    assert (await client.get("/query?page=0")).status_code == 400


async def test_cookies(client: httpx.AsyncClient) -> None:
    response = await client.get("/cookies", headers={"cookie": "visitor=v1; other=2"})
    assert response.json() == {"seen": {"visitor": "v1", "other": "2"}, "one": "v1"}
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 3
    assert any(
        c.startswith("session=abc123") and "HttpOnly" in c and "Max-Age=3600" in c for c in cookies
    )
    assert any(c.startswith("old=") and "Max-Age=0" in c for c in cookies)


async def test_context_from_middleware_request_hook_and_use_event(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/context")).json() == {
        "trace": ["01.context", "02.block"],
        "hooked": True,
    }


async def test_middleware_can_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/blocked")).json() == {"blocked": True}


async def test_runtime_config_with_env_overrides(client: httpx.AsyncClient) -> None:
    assert (await client.get("/config")).json() == {
        "greeting": "hello",
        "limit": 25,
        "feature": {"enabled": True},
        "api_base": "/api",
        "dotenv": None,  # .env is for dev and preview only
    }


async def test_sync_handler_runs_in_a_thread_with_use_event(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sync")).json() == {"thread": True, "same_event": True}


async def test_directory_scoped_middleware(client: httpx.AsyncClient) -> None:
    assert (await client.get("/admin")).status_code == 401
    assert (await client.get("/admin/stats")).json()["message"] == "admins only"
    assert (await client.get("/admin", headers={"x-admin": "yes"})).json() == {"admin": True}
    assert (await client.get("/admin/stats", headers={"x-admin": "yes"})).json() == {
        "stats": True,
        "admin": True,
    }


# --- responses ---


async def test_staged_status_and_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/status")
    assert response.status_code == 201
    assert response.headers["x-one"] == "1"
    assert response.headers.get_list("x-many") == ["a", "b"]


async def test_none_is_204(client: httpx.AsyncClient) -> None:
    response = await client.get("/empty")
    assert response.status_code == 204
    assert response.content == b""


async def test_redirect(client: httpx.AsyncClient) -> None:
    response = await client.get("/redirect")
    assert response.status_code == 301
    assert response.headers["location"] == "/about"


async def test_streamed_response(client: httpx.AsyncClient) -> None:
    response = await client.get("/stream")
    assert response.text == "line 0\nline 1\nline 2\n"
    assert response.headers["content-type"].startswith("text/plain")


async def test_server_sent_events(client: httpx.AsyncClient) -> None:
    response = await client.get("/sse")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.text == 'data: first\n\nid: 2\nevent: tick\ndata: {"n":2}\n\n'


# --- errors ---


async def test_http_error_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/errors/http")
    assert response.status_code == 418
    assert response.headers["x-teapot"] == "yes"
    assert response.json() == {
        "error": True,
        "status": 418,
        "statusText": "I'm a Teapot",
        "message": "I am a teapot",
        "data": {"brew": "tea"},
    }


async def test_error_html_for_browsers_json_for_star(client: httpx.AsyncClient) -> None:
    page = await client.get("/errors/http", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "418" in page.text and "I am a teapot" in page.text
    star = await client.get("/errors/http", headers={"accept": "*/*"})
    assert star.headers["content-type"] == "application/json"


async def test_unhandled_error_reveals_nothing_in_production(client: httpx.AsyncClient) -> None:
    response = await client.get("/errors/crash")
    assert response.status_code == 500
    assert response.json() == PROD_500
    page = await client.get("/errors/crash", headers={"accept": "text/html"})
    assert "hunter2" not in page.text and "Traceback" not in page.text


async def test_legacy_create_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/errors/legacy")
    assert response.status_code == 422
    assert response.json()["statusText"] == "Unprocessable"
    assert response.json()["message"] == "legacy shape"


async def test_malformed_percent_encoding_and_bad_utf8_are_400(client: httpx.AsyncClient) -> None:
    for target in (b"/%zz", b"/users/%E0%A4", b"/api/%", b"/a%00b"):
        status, _ = await client.raw(target)  # type: ignore[attr-defined]
        assert status == 400, target


async def test_a_target_that_is_not_a_path_is_400(client: httpx.AsyncClient) -> None:
    # `OPTIONS *` asks about the server, and a target without "/" names no resource: once
    # any dynamic route existed, both used to reach the "/" route (and "" was a 500).
    for method, target in (("OPTIONS", b"*"), ("GET", b"*"), ("GET", b"anything")):
        status, body = await client.raw(target, method)  # type: ignore[attr-defined]
        assert status == 400, (method, target, body[:200])


# --- server.py ---


async def test_server_handler_runs_before_routes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"ok": True}


async def test_server_app_serves_what_routes_do_not(client: httpx.AsyncClient) -> None:
    assert (await client.get("/legacy/hello")).json() == {
        "from": "fastapi",
        "state": "fastapi-lifespan",
    }
    assert (await client.get("/no/such/page")).json() == {"detail": "Not Found"}


# --- public assets ---


async def test_public_file_with_validators_and_cache_control(client: httpx.AsyncClient) -> None:
    response = await client.get("/hello.txt")
    assert response.text == "hello public\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=60"
    etag = response.headers["etag"]
    assert (await client.get("/hello.txt", headers={"if-none-match": etag})).status_code == 304
    modified = response.headers["last-modified"]
    not_modified = await client.get("/hello.txt", headers={"if-modified-since": modified})
    assert not_modified.status_code == 304
    assert not_modified.content == b""


async def test_public_head(client: httpx.AsyncClient) -> None:
    response = await client.head("/hello.txt")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "13"


async def test_folder_index_without_redirect(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/docs/", "/docs/index.html"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<h1>Docs</h1>" in response.text


async def test_precompressed_variants(client: httpx.AsyncClient) -> None:
    original = ("body { color: #333; }\n" * 200).encode()
    br = await client.get("/style.css", headers={"accept-encoding": "br, gzip"})
    assert br.headers["content-encoding"] == "br"
    assert br.headers["vary"] == "Accept-Encoding"
    assert br.content == original  # httpx decodes brotli
    gz = await client.get("/style.css", headers={"accept-encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.content == original
    plain = await client.get("/style.css", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == original
    assert len({br.headers["etag"], gz.headers["etag"], plain.headers["etag"]}) == 3


async def test_dotfiles_are_not_public(client: httpx.AsyncClient) -> None:
    response = await client.get("/.secret")
    assert b"SECRET" not in response.content


@pytest.mark.parametrize(
    "target",
    [
        b"/..%2f..%2f..%2fetc/passwd",
        b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        b"/../../../etc/passwd",
        b"/docs/..%2f..%2fnitro.config.py",
        b"/..\\..\\nitro.config.py",
        b"/%2e%2e%5c%2e%2e%5cnitro.config.py",
        b"/.%2e/.%2e/server.py",
        b"/docs/../../../../etc/passwd",
        b"/hello.txt%00.html",
    ],
)
async def test_paths_never_escape_public(client: httpx.AsyncClient, target: bytes) -> None:
    status, body = await client.raw(target)  # type: ignore[attr-defined]
    assert b"root:" not in body
    assert b"define_nitro_config" not in body and b"FastAPI" not in body
    assert status in (400, 404), (target, status, body[:200])


async def test_json_error_keys_are_stable(client: httpx.AsyncClient) -> None:
    body = json.loads((await client.get("/errors/http")).content)
    assert list(body) == ["error", "status", "statusText", "message", "data"]
