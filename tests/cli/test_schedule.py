"""Scheduled tasks in real server processes: each tick runs once across all of them."""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest

from helpers import ServerProcess, free_port, nitro_cli, port_open, require_service

TICK_TASK = """import json, os
from nitro import define_task


@define_task
def task(payload, context):
    with open(os.environ["TICK_LOG"], "a") as log:
        log.write(json.dumps({"time": payload["scheduled_time"], "pid": os.getpid()}) + "\\n")
"""


def project(root: Path, storage: str = "") -> Path:
    (root / "routes").mkdir(parents=True)
    (root / "tasks").mkdir()
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'up'\n")
    (root / "tasks" / "tick.py").write_text(TICK_TASK)
    (root / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        f"config = define_nitro_config(scheduled_tasks={{'* * * * * *': ['tick']}}{storage})\n"
    )
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    return root


def run_servers(roots: list[Path], log: Path, tmp_path: Path, seconds: float = 5.0) -> list[dict]:
    servers = []
    try:
        for i, root in enumerate(roots):
            port = free_port()
            server = ServerProcess(
                [sys.executable, ".output/server/index.py"],
                cwd=root,
                port=port,
                env={"TICK_LOG": str(log)},
                log=tmp_path / f"server{i}.log",
            )
            servers.append(server)
        for server in servers:
            server.wait_ready()
        time.sleep(seconds)  # the schedule is the thing under test: let ticks happen
    finally:
        for server in servers:
            assert server.stop() == 0, server.logs()
    return [json.loads(line) for line in log.read_text().splitlines()]


def assert_each_tick_once(runs: list[dict]) -> None:
    times = [run["time"] for run in runs]
    assert len(times) >= 3, runs
    assert len(times) == len(set(times)), f"a tick ran twice: {sorted(times)}"


def test_two_servers_sharing_fs_storage_run_each_tick_once(tmp_path: Path) -> None:
    root = project(tmp_path / "app")
    log = tmp_path / "ticks.log"
    log.touch()
    runs = run_servers([root, root], log, tmp_path)  # same build: same .data/kv
    assert_each_tick_once(runs)
    assert all(run["time"].endswith("+00:00") for run in runs)


def test_two_servers_sharing_only_redis_run_each_tick_once(tmp_path: Path) -> None:
    require_service(
        port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379", "redis-server --port 6379"
    )
    base = f"nitro-test:{uuid.uuid4().hex}:"
    storage = f", storage={{'tasks': {{'driver': 'redis', 'url': 'redis://127.0.0.1:6379/0', 'base': '{base}'}}}}"
    first = project(tmp_path / "one", storage)
    second = tmp_path / "two"
    shutil.copytree(first, second)  # separate copies: nothing shared but Redis
    log = tmp_path / "ticks.log"
    log.touch()
    runs = run_servers([first, second], log, tmp_path)
    assert_each_tick_once(runs)
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        claims = list(client.scan_iter(match=f"{base}*"))
        assert len(claims) >= len(runs)
        for key in client.scan_iter(match=f"{base}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.mark.parametrize("payload", ["{bad", "[1, 2]"])
def test_task_run_refuses_bad_payloads_and_runs_nothing(tmp_path: Path, payload: str) -> None:
    root = project(tmp_path / "app")
    log = tmp_path / "ticks.log"
    result = nitro_cli(
        "task", "run", "tick", str(root), "--payload", payload, env={"TICK_LOG": str(log)}
    )
    assert result.returncode == 2
    assert "--payload" in result.stderr
    assert not log.exists()


def test_task_cli(tmp_path: Path) -> None:
    root = project(tmp_path / "app")
    log = tmp_path / "ticks.log"
    listing = nitro_cli("task", "list", str(root))
    assert listing.stdout.splitlines() == ["tick  [* * * * * *]"]
    ran = nitro_cli(
        "task",
        "run",
        "tick",
        str(root),
        "--payload",
        '{"scheduled_time": "manual"}',
        env={"TICK_LOG": str(log)},
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"result": None}
    assert json.loads(log.read_text())["time"] == "manual"
    missing = nitro_cli("task", "run", "nope", str(root))
    assert missing.returncode == 1
    assert "Task 'nope' not found; known tasks: tick" in missing.stderr
