"""NitroApp behaviour that the fixture project cannot show on its own."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from nitro import HTTPError, NitroApp, define_handler, define_middleware, define_plugin, use_event
from nitro.core.app import StartupError
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


def app_with(**routes: object) -> NitroApp:
    app = NitroApp()
    for path, handler in routes.items():
        app.add_route("/" + path, handler)  # type: ignore[arg-type]
    return app


async def test_405_lists_allowed_methods_and_404_names_the_path() -> None:
    app = NitroApp()
    app.add_route("/users/:id", lambda event: {"id": event.params["id"]}, method="GET")
    app.add_route("/users/:id", lambda event: None, method="DELETE")
    async with TestClient(app) as client:
        response = await client.put("/users/1")
        assert response.status_code == 405
        assert response.headers["allow"] == "DELETE, GET, HEAD"
        missing = await client.get("/nope")
        assert missing.status_code == 404
        assert missing.json()["message"] == "Cannot find any route matching [GET] /nope"


async def test_plugin_failure_stops_startup_naming_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "01.db.py").write_text(
        "from nitro import define_plugin\n\n@define_plugin\ndef plugin(app):\n    raise ConnectionError('db down')\n"
    )
    from nitro.runtime.app import load_app

    app = load_app(tmp_path)
    with pytest.raises(
        StartupError, match=r"plugin plugins/01\.db\.py failed: ConnectionError: db down"
    ):
        await app.startup()


async def test_lifespan_reports_startup_failure() -> None:
    @define_plugin
    def broken(app: NitroApp) -> None:
        raise ValueError("bad setting")

    app = NitroApp(plugins=[broken])
    messages = iter([{"type": "lifespan.startup"}])
    sent: list[dict] = []

    async def receive() -> dict:
        return next(messages)

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "plugin broken failed: ValueError: bad setting" in sent[0]["message"]


async def test_async_plugins_and_close_hooks_run_once() -> None:
    calls: list[str] = []

    @define_plugin
    async def plugin(app: NitroApp) -> None:
        calls.append("plugin")
        app.hooks.hook("close", lambda: calls.append("close"))

    app = NitroApp(plugins=[plugin])
    async with TestClient(app):
        await app.startup()
    assert calls == ["plugin", "close"]


async def test_hooks_see_every_response_and_errors() -> None:
    seen: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    app = app_with(ok=lambda event: "ok", boom=lambda event: 1 / 0)
    app.hooks.hook(
        "response", lambda event, response: seen.append((event.pathname, response.status_code))
    )
    app.hooks.hook(
        "after_response", lambda event, response: seen.append(("after", response.status_code))
    )
    app.hooks.hook("error", lambda error, event: errors.append(error))
    async with TestClient(app) as client:
        await client.get("/ok")
        await client.get("/boom")
        await client.get("/missing")
    assert seen == [
        ("/ok", 200),
        ("after", 200),
        ("/boom", 500),
        ("after", 500),
        ("/missing", 404),
        ("after", 404),
    ]
    assert isinstance(errors[0], ZeroDivisionError)
    assert isinstance(errors[1], HTTPError) and errors[1].status == 404


async def test_hooks_get_starlette_responses_and_their_edits_are_sent() -> None:
    # nitro sends most answers as its own PlainResponse; hooks are promised
    # Starlette's `Response`, and what they change is what goes out.
    from starlette.responses import Response

    kinds: list[tuple[str, type]] = []

    def stamp(event: Any, response: Any) -> None:
        kinds.append(("response", type(response)))
        response.headers["x-stamped"] = "yes"
        response.headers.append("set-cookie", "seen=1")

    app = app_with(ok=lambda event: {"ok": True}, boom=lambda event: 1 / 0)
    app.hooks.hook("response", stamp)
    app.hooks.hook("after_response", lambda event, r: kinds.append(("after", type(r))))
    async with TestClient(app) as client:
        ok = await client.get("/ok")
        boom = await client.get("/boom")
    assert ok.json() == {"ok": True} and ok.headers["content-type"] == "application/json"
    assert ok.headers["x-stamped"] == boom.headers["x-stamped"] == "yes"
    assert ok.cookies["seen"] == "1"
    assert boom.status_code == 500
    assert kinds == [("response", Response), ("after", Response)] * 2


async def test_unregistering_a_hook() -> None:
    count = 0

    def on_request(event: object) -> None:
        nonlocal count
        count += 1

    app = app_with(ok=lambda event: "ok")
    unhook = app.hooks.hook("request", on_request)
    async with TestClient(app) as client:
        await client.get("/ok")
        unhook()
        await client.get("/ok")
    assert count == 1


async def test_a_failing_response_hook_becomes_an_error_response() -> None:
    app = app_with(ok=lambda event: "ok")

    def broken(event: object, response: object) -> None:
        raise HTTPError(503, "maintenance")

    app.hooks.hook("response", broken)
    async with TestClient(app) as client:
        response = await client.get("/ok")
    assert response.status_code == 503


async def test_dev_500_shows_message_and_stack() -> None:
    app = NitroApp(dev=True)
    app.add_route("/boom", lambda event: {}["missing"])
    async with TestClient(app) as client:
        body = (await client.get("/boom")).json()
        page = await client.get("/boom", headers={"accept": "text/html"})
    assert body["message"] == "KeyError: 'missing'"
    assert any("KeyError" in line for line in body["stack"])
    assert "Traceback" in page.text and "KeyError" in page.text


async def test_error_handler_may_replace_the_default() -> None:
    def handle(error: BaseException, event: object) -> object:
        if isinstance(error, HTTPError) and error.status == 404:
            return {"custom": True}
        return None

    app = NitroApp(error_handler=handle)
    app.add_route("/boom", lambda event: 1 / 0)
    async with TestClient(app) as client:
        custom = await client.get("/nope")
        default = await client.get("/boom")
    assert custom.status_code == 404 and custom.json() == {"custom": True}
    assert default.status_code == 500 and default.json()["unhandled"] is True


async def test_wait_until_runs_after_the_response_on_servers() -> None:
    done = asyncio.Event()

    async def later() -> None:
        await asyncio.sleep(0.01)
        done.set()

    @define_handler
    async def handler(event):
        event.wait_until(later())
        return "sent"

    app = app_with(bg=handler)
    async with TestClient(app) as client:
        assert (await client.get("/bg")).text == "sent"
    assert done.is_set()  # shutdown waited for it


async def test_wait_until_completes_before_returning_when_serverless() -> None:
    finished: list[str] = []

    async def later() -> None:
        await asyncio.sleep(0.01)
        finished.append("done")

    @define_handler
    async def handler(event):
        event.wait_until(later())
        return "sent"

    app = app_with(bg=handler)
    app.serverless = True
    async with TestClient(app) as client:
        await client.get("/bg")
        assert finished == ["done"]


async def test_failing_background_work_goes_to_the_error_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors: list[BaseException] = []

    async def fail() -> None:
        raise RuntimeError("background broke")

    @define_handler
    async def handler(event):
        event.wait_until(fail())
        return "ok"

    app = app_with(bg=handler)
    app.hooks.hook("error", lambda error, event: errors.append(error))
    with caplog.at_level(logging.ERROR, logger="nitro"):
        async with TestClient(app) as client:
            await client.get("/bg")
            await asyncio.sleep(0.01)
    assert [str(e) for e in errors] == ["background broke"]


async def test_base_url_prefixes_every_route() -> None:
    app = NitroApp(base_url="/app/")
    app.add_route("/", lambda event: "home")
    app.add_route("/x", lambda event: event.pathname)
    async with TestClient(app) as client:
        assert (await client.get("/app")).text == "home"
        assert (await client.get("/app/x")).text == "/x"
        assert (await client.get("/x")).status_code == 404


async def test_use_event_outside_a_request_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="outside a request"):
        use_event()


async def test_programmatic_middleware_and_per_handler_middleware() -> None:
    order: list[str] = []

    @define_middleware
    def first(event):
        order.append("global")

    def per_route(event):
        order.append("route")
        if event.headers.get("x-stop"):
            return "stopped"

    app = NitroApp(middleware=[first])
    app.add_route(
        "/x",
        define_handler(lambda event: order.append("handler") or "done", middleware=[per_route]),
    )
    async with TestClient(app) as client:
        assert (await client.get("/x")).text == "done"
        assert (await client.get("/x", headers={"x-stop": "1"})).text == "stopped"
    assert order == ["global", "route", "handler", "global", "route"]


async def test_concurrent_first_requests_start_the_app_once() -> None:
    starts = 0

    @define_plugin
    async def plugin(app: NitroApp) -> None:
        nonlocal starts
        await asyncio.sleep(0.01)
        starts += 1

    app = NitroApp(plugins=[plugin])
    app.add_route("/", lambda event: "ok")
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        responses = await asyncio.gather(*(client.get("/") for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert starts == 1


async def test_route_module_imported_on_first_request(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "lazy.py").write_text(
        "import builtins\nbuiltins.LAZY_IMPORTS = getattr(builtins, 'LAZY_IMPORTS', 0) + 1\n"
        "from nitro import define_handler\nhandler = define_handler(lambda event: 'lazy')\n"
    )
    import builtins

    from nitro.runtime.app import load_app

    app = load_app(tmp_path)
    async with TestClient(app) as client:
        before = getattr(builtins, "LAZY_IMPORTS", 0)
        assert (await client.get("/lazy")).text == "lazy"
        assert (await client.get("/lazy")).text == "lazy"
    assert builtins.LAZY_IMPORTS == before + 1  # type: ignore[attr-defined]


async def test_a_route_whose_module_fails_to_import_is_a_500(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "broken.py").write_text("import not_a_real_module\nhandler = None\n")
    from nitro.runtime.app import load_app

    async with TestClient(load_app(tmp_path)) as client:
        response = await client.get("/broken")
    assert response.status_code == 500
    assert response.json()["unhandled"] is True


async def test_a_served_request_leaves_no_reference_cycles() -> None:
    """The server entry raises the collector's young threshold (presets/server/entry.py)
    because a request makes no cyclic garbage: this keeps that true, for `def` and
    `async def` handlers, a static and a dynamic route."""
    import gc

    app = NitroApp(sync_to_thread=False)

    @define_handler
    async def hello(event: Any) -> Any:
        return {"hello": "world"}

    @define_handler
    def user(event: Any) -> Any:
        return {"id": event.params["id"]}

    app.add_route("/", hello)
    app.add_route("/users/:id", user)
    await app.startup()
    answers: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answers.append(message)

    def scope(path: str) -> dict[str, Any]:
        return {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 3000),
        }

    for path in ("/", "/users/42"):
        for _ in range(10):  # first calls fill caches
            await app(scope(path), receive, send)
        gc.collect()
        gc.disable()
        try:
            for _ in range(200):
                await app(scope(path), receive, send)
            assert gc.collect() == 0, path  # nothing unreachable but for a cycle
        finally:
            gc.enable()
    assert {a["status"] for a in answers} == {200}
    await app.shutdown()
