"""The server entry with several workers, on each engine: a supervising process and
two workers on one port (``server={"workers": 2, "engine": ...}``).

Each worker runs the plugins at start and the `close` hooks at the end (markers named
by its pid), a killed worker is replaced, SIGTERM lets an in-flight request finish
and the entry exits 0, a scheduled tick runs once across the workers, and with Redis a
WebSocket `publish` reaches the peers held by the other worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import ServerProcess, free_port, nitro_cli, port_open, require_service

pytestmark = pytest.mark.slow

ENGINES = ["uvicorn", "granian"]

PLUGIN = """import os
from pathlib import Path

from nitro import define_plugin


@define_plugin
def plugin(nitro_app):
    marks = Path(os.environ["MARKS"])
    (marks / f"start-{os.getpid()}").touch()

    def on_close():
        (marks / f"close-{os.getpid()}").touch()

    nitro_app.hooks.hook("close", on_close)
"""

TICK = """import json, os
from nitro import define_task


@define_task
def task(payload, context):
    with open(os.path.join(os.environ["MARKS"], "ticks.log"), "a") as log:
        log.write(json.dumps({"time": payload["scheduled_time"], "pid": os.getpid()}) + "\\n")
"""

SLOW = """import asyncio


async def handler(event):
    await asyncio.sleep(1.5)
    return "finished"
"""

PEER = """from nitro import get_request_ip, get_request_protocol


def handler(event):
    return {"ip": get_request_ip(event), "protocol": get_request_protocol(event)}
"""

ROOM = """import os
from nitro import define_websocket_handler


async def open(peer):
    peer.subscribe("room")
    await peer.send({"pid": os.getpid()})


async def message(peer, message):
    await peer.publish("room", {"text": message.text(), "pid": os.getpid()})


handler = define_websocket_handler(open=open, message=message)
"""

CONFIG = """import os
from nitro.config import define_nitro_config

websocket = {}
if os.environ.get("WS_REDIS_URL"):
    websocket = {"redis_url": "{{WS_REDIS_URL}}", "channel_prefix": os.environ["WS_PREFIX"]}

