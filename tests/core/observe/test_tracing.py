"""Tracing (issue 21) with opentelemetry-sdk's in-memory exporter: with NITRO_TRACING=1,
a SERVER span per request named ``METHOD /route/pattern`` with the HTTP semantic
conventions' attributes, child of the incoming ``traceparent``; child spans for
storage, database, cache and proxy calls (the proxy's ``traceparent`` sent upstream).
Without it nothing of OpenTelemetry is imported and no method is wrapped."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from tracing_sdk import by_name, exporter

from nitro import NitroApp, define_cached_function, define_handler, proxy_request
from nitro.core.database import Database, use_database
from nitro.core.storage import Storage, use_storage
from nitro.sql_connectors.sqlite import connector as sqlite_connector
from nitro.storage_drivers.memory import driver as memory_driver
from nitro.testing import TestClient

from helpers import ServerProcess, free_port, nitro_cli, serve_in_thread

pytestmark = pytest.mark.anyio

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT}-01"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    from nitro.core.observe.tracing import uninstrument

    monkeypatch.setenv("NITRO_TRACING", "1")
    monkeypatch.delenv("NITRO_LOG_FORMAT", raising=False)
    try:
        yield exporter()
    finally:
        uninstrument()


def traced_app(upstream: str = "") -> NitroApp:
    storage = Storage()
    for base in ("kv", "cache"):
        storage.mount(base, memory_driver({}, root=Path.cwd()))
    app = NitroApp(storage=storage)
    app.databases["default"] = Database(sqlite_connector({"path": ":memory:"}, root=Path.cwd()))

    @define_cached_function(max_age=60, name="greeting")
    async def greeting(name: str) -> str:
        return f"hello {name}"

    async def user(event: Any) -> dict[str, Any]:
        await use_storage("kv").set_item("last", event.params["id"])
        row = (await use_database().sql("SELECT ? AS id", event.params["id"])).rows[0]
        return {
            "id": row["id"],
            "greeting": await greeting("ada"),
            "last": await use_storage("kv").get_item("last"),
        }

    async def broken(event: Any) -> None:
        raise ValueError("boom")

    async def forward(event: Any) -> Any:
        return await proxy_request(event, upstream + "/echo")

    app.add_route("/users/:id", define_handler(user))
    app.add_route("/broken", define_handler(broken))
    app.add_route("/forward", define_handler(forward))
    return app


async def test_each_request_is_a_server_span_under_the_incoming_traceparent(
    spans: InMemorySpanExporter,
) -> None:
    async with TestClient(traced_app()) as client:
        answer = await client.get(
            "/users/42?full=1", headers={"traceparent": TRACEPARENT, "user-agent": "tests/1"}
        )
    assert answer.status_code == 200
    found = by_name(spans.get_finished_spans())
    server = found["GET /users/:id"]
    assert server.kind == SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None and format(server.parent.span_id, "016x") == PARENT
    assert dict(server.attributes or {}) == {
        "http.request.method": "GET",
        "url.path": "/users/42",
        "url.query": "full=1",
        "url.scheme": "http",
        "http.route": "/users/:id",
        "network.protocol.version": "1.1",
        "server.address": "localhost",
        "user_agent.original": "tests/1",
        "client.address": "127.0.0.1",
        "http.response.status_code": 200,
    }
    assert server.status.status_code == StatusCode.UNSET
    # Storage, database and cache calls are its children; the cache's own storage calls
    # are the cache span's.
    finished = spans.get_finished_spans()
    kv = {s.name: s for s in finished if (s.attributes or {}).get("nitro.storage.mount") == "kv"}
    storage_set, storage_get = kv["storage set_item"], kv["storage get_item"]
    assert dict(storage_set.attributes or {}) == {
        "nitro.storage.operation": "set_item",
        "nitro.storage.mount": "kv",
        "nitro.storage.driver": "memory",
    }
    select, cache = found["SELECT"], found["cache greeting"]
    assert select.kind == SpanKind.CLIENT
    assert dict(select.attributes or {}) == {
        "db.system.name": "sqlite",
        "db.query.text": "SELECT ? AS id",  # placeholders, never the values
        "db.operation.name": "SELECT",
        "nitro.database": "default",
    }
    assert (cache.attributes or {})["nitro.cache.state"] == "miss"
    for child in (storage_set, storage_get, select, cache):
        assert child.parent is not None and child.parent.span_id == server.context.span_id
    cached = [s for s in finished if (s.attributes or {}).get("nitro.storage.mount") == "cache"]
    assert sorted(s.name for s in cached) == ["storage get_item", "storage set_item"]
    assert all(s.parent and s.parent.span_id == cache.context.span_id for s in cached)


async def test_unmatched_and_failing_requests(spans: InMemorySpanExporter) -> None:
    async with TestClient(traced_app()) as client:
        missing = await client.get("/nowhere")
        broken = await client.get("/broken")
    assert (missing.status_code, broken.status_code) == (404, 500)
    found = by_name(spans.get_finished_spans())
    unmatched = found["GET"]  # no route: the method alone
    assert "http.route" not in (unmatched.attributes or {})
    assert unmatched.status.status_code == StatusCode.UNSET  # a 4xx is the client's
    failed = found["GET /broken"]
    assert failed.status.status_code == StatusCode.ERROR
    assert (failed.attributes or {})["error.type"] == "ValueError"
    [exception] = [e for e in failed.events if e.name == "exception"]
    assert (exception.attributes or {})["exception.message"] == "boom"


async def upstream_app(scope: Any, receive: Any, send: Any) -> None:
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    body = json.dumps({"traceparent": headers.get("traceparent")}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def upstream() -> Iterator[str]:
    with serve_in_thread(upstream_app) as url:
        yield url


async def test_a_proxied_request_is_a_client_span_whose_context_goes_upstream(
    spans: InMemorySpanExporter, upstream: str
) -> None:
    async with TestClient(traced_app(upstream)) as client:
        answer = await client.get("/forward", headers={"traceparent": TRACEPARENT})
    found = by_name(spans.get_finished_spans())
    outgoing = found["GET"]
    assert outgoing.kind == SpanKind.CLIENT
    assert (outgoing.attributes or {})["url.full"] == upstream + "/echo"
    assert (outgoing.attributes or {})["http.response.status_code"] == 200
    assert outgoing.parent is not None
    assert outgoing.parent.span_id == found["GET /forward"].context.span_id
    sent = answer.json()["traceparent"]
    assert sent == f"00-{TRACE_ID}-{format(outgoing.context.span_id, '016x')}-01"


async def test_json_log_lines_name_the_span_they_were_written_in(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch, nitro_log: io.StringIO
) -> None:

    monkeypatch.setenv("NITRO_LOG_FORMAT", "json")
    async with TestClient(traced_app()) as client:
        await client.get("/broken", headers={"traceparent": TRACEPARENT})
    lines = [json.loads(line) for line in nitro_log.getvalue().splitlines()]
    [error] = [line for line in lines if line["level"] == "ERROR"]
    server = by_name(spans.get_finished_spans())["GET /broken"]
    assert error["trace_id"] == TRACE_ID
    assert error["span_id"] == format(server.context.span_id, "016x")
    assert (server.attributes or {})["nitro.request_id"] == error["request_id"]


SERVE = """
import asyncio, json, sys
from nitro import NitroApp, define_handler
from nitro.core.storage import Storage

