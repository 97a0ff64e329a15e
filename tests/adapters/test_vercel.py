"""The vercel preset: tests/fixture built to `.vercel/output`, its function run by the
vendored Vercel launcher (`vercel-runtime`) on Python 3.12 in IPC mode, as the platform
runs it, and by `nitro preview` (the launcher behind a proxy that plays Vercel's CDN).

Public assets: Vercel's CDN serves `static/` and the function ships no copy of it
(it would count against the function's 500 MB for nothing). So the `public-asset`
case runs through the preview proxy; against the bare function it checks the file
in `static/` and that the function answers 404 for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from adapters.builds import build_fixture, preview_server
from adapters.suite import Case, cases, http_sender, run_case
from adapters.vercel_support import (
    SECRET,
    python312,
    require_upstash,
    upstash_env,
    vercel_route_check,
)
from nitro.presets.vercel.launcher import VercelFunction

from helpers import FIXTURE, ServerProcess

EXTRA_CONFIG = """
config = config.replace(
    route_rules={
        "/blog/**": {"headers": {"x-blog": "1", "cache-control": "s-maxage=60"}},
        "/blog/private/**": {"headers": False},
        "/old/**": {"redirect": {"to": "/new/**", "status": 308}},
        "/gone": {"redirect": "/about"},
        "POST /api/**": {"headers": {"x-api-post": "yes"}},
    },
    scheduled_tasks={**config.scheduled_tasks, "@daily": ["db:migrate", "cms:update"]},
)
"""
YEARLY, DAILY = "0 0 1 1 *", "@daily"


def _extra_config(root: Path) -> None:
    with (root / "nitro.config.py").open("a") as config:
        config.write(EXTRA_CONFIG)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    python312()  # the build import-checks the function with it
    root, result = build_fixture(tmp_path_factory, "vercel", prepare=_extra_config, timeout=600)
    return root, result.stderr


@pytest.fixture(scope="module")
def output(built: tuple[Path, str]) -> Path:
    return built[0] / ".vercel" / "output"


@pytest.fixture(scope="module")
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The function's environment: CRON_SECRET, and KV_* for the local Upstash server."""
    values = {**os.environ, "CRON_SECRET": SECRET}
    values["FIXTURE_CLOSE_MARKER"] = str(tmp_path_factory.mktemp("close") / "closed")
    values.update(upstash_env(request))
    return values


@pytest.fixture(scope="module")
def function(output: Path, env: dict[str, str]) -> Iterator[VercelFunction]:
    launched = VercelFunction(output / "functions" / "__nitro.func", python312(), env=env).start()
    try:
        yield launched
    finally:
        launched.stop()
    # uvicorn ran the lifespan shutdown: the fixture's `close` hook wrote its marker.
    assert Path(env["FIXTURE_CLOSE_MARKER"]).read_text() == "closed"


@pytest.fixture(scope="module")
def preview(
    built: tuple[Path, str], env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = preview_server(
        built[0],
        tmp_path_factory.mktemp("logs") / "vercel-preview.log",
        env={**env, "FIXTURE_CLOSE_MARKER": ""},
    )
    try:
        server.wait_ready(timeout=60)
        yield server
    finally:
        assert server.stop() == 0, server.logs()


ALL = cases()


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.id)
def test_conformance_on_the_vercel_launcher(
    function: VercelFunction, output: Path, case: Case
) -> None:
    if case.id == "storage" and "KV_REST_API_URL" not in function.env:
        require_upstash()
    with httpx.Client(base_url=function.url, follow_redirects=False) as client:
        if case.id == "public-asset":
            assert (output / "static" / "hello.txt").read_bytes() == b"hello public\n"
            assert client.get("/hello.txt").status_code == 404  # the CDN's job, not the function's
            return
        run_case(case, http_sender(client))


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.id)
def test_conformance_through_nitro_preview(
    preview: ServerProcess, env: dict[str, str], case: Case
) -> None:
    if case.id == "storage" and "KV_REST_API_URL" not in env:
        require_upstash()
    with httpx.Client(base_url=preview.url, follow_redirects=False) as client:
        run_case(case, http_sender(client))