config = define_nitro_config(
    server={"workers": 2, "engine": %r},
    scheduled_tasks={"* * * * * *": ["tick"]},
    websocket=websocket,
)
"""


def build(root: Path, engine: str) -> Path:
    for folder in ("routes", "plugins", "tasks"):
        (root / folder).mkdir(parents=True)
    (root / "routes" / "pid.py").write_text(
        "import os\n\ndef handler(event):\n    return {'pid': os.getpid()}\n"
    )
    (root / "routes" / "slow.py").write_text(SLOW)
    (root / "routes" / "peer.py").write_text(PEER)
    (root / "routes" / "room.py").write_text(ROOM)
    (root / "plugins" / "marks.py").write_text(PLUGIN)
    (root / "tasks" / "tick.py").write_text(TICK)
    (root / "nitro.config.py").write_text(CONFIG % engine)
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def project(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp(engine) / "app", engine)


def start(project: Path, marks: Path, env: dict[str, str] | None = None) -> ServerProcess:
    marks.mkdir(exist_ok=True)
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=project,
        port=free_port(),
        env={"MARKS": str(marks), **(env or {})},
        log=marks / "server.log",
    )
    server.wait_ready(path="/pid")
    return server


def wait_until(condition: Callable[[], Any], what: str, server: ServerProcess, timeout=20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} after {timeout}s:\n{server.logs()}")


def pids(marks: Path, kind: str) -> set[int]:
    return {int(p.name.split("-", 1)[1]) for p in marks.glob(f"{kind}-*")}


def test_two_workers_start_replace_tick_and_stop_gracefully(
    engine: str, project: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    server = start(project, marks)
    try:
        wait_until(lambda: len(pids(marks, "start")) == 2, "two workers started", server)
        workers = pids(marks, "start")
        assert server.process.pid not in workers  # the supervisor runs no plugin
        assert f"serving with 2 {engine} worker(s)" in server.logs()

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(pids(marks, "start")) == 3, "the killed worker replaced", server)
        replaced = pids(marks, "start") - workers
        said = {"uvicorn": f"Child process [{victim}] died", "granian": "Respawning worker-"}
        wait_until(lambda: said[engine] in server.logs(), "the replacement logged", server)
        for _ in range(20):  # the port keeps answering, from the live workers
            assert httpx.get(server.url + "/pid", timeout=5).json()["pid"] != victim

        ticks = marks / "ticks.log"
        wait_until(
            lambda: ticks.exists() and len(ticks.read_text().splitlines()) >= 3, "3 ticks", server
        )

        answer: dict[str, httpx.Response] = {}
        thread = threading.Thread(
            target=lambda: answer.setdefault("slow", httpx.get(server.url + "/slow", timeout=20))
        )
        thread.start()
        time.sleep(0.5)  # the request under test must be in flight when the stop arrives
        code = server.stop(signal.SIGTERM)
        thread.join(20)
    finally:
        server.stop(signal.SIGKILL)
    assert code == 0, server.logs()
    assert answer["slow"].status_code == 200 and answer["slow"].text == "finished"
    # every worker alive at the stop ran its close hooks; the killed one could not
    assert pids(marks, "close") == (workers - {victim}) | replaced, server.logs()
    runs = [json.loads(line) for line in ticks.read_text().splitlines()]
    times = [run["time"] for run in runs]
    assert len(times) == len(set(times)), f"a tick ran twice: {sorted(times)}"
    assert {run["pid"] for run in runs} <= workers | replaced
    assert "publish() reaches only the peers connected to the same worker" in server.logs()


@pytest.mark.parametrize("when", ["announced", "one worker up"])
def test_a_stop_while_the_workers_start_ends_promptly(
    engine: str, project: Path, tmp_path: Path, when: str
) -> None:
    # SIGTERM while the supervisor sets up or a worker still loads the app: the server
    # exits 0 at once, instead of waiting to kill a worker that swallowed the signal
    # (granian's forked workers inherit the supervisor's handlers).
    marks = tmp_path / "marks"
    marks.mkdir()
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=project,
        port=free_port(),
        env={"MARKS": str(marks)},
        log=marks / "server.log",
    )
    if when == "announced":
        server.wait_for_log("serving with 2")
    else:
        wait_until(lambda: pids(marks, "start"), "a worker started", server)
    started = time.monotonic()
    code = server.stop(signal.SIGTERM, timeout=15)
    assert code == 0, server.logs()
    assert time.monotonic() - started < 10, server.logs()


def test_workers_end_with_a_killed_supervisor(project: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    server = start(project, marks)
    try:
        wait_until(lambda: len(pids(marks, "start")) == 2, "two workers started", server)
        workers = pids(marks, "start")
    finally:
        server.stop(signal.SIGKILL)  # no chance to stop them itself

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() for pid in workers)

    try:
        wait_until(gone, "the workers ended with their supervisor", server)
    finally:  # never leave an orphan serving the port behind a failed test
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_nitro_preview_runs_the_workers_and_stops_them(project: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "nitro", "preview", str(project), "--port", str(port)],
        cwd=project,
        port=port,
        env={"MARKS": str(marks), "NITRO_WORKERS": "2"},
        log=marks / "preview.log",
    )
    try:
        server.wait_ready(path="/pid")
        wait_until(lambda: len(pids(marks, "start")) == 2, "two workers started", server)
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.logs()
    assert pids(marks, "close") == pids(marks, "start"), server.logs()


def test_an_invalid_worker_count_stops_start_up_naming_the_variable(project: Path) -> None:
    env = {**os.environ, "NITRO_WORKERS": "", "WEB_CONCURRENCY": "many", "MARKS": "/nonexistent"}
    result = subprocess_run(project, env)
    assert result.returncode == 1
    assert "WEB_CONCURRENCY='many'" in result.stderr and "Traceback" not in result.stderr


def test_one_worker_from_the_environment_overrides_the_config(
    engine: str, project: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    server = start(project, marks, {"NITRO_WORKERS": "1"})
    try:
        workers = wait_until(lambda: pids(marks, "start"), "a worker started", server)
        assert len(workers) == 1
        if engine == "uvicorn":  # the default path: no supervisor at all
            assert workers == {server.process.pid}
        # Both engines trust forwarding headers from FORWARDED_ALLOW_IPS only (default:
        # loopback, which this test client is): the client becomes the forwarded one.
        forwarded = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
        peer = httpx.get(server.url + "/peer", headers=forwarded).json()
        assert peer == {"ip": "203.0.113.7", "protocol": "https"}
    finally:
        assert server.stop() == 0, server.logs()


def test_forwarding_headers_from_an_untrusted_peer_are_ignored(
    project: Path, tmp_path: Path
) -> None:
    server = start(project, tmp_path / "marks", {"FORWARDED_ALLOW_IPS": "192.0.2.1"})
    try:
        forwarded = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
        peer = httpx.get(server.url + "/peer", headers=forwarded).json()
        assert peer == {"ip": "127.0.0.1", "protocol": "http"}
    finally:
        assert server.stop() == 0, server.logs()


def test_granian_without_its_extra_names_the_extra(engine: str, project: Path) -> None:
    if engine != "granian":
        return  # only a granian build needs granian
    hide = (
        "import runpy, sys; sys.modules['granian'] = None; sys.argv = ['index.py']; "
        "runpy.run_path('.output/server/index.py', run_name='__main__')"
    )
    result = subprocess_run(project, {**os.environ, "NITRO_PORT": str(free_port())}, hide)
    assert result.returncode == 1
    assert 'pip install "nitro-py[granian]"' in result.stderr


def subprocess_run(project: Path, env: dict[str, str], code: str | None = None) -> Any:
    import subprocess

    args = ["-c", code] if code else [".output/server/index.py"]
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def redis_env() -> Iterator[dict[str, str]]:
    require_service(port_open("127.0.0.1", 6379), "Redis", "redis-server --port 6379")
    yield {
        "WS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "WS_PREFIX": f"nitro-test:{uuid.uuid4().hex}:",
    }


@pytest.mark.anyio
async def test_publish_reaches_peers_on_the_other_worker_through_redis(
    project: Path, tmp_path: Path, redis_env: dict[str, str]
) -> None:
    from websockets.asyncio.client import connect

    server = start(project, tmp_path / "marks", redis_env)
    url = server.url.replace("http://", "ws://") + "/room"
    try:
        peers: dict[int, Any] = {}
        extra = []
        for _ in range(40):  # connect until each worker holds a peer
            ws = await connect(url)
            pid = json.loads(await asyncio.wait_for(ws.recv(), 5))["pid"]
            if pid in peers:
                extra.append(ws)
            else:
                peers[pid] = ws
            if len(peers) == 2:
                break
        assert len(peers) == 2, "every connection went to one worker"
        (pid_a, a), (pid_b, b) = peers.items()
        await a.send("hello")
        assert json.loads(await asyncio.wait_for(b.recv(), 5)) == {"text": "hello", "pid": pid_a}
        await b.send("back")
        assert json.loads(await asyncio.wait_for(a.recv(), 5)) == {"text": "back", "pid": pid_b}
        for ws in [a, b, *extra]:
            await ws.close()
    finally:
        assert server.stop() == 0, server.logs()
    assert "publish() reaches only" not in server.logs()
