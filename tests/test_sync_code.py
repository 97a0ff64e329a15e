"""Sync and async user code alike, on every path that calls it (DESIGN.md 6.1).

One project is written twice, every piece of user code once as ``def`` and once as
``async def``: handlers (plain and typed), global and directory middleware, the
server.py handler, plugins, every hook, the error handler, a cached handler (with
`get_key` and `should_bypass_cache`), a cached function, route-rule `cache` and
`swr`, tasks and `run_task`, WebSocket hooks, `wait_until` and a streamed sync
generator. Each piece notes the thread it ran on and whether `use_event()` gave its
event. The project runs in-process (`nitro.testing`) with `sync_to_thread` on and
off, and through the server preset's real entry (uvicorn).
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from nitro.testing import TestClient

from helpers import ServerProcess, free_port, nitro_cli

pytestmark = pytest.mark.anyio

NOTE = '''
import threading

from nitro import use_event, use_nitro_app


def note(where, event=None):
    """Record where this ran: its thread, and whether use_event() is its event."""
    same = True
    if event is not None:
        try:
            same = use_event() is event
        except RuntimeError:
            same = False
    use_nitro_app().state.setdefault("log", []).append(
        [where, threading.current_thread().name, same]
    )
'''


def write_project(root: Path, kind: str, sync_to_thread: bool | None = None) -> Path:
    """The project with every piece of user code as `kind` ("def" or "async"). Its
    helper module has a name no other test project uses: modules are per process."""
    a = "async " if kind == "async" else ""
    send = "await " if kind == "async" else "return "  # a sync hook may return an awaitable
    files = {
        "sync_matrix_notes.py": NOTE,
        "nitro.config.py": f"""
            from nitro.config import define_nitro_config
            from sync_matrix_notes import note


            {a}def on_error(error, event):
                note("error_handler", event)
                return {{"handled": type(error).__name__}}


            config = define_nitro_config(
                error_handler=on_error,
                route_rules={{
                    "/rule-cached": {{"cache": {{"max_age": 60}}}},
                    "/rule-swr": {{"swr": 60}},
                }},
                sync_to_thread={sync_to_thread!r},
            )
        """,
        "server.py": f"""
            from sync_matrix_notes import note


            {a}def handler(event):
                note("server_handler", event)
        """,
        "middleware/01.note.py": f"""
            from sync_matrix_notes import note


            {a}def handler(event):
                note("middleware", event)
        """,
        "plugins/01.hooks.py": f"""
            from nitro import define_plugin
            from sync_matrix_notes import note


            @define_plugin
            {a}def plugin(nitro_app):
                note("plugin")

                {a}def request(event):
                    if event.pathname == "/":
                        note("hook_request", event)

                {a}def response(event, response):
                    if event.pathname == "/":
                        note("hook_response", event)

                {a}def after_response(event, response):
                    if event.pathname == "/":
                        note("hook_after_response", event)

                {a}def error(error, event):
                    note("hook_error", event)

                {a}def close():
                    note("hook_close")

                for name, fn in [
                    ("request", request),
                    ("response", response),
                    ("after_response", after_response),
                    ("error", error),
                    ("close", close),
                ]:
                    nitro_app.hooks.hook(name, fn)
        """,
        "routes/index.py": f"""
            from sync_matrix_notes import note


            {a}def handler(event):
                note("handler", event)
                return {{"kind": "{kind}"}}
        """,
        "routes/typed/[id].py": f"""
            from nitro import Event
            from sync_matrix_notes import note


            {a}def handler(id: int, event: Event):
                note("typed_handler", event)
                return {{"id": id}}
        """,
        "routes/scoped/_middleware.py": f"""
            from sync_matrix_notes import note


            {a}def handler(event):
                note("scoped_middleware", event)
        """,
        "routes/scoped/index.py": """
            async def handler(event):
                return "scoped"
        """,
        "routes/cached.py": f"""
            from nitro import define_cached_handler
            from sync_matrix_notes import note


            {a}def key(event):
                note("get_key", event)
                return "one"


            {a}def bypass(event):
                note("should_bypass_cache", event)
                return False


            @define_cached_handler(max_age=60, get_key=key, should_bypass_cache=bypass)
            {a}def handler(event):
                note("cached_handler", event)
                return {{"cached": True}}
        """,
        "routes/rule-cached.py": f"""
            from sync_matrix_notes import note


            {a}def handler(event):
                note("rule_cache", event)
                return {{"rule": "cache"}}
        """,
        "routes/rule-swr.py": f"""
            from sync_matrix_notes import note


            {a}def handler(event):
                note("rule_swr", event)
                return {{"rule": "swr"}}
        """,
        "routes/cached-function.py": f"""
            from nitro import define_cached_function
            from sync_matrix_notes import note


            @define_cached_function(max_age=60)
            {a}def double(n):
                note("cached_function")
                return n * 2


            async def handler(event):
                return {{"value": await double(21)}}
        """,
        "tasks/work.py": f"""
            from nitro import define_task
            from sync_matrix_notes import note


            @define_task(description="records where it ran")
            {a}def task(payload, context):
                note("task")
                return {{"payload": payload}}
        """,
        "routes/run-task.py": """
            from nitro import run_task


            async def handler(event):
                return await run_task("work", {"n": 1})
        """,
        "routes/boom.py": f"""
            {a}def handler(event):
                raise ValueError("boom")
        """,
        "routes/later.py": f"""
            from sync_matrix_notes import note


            async def save(event):
                note("wait_until", event)


            {a}def handler(event):
                event.wait_until(save(event))
                return "later"
        """,
        "routes/stream.py": f"""
            from sync_matrix_notes import note


            {a}def chunks():
                note("stream")
                yield "a"
                yield "b"


            def handler(event):
                return chunks()
        """,
        "routes/log.py": """
            from nitro import use_nitro_app


            async def handler(event):
                return use_nitro_app().state.get("log", [])
        """,
        "routes/ws.py": f"""
            from nitro import define_websocket_handler
            from sync_matrix_notes import note


            {a}def upgrade(request):
                note("ws_upgrade")


            {a}def open(peer):
                note("ws_open")


            {a}def message(peer, message):
                note("ws_message")
                {send}peer.send({{"echo": message.text()}})


            {a}def close(peer, details):
                note("ws_close")


            handler = define_websocket_handler(
                upgrade=upgrade, open=open, message=message, close=close
            )
        """,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


HTTP_PATHS = [
    "/",
    "/typed/7",
    "/scoped",
    "/cached",
    "/rule-cached",
    "/rule-swr",
    "/cached-function",
    "/run-task",
    "/boom",
    "/later",
    "/stream",
]
WHERE = [
    "plugin",
    "hook_request",
    "hook_response",
    "hook_after_response",
    "hook_error",
    "error_handler",
    "server_handler",
    "middleware",
    "handler",
    "typed_handler",
    "scoped_middleware",
    "get_key",
    "should_bypass_cache",
    "cached_handler",
    "rule_cache",
    "rule_swr",
    "cached_function",
    "task",
    "wait_until",
    "stream",
]
# Streams and wait_until work run on the loop for async code; the sync generator is
# pulled on a worker thread (per chunk) when sync code goes to threads.
ON_LOOP_ALWAYS = {"wait_until"}


async def exercise(client: httpx.AsyncClient) -> None:
    """Every HTTP path, checking what each answers."""
    answers: dict[str, Any] = {}
    for path in HTTP_PATHS:
        response = await client.get(path)
        answers[path] = (response.status_code, response.text)
    assert answers["/"][0] == 200
    assert json.loads(answers["/typed/7"][1]) == {"id": 7}
    assert answers["/scoped"] == (200, "scoped")
    assert json.loads(answers["/cached"][1]) == {"cached": True}
    assert json.loads(answers["/rule-cached"][1]) == {"rule": "cache"}
    assert json.loads(answers["/rule-swr"][1]) == {"rule": "swr"}
    assert json.loads(answers["/cached-function"][1]) == {"value": 42}
    assert json.loads(answers["/run-task"][1]) == {"payload": {"n": 1}}
    assert answers["/boom"][0] == 500 and json.loads(answers["/boom"][1]) == {
        "handled": "ValueError"
    }
    assert answers["/later"] == (200, "later")
    assert answers["/stream"] == (200, "ab")
    # a second request to each cached route is a hit: the cache's own callbacks run,
    # the handler does not
    for path in ("/cached", "/rule-cached", "/rule-swr"):
        assert (await client.get(path)).status_code == 200


def check_log(log: list[list[Any]], kind: str, threads: bool, main: str) -> None:
    """Every piece ran, on the expected thread, and saw its own event."""
    seen = {where for where, _, _ in log}
    assert set(WHERE) <= seen, sorted(set(WHERE) - seen)
    worker = threads and kind == "def"
    for where, thread, same_event in log:
        assert same_event, f"{where}: use_event() was not its event"
        if where in ON_LOOP_ALWAYS:
            expected = main
        else:
            expected = "nitro-sync" if worker else main
        assert thread == expected, f"{where} ran on {thread}, expected {expected}"
    counts = {where: sum(1 for w, _, _ in log if w == where) for where in seen}
    # cached answers were computed once each, their callbacks ran per request
    assert counts["cached_handler"] == 1 and counts["rule_cache"] == 1 and counts["rule_swr"] == 1
    assert counts["get_key"] == 2 and counts["should_bypass_cache"] == 2


@pytest.mark.parametrize("kind", ["def", "async"])
@pytest.mark.parametrize("sync_to_thread", [True, False])
async def test_every_path_in_process(tmp_path: Path, kind: str, sync_to_thread: bool) -> None:
    root = write_project(tmp_path / kind, kind, sync_to_thread)
    async with TestClient(root) as client:
        await exercise(client)
        app = client.app
        assert app.sync_to_thread is sync_to_thread
    log = app.state["log"]
    check_log(log, kind, sync_to_thread, "MainThread")
    assert [w for w, _, _ in log].count("hook_close") == 1


@pytest.mark.parametrize("kind", ["def", "async"])
async def test_every_path_through_the_server_entry(tmp_path: Path, kind: str) -> None:
    """The server preset's entry (uvicorn, worker threads by default), WebSocket hooks too."""
    root = write_project(tmp_path / kind, kind)
    built = nitro_cli("build", str(root))
    assert built.returncode == 0, built.stderr
    port = free_port()
    server = ServerProcess(
        [sys.executable, str(root / ".output" / "server" / "index.py")],
        cwd=root,
        port=port,
        log=tmp_path / "server.log",
    )
    try:
        server.wait_ready(path="/log")
        async with httpx.AsyncClient(base_url=server.url) as client:
            await exercise(client)
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send("hi")
                assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"echo": "hi"}
            # the close hook runs as the server sees the connection end: poll for it
            for _ in range(200):
                log = (await client.get("/log")).json()
                if any(where == "ws_close" for where, _, _ in log):
                    break
                await asyncio.sleep(0.02)
    finally:
        assert server.stop() == 0, server.logs()
    ws_hooks = {"ws_upgrade", "ws_open", "ws_message", "ws_close"}
    assert ws_hooks <= {where for where, _, _ in log}
    check_log(log, kind, True, "MainThread")