def test_build_output(built: tuple[Path, str], output: Path) -> None:
    root, log = built
    function = output / "functions" / "__nitro.func"
    vc = json.loads((function / ".vc-config.json").read_text())
    assert vc == {
        "runtime": "python3.12",
        "handler": "vc__handler__python.vc_handler",
        "architecture": "x86_64",
        "environment": {"PYTHONPATH": "_vendor", "PYTHONDONTWRITEBYTECODE": "1"},
        "supportsResponseStreaming": True,
    }
    trampoline = (function / "vc__handler__python.py").read_text()
    for name in (
        "__VC_HANDLER_MODULE_NAME",
        "__VC_HANDLER_ENTRYPOINT_ABS",
        "__VC_HANDLER_VARIABLE_NAME",
    ):
        assert name in trampoline
    assert "from vercel_runtime.vc_init import vc_handler" in trampoline
    assert list((function / "_vendor").glob("vercel_runtime-0.24.1.dist-info"))
    assert (function / "_vendor" / "nitro" / "adapters" / "vercel.py").is_file()
    assert list((function / "_vendor" / "pydantic_core").glob("*cpython-312-x86_64-linux-gnu.so"))
    assert list((function / "app" / "routes" / "__pycache__").glob("*.cpython-312.pyc"))
    manifest = json.loads((function / "manifest.json").read_text())
    assert manifest["public"] == {}  # the CDN serves static/
    assert manifest["preset"]["storage_defaults"]["data"] == {
        "driver": "upstash",
        "url": "{{KV_REST_API_URL}}",
        "token": "{{KV_REST_API_TOKEN}}",
        "base": "data",
    }
    assert not (function / "app" / "public").exists()
    static = output / "static"
    assert (static / "docs" / "index.html").is_file()
    assert (static / "style.css").read_bytes() == (FIXTURE / "public" / "style.css").read_bytes()
    info = json.loads((root / ".output" / "nitro.json").read_text())
    assert info["preset"] == "vercel"
    assert info["commands"] == {"preview": "nitro preview", "deploy": "vercel deploy --prebuilt"}
    assert info["vercel"]["runtime"] == "python3.12" and info["vercel"]["size"] > 1_000_000
    assert "function size:" in log and "of Vercel's 500.0 MB limit" in log
    assert "import-checking __nitro.func/nitro_entry.py with Python 3.12" in log


def test_config_json(output: Path) -> None:
    config = json.loads((output / "config.json").read_text())
    assert config["version"] == 3
    assert set(config) <= {"version", "routes", "images", "wildcard", "overrides", "cache", "crons"}
    routes = config["routes"]
    phases = [r["handle"] for r in routes if "handle" in r]
    assert phases == ["filesystem", "hit"]
    before = routes[: routes.index({"handle": "filesystem"})]
    assert before == [
        {
            "src": "^(?!/blog/private(?:/.*)?$)/blog(?:/.*)?$",
            "headers": {"x-blog": "1", "cache-control": "s-maxage=60"},
            "continue": True,
            "caseSensitive": True,
        },
        {
            "src": "^/api(?:/.*)?$",
            "headers": {"x-api-post": "yes"},
            "continue": True,
            "caseSensitive": True,
            "methods": ["POST"],
        },
        {
            "src": "^/gone/?$",
            "status": 307,
            "headers": {"Location": "/about"},
            "caseSensitive": True,
        },
        {
            "src": "^/old(/.*)?$",
            "status": 308,
            "headers": {"Location": "/new$1"},
            "caseSensitive": True,
        },
    ]
    assert routes[routes.index({"handle": "filesystem"}) + 1] == {
        "src": "^/.*$",
        "dest": "/__nitro",
    }
    assert routes[-1] == {
        "src": "^/.*$",
        "headers": {"cache-control": "public, max-age=60"},
        "continue": True,
    }
    assert config["crons"] == [
        {"path": "/_vercel/cron?schedule=0%200%201%201%20%2A", "schedule": "0 0 1 1 *"},
        {"path": "/_vercel/cron?schedule=%40daily", "schedule": "0 0 * * *"},
    ]


