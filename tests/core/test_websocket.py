"""WebSockets through a real server and a real client (`websockets`): uvicorn serving
the project, and granian serving its build (``server={"engine": "granian"}``)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from helpers import REPO, ServerProcess, free_port, nitro_cli, port_open, require_service

pytestmark = pytest.mark.anyio

PROJECT = REPO / "tests" / "websocket_fixture"
SERVE = (
    "import sys; from nitro.runtime.app import load_app; from nitro.adapters.uvicorn import serve; "
    "serve(load_app(sys.argv[1]))"
)


def start(root: Path, logs: Path, env: dict[str, str] | None = None) -> ServerProcess:
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-c", SERVE, str(root)], cwd=root, port=port, env=env, log=logs
    )
    server.wait_ready(path="/plain")
    return server


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ws") / "project"
    shutil.copytree(PROJECT, root)
    return root


def start_built_on_granian(project: Path, logs: Path) -> ServerProcess:
    root = project.parent / "granian"
    shutil.copytree(project, root)
    with (root / "nitro.config.py").open("a") as config:
        config.write("\nconfig = config.replace(server={'engine': 'granian'})\n")
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"], cwd=root, port=free_port(), log=logs
    )
    server.wait_ready(path="/plain")
    return server


@pytest.fixture(scope="module", params=["uvicorn", "granian"])
def server(
    request: pytest.FixtureRequest, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    logs = tmp_path_factory.mktemp("logs") / "server.log"
    if request.param == "granian":
        process = start_built_on_granian(project, logs)
    else:
        process = start(project, logs)
    process.engine = request.param  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        assert process.stop() == 0, process.logs()


def ws_url(server: ServerProcess, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


async def receive_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def closed_record(server: ServerProcess, user: str) -> dict[str, Any]:
    """What the close hook stored for `user` (it runs after the client saw the close)."""
    deadline = time.monotonic() + 15  # generous: a loaded CI machine schedules the hook late
    async with httpx.AsyncClient(base_url=server.url) as client:
        while time.monotonic() < deadline:
            record = (await client.get(f"/closed/{user}")).json()
            if record:
                return record  # type: ignore[no-any-return]
            await asyncio.sleep(0.02)
    raise AssertionError(f"the close hook stored nothing for {user}")


async def test_open_message_publish_and_context(server: ServerProcess) -> None:
    async with (
        connect(ws_url(server, "/chat/lobby?token=ada")) as ada,
        connect(ws_url(server, "/chat/lobby?token=bob")) as bob,
        connect(ws_url(server, "/chat/other?token=eve")) as eve,
    ):
        assert await receive_json(ada) == {"joined": "ada", "room": "lobby", "via_middleware": True}
        await receive_json(bob)
        await receive_json(eve)
        await ada.send("hello")
        # Everyone else subscribed in the same namespace (/chat/lobby) gets it, not the sender.
        assert await receive_json(bob) == {"from": "ada", "text": "hello"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ada.recv(), 0.3)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(eve.recv(), 0.1)  # another room is another namespace
        await ada.send(b"binary hello")
        assert await receive_json(bob) == {"from": "ada", "text": "binary hello"}  # text() of bytes
        await ada.send("bytes")
        assert await asyncio.wait_for(ada.recv(), 5) == b"bytes!"
        await ada.send('{"n": [1, 2]}')
        assert await receive_json(ada) == {"parsed": {"n": [1, 2]}}


async def test_upgrade_can_refuse_and_plain_http_gets_its_own_answer(server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(server, "/chat/lobby")):
            pass
    assert refused.value.response.status_code == 401
    assert b"a token is required" in refused.value.response.body
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/echo")).json() == {"hint": "connect with a WebSocket"}
        upgrade_required = await client.get("/chat/lobby")
        assert upgrade_required.status_code == 426
        assert upgrade_required.headers["upgrade"] == "websocket"


async def test_middleware_and_route_rules_run_for_the_upgrade(server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as blocked:
        async with connect(
            ws_url(server, "/chat/lobby?token=x"), additional_headers={"x-block": "1"}
        ):
            pass
    assert blocked.value.response.status_code == 403
    # The redirect rule answers the handshake with a 307 to /chat/lobby, which the
    # client follows (the query string carried over).
    async with connect(ws_url(server, "/old-chat/lobby?token=moved")) as ws:
        assert (await receive_json(ws))["joined"] == "moved"
    if server.engine == "uvicorn":  # type: ignore[attr-defined]  # uvicorn's handshake log
        assert '"WebSocket /old-chat/lobby?token=moved" 307' in server.logs()


async def test_an_http_route_never_runs_for_an_upgrade(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        before = (await client.get("/plain")).json()["calls"]
        for path in ("/plain", "/nowhere"):
            with pytest.raises(InvalidStatus) as missing:
                async with connect(ws_url(server, path)):
                    pass
            assert missing.value.response.status_code == 404
        assert (await client.get("/plain")).json()["calls"] == before + 1


async def test_a_failing_hook_closes_only_its_peer_with_1011(server: ServerProcess) -> None:
    async with (
        connect(ws_url(server, "/chat/crash?token=crasher")) as crasher,
        connect(ws_url(server, "/chat/crash?token=witness")) as witness,
    ):
        await receive_json(crasher)
        await receive_json(witness)
        await crasher.send("boom")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(crasher.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        await witness.send("still here")  # the other peer is unaffected
        await witness.send('{"ok": true}')
        assert await receive_json(witness) == {"parsed": {"ok": True}}
    record = await closed_record(server, "crasher")
    assert record["code"] == 1011
    assert record["error"] == "RuntimeError: the hook failed"  # the error hook saw it first
    assert "unhandled RuntimeError" in server.logs() or "the hook failed" in server.logs()


async def test_invalid_json_is_a_clear_error_the_hook_may_handle(server: ServerProcess) -> None:
    async with connect(ws_url(server, "/chat/json?token=jay")) as ws:
        await receive_json(ws)
        await ws.send("bad-json-handled")
        reply = await receive_json(ws)
        assert reply["error"].startswith("[nitro:websocket] message is not valid JSON")
        await ws.send('{"alive": 1}')
        assert await receive_json(ws) == {"parsed": {"alive": 1}}  # the connection survived
        await ws.send("bad-json")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007


async def test_an_oversize_message_closes_with_1009(server: ServerProcess) -> None:
    async with connect(ws_url(server, "/chat/big?token=big")) as ws:
        await receive_json(ws)
        await ws.send("x" * 2000)  # the fixture's limit is 1024 bytes
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert (await closed_record(server, "big"))["code"] == 1009


async def test_close_by_either_side_reaches_the_close_hook(server: ServerProcess) -> None:
    async with connect(ws_url(server, "/chat/bye?token=leaver")) as ws:
        await receive_json(ws)
        await ws.send("bye")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "asked to leave")
    async with connect(ws_url(server, "/chat/bye?token=quitter")) as ws:
        await receive_json(ws)
        await ws.close(4001, "client leaves")
    record = await closed_record(server, "quitter")
    # granian's websocket.disconnect carries the client's code but not its reason (the
    # ASGI 2.3 `reason` key); documented in docs/platforms/server.md
    reason = "client leaves" if server.engine == "uvicorn" else ""  # type: ignore[attr-defined]
    assert (record["code"], record["reason"]) == (4001, reason)


async def test_a_client_that_vanishes_mid_broadcast_does_not_break_the_sender(
    server: ServerProcess,
) -> None:
    async with connect(ws_url(server, "/chat/vanish?token=talker")) as talker:
        await receive_json(talker)
        listeners = [await connect(ws_url(server, f"/chat/vanish?token=l{i}")) for i in range(5)]
        for listener in listeners:
            await receive_json(listener)
        for listener in listeners[:3]:
            listener.transport.abort()  # gone without a close frame
        for n in range(20):
            await talker.send(f"message {n}")
        for listener in listeners[3:]:
            received = [await receive_json(listener) for _ in range(20)]
            assert [r["text"] for r in received] == [f"message {n}" for n in range(20)]
            await listener.close()
        await talker.send('{"still": "served"}')
        assert await receive_json(talker) == {"parsed": {"still": "served"}}


# --- across processes, through the Redis on this machine ---


@pytest.fixture
async def two_servers(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    require_service(port_open("127.0.0.1", 6379), "Redis", "redis-server --port 6379")
    env = {
        "WS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "WS_CHANNEL_PREFIX": f"nitro-test:{uuid.uuid4().hex}:",
    }
    logs = tmp_path_factory.mktemp("redis-logs")
    first = start(project, logs / "first.log", env)
    second = start(project, logs / "second.log", env)
    try:
        yield first, second
    finally:
        assert first.stop() == 0, first.logs()
        assert second.stop() == 0, second.logs()


async def test_publish_reaches_peers_connected_to_another_process(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_servers
    async with (
        connect(ws_url(first, "/chat/global?token=here")) as here,
        connect(ws_url(second, "/chat/global?token=there")) as there,
        connect(ws_url(second, "/chat/global?token=also-there")) as also_there,
        connect(ws_url(first, "/chat/elsewhere?token=other")) as other,
    ):
        for ws in (here, there, also_there, other):
            await receive_json(ws)
        await here.send("across")
        assert await receive_json(there) == {"from": "here", "text": "across"}
        assert await receive_json(also_there) == {"from": "here", "text": "across"}
        await there.send("back")
        assert await receive_json(here) == {"from": "there", "text": "back"}
        assert await receive_json(also_there) == {"from": "there", "text": "back"}
        for ws in (here, there, other):  # nobody hears themselves; other rooms hear nothing
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.3)


async def test_an_unreachable_redis_refuses_the_upgrade_with_503(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = {
        "WS_REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0",
        "WS_CHANNEL_PREFIX": "nitro-test-down:",
    }
    server = start(project, tmp_path_factory.mktemp("down") / "server.log", env)
    try:
        for _ in range(2):  # a failed start is tried again by the next connection
            with pytest.raises(InvalidStatus) as refused:
                async with connect(ws_url(server, "/chat/lobby?token=x")):
                    pass
            assert refused.value.response.status_code == 503
            body = refused.value.response.body.decode()
            assert "Redis pub/sub at 127.0.0.1:" in body and "hunter2" not in body
    finally:
        assert server.stop() == 0, server.logs()
