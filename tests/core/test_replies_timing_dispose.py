"""`no_content`, `redirect_back`, `set_server_timing` / `with_server_timing`, `on_dispose`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nitro import (
    NitroApp,
    define_handler,
    no_content,
    on_dispose,
    redirect_back,
    send_stream,
    set_response_header,
    set_server_timing,
    with_server_timing,
)
from nitro.core.event import Event
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


async def test_no_content() -> None:
    def handler(event: Any) -> Any:
        set_response_header(event, "x-kept", "1")
        return no_content()

    app = NitroApp()
    app.add_route("/", define_handler(handler))
    app.add_route("/304", define_handler(lambda event: no_content(304)))
    async with TestClient(app) as client:
        empty = await client.post("/")
        not_modified = await client.get("/304")
    assert empty.status_code == 204 and empty.content == b"" and empty.headers["x-kept"] == "1"
    assert not_modified.status_code == 304 and "content-length" not in not_modified.headers


@pytest.mark.parametrize(
    ("referer", "options", "location"),
    [
        (None, {}, "/"),
        ("http://localhost/settings?tab=2#x", {}, "/settings"),
        ("http://localhost/settings?tab=2", {"allow_query": True}, "/settings?tab=2"),
        ("http://LOCALHOST:80/a", {}, "/a"),  # same origin, spelled differently
        ("https://localhost/a", {}, "/home"),  # another scheme: another origin
        ("http://localhost:8080/a", {}, "/home"),
        ("http://evil.example/a", {}, "/home"),
        ("http://localhost.evil.example/a", {}, "/home"),
        ("http://user@localhost/a", {}, "/home"),
        ("http://localhost//evil.example/x", {}, "/evil.example/x"),  # never a //host path
        ("http://localhost/\\evil.example", {}, "/evil.example"),
        ("//evil.example/a", {}, "/home"),
        ("javascript:alert(1)", {}, "/home"),
        ("http://localhost:99999/a", {}, "/home"),  # an invalid port
        ("not a url at all", {}, "/home"),
    ],
)
async def test_redirect_back_follows_only_a_same_origin_referer(
    referer: str | None, options: dict[str, Any], location: str
) -> None:
    fallback = options.pop("fallback", "/home" if referer else "/")
    app = NitroApp()
    app.add_route("/back", define_handler(lambda event: redirect_back(event, fallback, **options)))
    headers = {"referer": referer} if referer else {}
    async with TestClient(app) as client:
        response = await client.post("/back", headers=headers)
    assert response.status_code == 302
    assert response.headers["location"] == location


async def test_redirect_back_status() -> None:
    app = NitroApp()
    app.add_route("/back", define_handler(lambda event: redirect_back(event, status=303)))
    async with TestClient(app) as client:
        assert (await client.post("/back")).status_code == 303


async def test_server_timing() -> None:
    async def handler(event: Any) -> Any:
        set_server_timing(event, "cache", desc='hit "warm"')
        set_server_timing(event, "db", 53.2, "Database query")
        set_server_timing(event, "render", 0)
        users = await with_server_timing(event, "users", lambda: asyncio.sleep(0, ["ada"]))
        total = await with_server_timing(event, "sum", lambda: sum(range(10)))
        return {"users": users, "total": total}

    app = NitroApp()
    app.add_route("/", define_handler(handler))
    async with TestClient(app) as client:
        response = await client.get("/")
    assert response.json() == {"users": ["ada"], "total": 45}
    metrics = response.headers.get_list("server-timing")
    assert metrics[:3] == [
        'cache;desc="hit \\"warm\\""',
        'db;desc="Database query";dur=53.2',
        "render;dur=0",
    ]
    assert metrics[3].startswith("users;dur=") and metrics[4].startswith("sum;dur=")


async def test_with_server_timing_records_a_failure_too() -> None:
    def fail() -> None:
        raise LookupError("gone")

    async def handler(event: Any) -> Any:
        try:
            await with_server_timing(event, "flaky", fail)
        except LookupError:
            return "failed"

    app = NitroApp()
    app.add_route("/", define_handler(handler))
    async with TestClient(app) as client:
        response = await client.get("/")
    assert response.text == "failed" and response.headers["server-timing"].startswith("flaky;dur=")


@pytest.mark.parametrize(
    ("name", "dur"), [("two words", None), ("db", -1.0), ("db", float("nan")), ("", None)]
)
def test_bad_server_timing_values_are_errors(name: str, dur: float | None) -> None:
    event = Event(NitroApp(), {"type": "http", "method": "GET", "headers": []}, None, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[nitro\] (invalid Server-Timing|Server-Timing)"):
        set_server_timing(event, name, dur)


async def test_on_dispose_runs_once_after_the_response() -> None:
    order: list[str] = []

    async def handler(event: Any) -> Any:
        async def release() -> None:
            order.append("async dispose")

        on_dispose(event, lambda: order.append("sync dispose"))
        on_dispose(event, release)
        order.append("handler")
        return "ok"

    app = NitroApp()
    app.hooks.hook("after_response", lambda event, response: order.append("sent"))
    app.add_route("/", define_handler(handler))
    async with TestClient(app) as client:
        assert (await client.get("/")).text == "ok"
    assert order == ["handler", "sent", "sync dispose", "async dispose"]


async def test_on_dispose_runs_after_an_error_and_a_failing_callback_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def handler(event: Any) -> Any:
        on_dispose(event, lambda: 1 / 0)
        on_dispose(event, lambda: ran.append("second"))
        raise RuntimeError("handler failed")

    app = NitroApp()
    app.add_route("/", define_handler(handler))
    async with TestClient(app) as client:
        assert (await client.get("/")).status_code == 500
    assert ran == ["second"]
    assert "request cleanup failed" in caplog.text


async def test_on_dispose_runs_when_the_client_goes_away_mid_stream() -> None:
    disposed = asyncio.Event()
    started = asyncio.Event()

    async def handler(event: Any) -> Any:
        on_dispose(event, disposed.set)

        async def forever() -> Any:
            while True:
                started.set()
                yield b"tick\n"
                await asyncio.sleep(0.01)

        return send_stream(event, forever())

    app = NitroApp()
    app.add_route("/", define_handler(handler))
    await app.startup()
    receive_queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await receive_queue.put({"type": "http.request", "body": b"", "more_body": False})
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 1), "server": ("localhost", 80),
    }  # fmt: skip

    async def send(message: dict[str, Any]) -> None:
        pass

    task = asyncio.ensure_future(app(scope, receive_queue.get, send))
    await asyncio.wait_for(started.wait(), 5)
    assert not disposed.is_set()
    await receive_queue.put({"type": "http.disconnect"})  # the client went away
    await asyncio.wait_for(disposed.wait(), 5)
    await asyncio.wait_for(task, 5)
    await app.shutdown()