def cron(client: httpx.Client, schedule: str | None, secret: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {secret}"} if secret is not None else {}
    path = "/_vercel/cron" + (f"?schedule={quote(schedule, safe='')}" if schedule else "")
    return client.get(path, headers=headers)


def test_cron_route_needs_the_secret(function: VercelFunction) -> None:
    with httpx.Client(base_url=function.url) as client:
        for secret in (None, "wrong", SECRET + "x", SECRET[:-1]):
            response = cron(client, YEARLY, secret)
            assert response.status_code == 401, (secret, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
        bare = client.get(
            f"/_vercel/cron?schedule={quote(YEARLY)}", headers={"authorization": SECRET}
        )
        assert bare.status_code == 401  # the scheme is part of what is compared
        assert cron(client, "*/7 * * * *", SECRET).status_code == 404
        assert cron(client, None, SECRET).status_code == 400


def test_cron_runs_the_schedules_tasks(function: VercelFunction) -> None:
    if "KV_REST_API_URL" not in function.env:
        require_upstash()  # cms:update counts in the `data` mount; claims live there too
    with httpx.Client(base_url=function.url) as client:
        first = cron(client, DAILY, SECRET)
        assert first.status_code == 200, first.text
        body = first.json()
        tick = body["scheduled_time"]
        assert body["success"] is True and body["schedule"] == DAILY
        assert tick.endswith("T00:00:00+00:00")
        assert body["results"]["db:migrate"] == {
            "migrated": True,
            "payload": {"scheduled_time": tick},
        }
        assert body["results"]["cms:update"]["scheduled_time"] == tick
        # Vercel may deliver a cron event twice: the claim in the Upstash `data`
        # mount lets each task run once per tick across instances.
        again = cron(client, DAILY, SECRET).json()
        assert again["success"] is True and again["results"] == {}
        assert sorted(again["skipped"]) == ["cms:update", "db:migrate"]


def test_streaming_and_wait_until_on_the_launcher(function: VercelFunction) -> None:
    with httpx.Client(base_url=function.url) as client:
        with client.stream("GET", "/stream") as response:
            assert response.headers.get("transfer-encoding") == "chunked"
            assert "".join(response.iter_text()) == "line 0\nline 1\nline 2\n"
        sse = client.get("/sse")
        assert sse.status_code == 200
        assert "data: first" in sse.text and "event: tick" in sse.text
    assert any(m["type"] == "handler-started" for m in function.messages)
    assert any(m["type"] == "end" for m in function.messages)


def test_preview_applies_config_json_routes(preview: ServerProcess) -> None:
    with httpx.Client(base_url=preview.url, follow_redirects=False) as client:
        moved = client.get("/old/a/b")
        assert moved.status_code == 308 and moved.headers["location"] == "/new/a/b"
        assert client.get("/old").headers["location"] == "/new"
        assert client.get("/old/a?x=1").headers["location"] == "/new/a?x=1"  # query passed on
        gone = client.get("/gone/")
        assert gone.status_code == 307 and gone.headers["location"] == "/about"
        assert client.get("/Gone").status_code == 404  # case sensitive, as nitro's router
        blog = client.get("/blog/post")
        assert blog.headers["x-blog"] == "1"
        assert "x-blog" not in client.get("/blog/private/x").headers
        assert client.post("/api/hello").headers["x-api-post"] == "yes"
        assert "x-api-post" not in client.get("/api/hello").headers
        css = client.get("/style.css")
        assert css.headers["cache-control"] == "public, max-age=60"
        assert (
            client.get("/style.css", headers={"if-none-match": css.headers["etag"]}).status_code
            == 304
        )
        assert client.get("/docs").text == (FIXTURE / "public" / "docs" / "index.html").read_text()
        too_big = client.post("/echo", content=b"x" * 4_600_000)
        assert too_big.status_code == 413


def test_config_json_passes_vercels_route_validation(output: Path) -> None:
    """Vercel's own `normalizeRoutes` accepts the routes, and JavaScript's RegExp
    matches sample paths exactly as Python's `re` (and the preview) does."""
    import re

    routes = json.loads((output / "config.json").read_text())["routes"]
    paths = ["/", "/blog", "/blog/a", "/blog/private/x", "/Blog/a", "/old/a/b", "/gone/", "/api/x"]
    checked = vercel_route_check(routes, paths)
    assert checked["error"] is None
    expected = [
        [None if "src" not in r else bool(re.search(r["src"], path)) for r in routes]
        for path in paths
    ]
    assert checked["matched"] == expected