app = NitroApp()
app.add_route("/", define_handler(lambda event: "hi"))

async def main():
    async def receive():
        return {"type": "http.request", "body": b""}
    async def send(message):
        pass
    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [], "http_version": "1.1", "scheme": "http", "server": ("x", 80)}
    await app(scope, receive, send)
    wrapped = hasattr(Storage.get_item, "__wrapped__")
    print(json.dumps({"otel": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
                      "wrapped": wrapped, "observer": app.observer is not None}))

asyncio.run(main())
"""


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NITRO_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
    )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_without_nitro_tracing_nothing_is_imported_or_wrapped() -> None:
    result = run_python(SERVE, {})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"otel": [], "wrapped": False, "observer": False}
    on = run_python(SERVE, {"NITRO_TRACING": "1"})
    assert json.loads(on.stdout)["wrapped"] is True
    # On, but nothing configured a tracer provider: said once, at start-up.
    assert "[nitro:tracing] NITRO_TRACING is on but no tracer provider is configured" in on.stderr


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_tracing_without_opentelemetry_installed_names_the_extra(tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "sitecustomize.py").write_text("import sys\nsys.modules['opentelemetry'] = None\n")
    result = run_python(SERVE, {"NITRO_TRACING": "1", "PYTHONPATH": str(hidden)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "otel": ["opentelemetry"],
        "wrapped": False,
        "observer": False,
    }
    assert 'opentelemetry-api is not installed: pip install "nitro-py[tracing]"' in result.stderr


PLUGIN = """import os

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from nitro import define_plugin


@define_plugin
def tracing(app):
    provider = TracerProvider()
    out = open(os.environ["SPANS_FILE"], "w")
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
        out=out, formatter=lambda span: span.to_json(indent=None) + "\\n")))
    trace.set_tracer_provider(provider)
"""


@pytest.mark.slow
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_built_server_traces_with_the_sdk_a_plugin_sets_up(tmp_path: Path) -> None:
    """What the docs show: the SDK and an exporter set up in a plugin, NITRO_TRACING=1."""
    from adapters.builds import tiny_project

    root = tiny_project(tmp_path / "shop")
    (root / "routes" / "items").mkdir()
    (root / "routes" / "items" / "[id].py").write_text("def handler(event):\n    return 'item'\n")
    (root / "plugins").mkdir()
    (root / "plugins" / "tracing.py").write_text(PLUGIN)
    assert nitro_cli("build", str(root)).returncode == 0
    spans_file = tmp_path / "spans.jsonl"
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=root,
        port=free_port(),
        env={"NITRO_TRACING": "1", "SPANS_FILE": str(spans_file)},
        log=tmp_path / "server.log",
    )
    try:
        server.wait_ready(path="/items/0")
        httpx.get(server.url + "/items/7", headers={"traceparent": TRACEPARENT})
    finally:
        server.stop()
    found = [json.loads(line) for line in spans_file.read_text().splitlines()]
    [span] = [s for s in found if s["context"]["trace_id"] == "0x" + TRACE_ID]
    assert span["name"] == "GET /items/:id" and span["kind"] == "SpanKind.SERVER"
    assert span["attributes"]["http.route"] == "/items/:id"
    assert span["attributes"]["http.response.status_code"] == 200
    assert "no tracer provider is configured" not in server.logs()
