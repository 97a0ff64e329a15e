"""Tasks and the scheduler, in-process."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from nitro import HTTPError, NitroApp, define_task, run_task
from nitro.config import ConfigError
from nitro.core.schedule import cron_error
from nitro.core.scheduler import Scheduler
from nitro.runtime.app import load_app
from nitro.runtime.tasks import schedule_from_config
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


async def app_with(**tasks: Any) -> NitroApp:
    """A started app with `tasks` (run_task outside a request runs on the running app)."""
    app = NitroApp()
    for name, task in tasks.items():
        app.tasks.add(name.replace("__", ":"), task)
    await app.startup()
    return app


def test_define_task_forms() -> None:
    @define_task
    def bare(payload, context):
        return 1

    @define_task(name="custom", description="With options")
    async def decorated(payload, context):
        return 2

    called = define_task(name="call", run=lambda payload, context: 3)
    assert (bare.name, decorated.name, decorated.description, called.name) == (
        None,
        "custom",
        "With options",
        "call",
    )
    with pytest.raises(TypeError, match="needs a function"):
        define_task(run=42)  # type: ignore[arg-type]


async def test_run_task_returns_the_value_and_passes_payload_and_context() -> None:
    seen: dict[str, Any] = {}

    def migrate(payload: Any, context: Any) -> Any:
        seen.update(payload=payload, context=context)
        return {"ok": True}

    await app_with(db__migrate=define_task(migrate))
    assert await run_task("db:migrate", {"dry": True}, {"by": "test"}) == {"ok": True}
    assert seen == {"payload": {"dry": True}, "context": {"by": "test"}}
    assert await run_task("db:migrate") == {"ok": True}
    assert seen["payload"] == {} and seen["context"] == {}


async def test_unknown_task_is_404_naming_the_known_ones() -> None:
    await app_with(a=define_task(lambda p, c: 1), b=define_task(lambda p, c: 2))
    with pytest.raises(HTTPError) as info:
        await run_task("c")
    assert info.value.status == 404
    assert info.value.message == "Task 'c' not found; known tasks: a, b"


async def test_concurrent_runs_of_one_task_share_one_run() -> None:
    calls = 0

    async def slow(payload: Any, context: Any) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    app = await app_with(slow=define_task(slow))
    results = await asyncio.gather(*(app.tasks.run("slow", {"n": i}) for i in range(5)))
    assert results == [1] * 5
    assert calls == 1
    assert await app.tasks.run("slow") == 2  # a later call is a new run


async def test_a_caller_giving_up_does_not_cancel_the_shared_run() -> None:
    finished = asyncio.Event()

    async def work(payload: Any, context: Any) -> str:
        await asyncio.sleep(0.1)
        finished.set()
        return "done"

    app = await app_with(work=define_task(work))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(app.tasks.run("work"), 0.01)
    assert await app.tasks.run("work") == "done"
    assert finished.is_set()


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("*/5 * * * *", None),
        ("@hourly", None),
        ("*/10 * * * * *", None),
        ("* * * *", "has 4 fields"),
        ("61 * * * *", "not a valid cron"),
        ("@fortnightly", "unknown alias"),
    ],
)
def test_cron_validation(cron: str, problem: str | None) -> None:
    error = cron_error(cron)
    assert (error is None) if problem is None else (problem in (error or ""))


def test_schedule_config_errors() -> None:
    assert schedule_from_config({"0 * * * *": "a", "@daily": ["a", "b"]}, ["a", "b"]) == {
        "0 * * * *": ["a"],
        "@daily": ["a", "b"],
    }
    with pytest.raises(
        ConfigError, match="names task 'nope', which does not exist; known tasks: a"
    ):
        schedule_from_config({"0 * * * *": ["nope"]}, ["a"])
    with pytest.raises(ConfigError, match="'0 \\* \\*' has 3 fields"):
        schedule_from_config({"0 * *": ["a"]}, ["a"])


def scheduled_app(cron: str, **tasks: Any) -> NitroApp:
    app = NitroApp()
    for name, fn in tasks.items():
        app.tasks.add(name, define_task(fn))
    app.tasks.schedule = {cron: list(tasks)}
    return app


async def test_scheduler_runs_each_tick_with_its_own_scheduled_time() -> None:
    runs: list[tuple[str, str]] = []

    def a(payload: dict[str, Any], context: Any) -> None:
        runs.append(("a", payload["scheduled_time"]))

    def b(payload: dict[str, Any], context: Any) -> None:
        runs.append(("b", payload["scheduled_time"]))

    app = scheduled_app("* * * * * *", a=a, b=b)
    app.hooks.hook("error", lambda error, event: pytest.fail(str(error)))
    scheduler = Scheduler(app.tasks)
    scheduler.start()
    deadline = time.monotonic() + 5
    while len({t for _, t in runs}) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await scheduler.stop(1)
    ticks = sorted({t for _, t in runs})
    assert len(ticks) >= 2
    assert all(t.endswith("+00:00") for t in ticks)
    first, second = (datetime.fromisoformat(t) for t in ticks[:2])
    assert (second - first).total_seconds() == 1
    assert sorted(runs[:2]) == [("a", ticks[0]), ("b", ticks[0])]


async def test_ticks_missed_while_busy_run_once() -> None:
    runs: list[str] = []
    app = scheduled_app(
        "* * * * * *", t=lambda payload, context: runs.append(payload["scheduled_time"])
    )
    scheduler = Scheduler(app.tasks)
    scheduler.start()
    await asyncio.sleep(0)  # let the loop compute its first tick
    time.sleep(3.2)  # the event loop is blocked through three ticks
    await asyncio.sleep(0.3)
    await scheduler.stop(1)
    assert len(runs) == 1, runs


async def test_scheduled_failures_go_to_the_error_hook_and_shutdown_waits() -> None:
    errors: list[BaseException] = []
    finished: list[str] = []

    def fails(payload: Any, context: Any) -> None:
        raise RuntimeError("scheduled boom")

    async def slow(payload: Any, context: Any) -> None:
        await asyncio.sleep(0.5)
        finished.append("slow")

    app = scheduled_app("* * * * * *", fails=fails, slow=slow)
    app.hooks.hook("error", lambda error, event: errors.append(error))
    scheduler = Scheduler(app.tasks)
    scheduler.start()
    deadline = time.monotonic() + 3
    while not errors and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await scheduler.stop(5)  # waits for "slow" to finish
    assert str(errors[0]) == "scheduled boom"
    assert finished and finished[0] == "slow"


async def test_claims_decide_who_runs_a_tick() -> None:
    claimed: set[tuple[str, str]] = set()
    runs: list[str] = []

    async def claim(task: str, tick: str, ttl: float) -> bool:
        assert ttl >= 300
        if (task, tick) in claimed:
            return False
        claimed.add((task, tick))
        return True

    app = scheduled_app(
        "* * * * * *", t=lambda payload, context: runs.append(payload["scheduled_time"])
    )
    one = Scheduler(app.tasks, claim=claim)
    two = Scheduler(app.tasks, claim=claim)
    one.start()
    two.start()
    await asyncio.sleep(2.5)
    await one.stop(1)
    await two.stop(1)
    assert len(runs) >= 2
    assert len(runs) == len(set(runs))  # every tick ran once although two schedulers fired


# --- endpoints ---


async def test_task_endpoints_in_dev(tmp_path: Path) -> None:
    from helpers import FIXTURE

    async with TestClient(FIXTURE, dev=True) as client:
        listing = (await client.get("/_nitro/tasks")).json()
        assert listing == {
            "tasks": {
                "cms:update": {"description": "Refresh CMS content"},
                "db:migrate": {"description": "Run database migrations"},
            },
            "scheduled_tasks": [{"cron": "0 0 1 1 *", "tasks": ["cms:update"]}],
        }
        ran = await client.post(
            "/_nitro/tasks/db:migrate?tag=a&tag=b&x=1", json={"payload": {"x": 2}}
        )
        assert ran.json() == {"result": {"migrated": True, "payload": {"tag": ["a", "b"], "x": 2}}}
        whole = await client.post("/_nitro/tasks/db:migrate", json={"y": 3})
        assert whole.json()["result"]["payload"] == {"y": 3}
        assert (await client.post("/_nitro/tasks/db:migrate", json=[1])).status_code == 400
        assert (await client.post("/_nitro/tasks/nope")).status_code == 404
    async with TestClient(FIXTURE, dev=True, client=("203.0.113.7", 5000)) as remote:
        response = await remote.get("/_nitro/tasks", headers={"x-forwarded-for": "127.0.0.1"})
        assert response.status_code == 403  # forwarding headers never count


async def test_task_endpoints_in_production_need_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpers import FIXTURE

    async with TestClient(FIXTURE) as client:
        assert (await client.get("/_nitro/tasks")).json() == {
            "detail": "Not Found"
        }  # not there: server.py answers
    monkeypatch.setenv("NITRO_TASKS_SECRET", "s3cret-token")
    async with TestClient(FIXTURE, client=("203.0.113.7", 5000)) as client:
        assert (await client.get("/_nitro/tasks")).status_code == 401
        assert (
            await client.get("/_nitro/tasks", headers={"authorization": "Bearer wrong"})
        ).status_code == 401
        ok = await client.post(
            "/_nitro/tasks/db:migrate", headers={"authorization": "Bearer s3cret-token"}
        )
        assert ok.json()["result"]["migrated"] is True


async def test_run_task_from_a_route_and_storage_in_tasks(tmp_path: Path) -> None:
    import shutil

    from helpers import FIXTURE

    root = tmp_path / "fixture"
    shutil.copytree(FIXTURE, root)
    async with TestClient(load_app(root)) as client:
        first = await client.post("/run-task", json={"name": "cms:update"})
        second = await client.post(
            "/run-task", json={"name": "cms:update", "payload": {"scheduled_time": "x"}}
        )
    assert first.json() == {"result": {"updates": 1, "scheduled_time": None}}
    assert second.json() == {"result": {"updates": 2, "scheduled_time": "x"}}
