"""The one rule for scheduled runs (`app.tasks.run_scheduled`): the tick, unknown
crons, `only`, claims and failures, the same whichever platform fired it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from nitro import NitroApp, define_task
from nitro.core.schedule import (
    ScheduledTaskError,
    UnknownScheduleError,
    scheduled_tick,
)

pytestmark = pytest.mark.anyio
FIRED = datetime(2026, 3, 1, 12, 7, 10, tzinfo=UTC)


def app_with(schedule: dict[str, list[str]], **tasks: Any) -> NitroApp:
    app = NitroApp()
    for name, fn in tasks.items():
        app.tasks.add(name, define_task(fn))
    app.tasks.schedule = schedule
    return app


@pytest.mark.parametrize(
    ("cron", "fired", "late", "expected"),
    [
        ("*/5 * * * *", "12:05:00.300", False, "12:05:00"),  # on time
        ("*/5 * * * *", "12:04:59.600", False, "12:05:00"),  # fired early (clock skew)
        ("*/5 * * * *", "12:07:10", False, "12:05:00"),  # late or retried: its tick
        ("*/5 * * * *", "12:04:59.600", True, "12:00:00"),  # missed: never ahead
        ("*/10 * * * * *", "12:00:09.900", False, "12:00:10"),  # a seconds field
        ("* * * * * *", "12:00:00.700", False, "12:00:00"),  # every second: 250 ms early at most
        ("@hourly", "12:59:59.500", False, "13:00:00"),
    ],
)
def test_the_tick_a_run_stands_for(cron: str, fired: str, late: bool, expected: str) -> None:
    at = datetime.fromisoformat(f"2026-03-01T{fired}+00:00")
    assert scheduled_tick(cron, at, late=late).isoformat() == f"2026-03-01T{expected}+00:00"
    naive = at.replace(tzinfo=None)  # UTC when the platform gives no offset
    assert scheduled_tick(cron, naive, late=late) == scheduled_tick(cron, at, late=late)


async def test_a_tick_runs_its_tasks_together_each_to_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()

    async def waits(payload: Any, context: Any) -> Any:
        await asyncio.wait_for(started.wait(), 5)  # needs `starts` to run at the same time
        return payload

    async def starts(payload: Any, context: Any) -> Any:
        started.set()
        return context

    def fails(payload: Any, context: Any) -> None:
        raise RuntimeError("broke")

    app = app_with(
        {"*/5 * * * *": ["waits", "fails", "starts"]}, waits=waits, fails=fails, starts=starts
    )
    seen: list[BaseException] = []
    app.hooks.hook("error", lambda error, event: seen.append(error))
    with pytest.raises(ScheduledTaskError) as failed:
        await app.tasks.run_scheduled(" */5  * * * * ", FIRED, context={"source": "test"})
    run = failed.value.run
    assert run.cron == "*/5 * * * *" and run.scheduled_time == "2026-03-01T12:05:00+00:00"
    assert run.results == {
        "waits": {"scheduled_time": "2026-03-01T12:05:00+00:00"},
        "starts": {"source": "test", "cron": "*/5 * * * *"},
    }
    assert list(run.failures) == ["fails"] and seen == [run.failures["fails"]]
    assert failed.value.__cause__ is run.failures["fails"]
    assert "fails: RuntimeError: broke" in str(failed.value)
    logged = [r.getMessage() for r in caplog.records]
    assert (
        "[nitro:tasks] task fails (cron '*/5 * * * *' at 2026-03-01T12:05:00+00:00) failed"
        in logged
    )
    assert not any("unhandled" in line for line in logged)  # logged once, as a task failure


async def test_an_unknown_cron_runs_nothing_and_says_which_there_are() -> None:
    ran: list[Any] = []
    app = app_with({"*/5 * * * *": ["a"]}, a=lambda payload, context: ran.append(payload))
    with pytest.raises(UnknownScheduleError) as unknown:
        await app.tasks.run_scheduled("0 3 * * *", FIRED)
    assert unknown.value.status == 404 and unknown.value.data == {"schedules": ["*/5 * * * *"]}
    assert "no scheduled_tasks entry for cron '0 3 * * *'" in unknown.value.message
    with pytest.raises(UnknownScheduleError, match="does not run 'b'"):
        await app.tasks.run_scheduled("*/5 * * * *", FIRED, only=["b"])
    assert ran == []


async def test_only_and_claims() -> None:
    ran: list[str] = []
    claims: list[tuple[str, str, float]] = []

    async def claim(task: str, tick: str, ttl: float) -> bool:
        claims.append((task, tick, ttl))
        return task != "b"  # another process has b's tick

    app = app_with(
        {"*/5 * * * *": ["a", "b"]},
        a=lambda payload, context: ran.append("a"),
        b=lambda payload, context: ran.append("b"),
    )
    run = await app.tasks.run_scheduled("*/5 * * * *", FIRED, claim=claim)
    assert ran == ["a"] and run.skipped == ["b"] and list(run.results) == ["a"]
    assert claims[0] == ("a", "2026-03-01T12:05:00+00:00", 600.0)  # two intervals
    only = await app.tasks.run_scheduled("*/5 * * * *", FIRED, only=["a"])
    assert list(only.results) == ["a"] and only.skipped == []
