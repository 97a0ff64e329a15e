"""The gcp-functions adapter's task events in-process: every shape a task message
arrives in, the tick a scheduled run gets, and how failures surface."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from nitro.adapters.gcp_functions import (
    TaskEventError,
    cloud_event_function,
    http_function,
    parse_task_message,
    run_task_message,
)
from nitro.core.app import NitroApp
from nitro.core.schedule import ScheduledTaskError, UnknownScheduleError, scheduled_tick
from nitro.core.tasks import Task

pytestmark = pytest.mark.anyio
CRON = "*/5 * * * *"


def _b64(body: Any) -> str:
    return base64.b64encode(json.dumps(body).encode()).decode()


def _event(data: Any, **attributes: str) -> CloudEvent:
    return CloudEvent({"type": "t", "source": "s", **attributes}, data)


def test_a_pubsub_message_with_its_publish_time() -> None:
    message = {"data": _b64({"nitro:cron": CRON}), "publishTime": "2026-05-01T12:05:02.123456789Z"}
    parsed = parse_task_message(_event({"message": message, "subscription": "s"}))
    assert parsed.body == {"nitro:cron": CRON}
    assert parsed.time is not None and parsed.time.isoformat() == "2026-05-01T12:05:02+00:00"
    assert scheduled_tick(CRON, parsed.time).isoformat() == "2026-05-01T12:05:00+00:00"


def test_a_cloud_scheduler_job_event_with_its_execution_time() -> None:
    data = {"customData": _b64({"nitro:task": "a"}), "executionTime": "2026-05-01T00:00:00Z"}
    parsed = parse_task_message(_event(data))
    assert parsed.body == {"nitro:task": "a"}
    assert parsed.time is not None and parsed.time.isoformat() == "2026-05-01T00:00:00+00:00"


def test_json_data_as_the_message_falls_back_to_the_event_time() -> None:
    parsed = parse_task_message(_event({"nitro:cron": CRON}, time="2026-05-01T08:30:59+02:00"))
    assert parsed.body == {"nitro:cron": CRON}
    assert parsed.time is not None and parsed.time.isoformat() == "2026-05-01T06:30:59+00:00"
    assert scheduled_tick(CRON, parsed.time).isoformat() == "2026-05-01T06:30:00+00:00"
    raw = parse_task_message(_event(json.dumps({"nitro:task": "a"}).encode()))
    assert raw.body == {"nitro:task": "a"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"message": {}}, "message.data is missing"),
        ({"message": {"data": "%%%"}}, "message.data is not base64"),
        ({"message": {"data": base64.b64encode(b"{").decode()}}, "the Pub/Sub message is not JSON"),
        ({"message": {"data": _b64([1])}}, "the Pub/Sub message must be a JSON object"),
        ({"customData": _b64("x")}, "the Cloud Scheduler job's data must be a JSON object"),
        (b"not json", "the event's data is not JSON"),
        (None, "carries no JSON object"),
    ],
)
def test_unreadable_events_fail_saying_why(data: Any, message: str) -> None:
    with pytest.raises(TaskEventError, match=message):
        parse_task_message(_event(data))


def _app(runs: list[tuple[str, Any]], fail: str | None = None) -> NitroApp:
    app = NitroApp()

    def task(name: str) -> Task:
        async def run(payload: Any, context: Any) -> str:
            await asyncio.sleep(0)
            runs.append((name, payload))
            if name == fail:
                raise RuntimeError(f"{name} broke")
            return f"{name} done"

        return Task(run, name=name)

    for name in ("a", "b", "c"):
        app.tasks.add(name, task(name))
    app.tasks.schedule = {CRON: ["a", "b"]}
    return app


async def test_a_cron_runs_each_of_its_tasks_with_the_tick() -> None:
    runs: list[tuple[str, Any]] = []
    message = parse_task_message(
        _event(
            {
                "message": {
                    "data": _b64({"nitro:cron": " */5  * * * * "}),
                    "publishTime": "2026-05-01T12:05:00.5Z",
                }
            }
        )
    )
    results = await run_task_message(_app(runs), message)
    assert results == {"a": "a done", "b": "b done"}
    tick = {"scheduled_time": "2026-05-01T12:05:00+00:00"}
    assert sorted(runs) == [("a", tick), ("b", tick)]


async def test_a_cron_with_a_task_runs_only_that_task_of_the_tick() -> None:
    runs: list[tuple[str, Any]] = []
    message = parse_task_message(
        _event({"nitro:cron": CRON, "nitro:task": "b"}, time="2026-05-01T12:06:10Z")
    )
    assert await run_task_message(_app(runs), message) == {"b": "b done"}
    assert runs == [("b", {"scheduled_time": "2026-05-01T12:05:00+00:00"})]


async def test_a_named_task_gets_its_payload_as_given() -> None:
    runs: list[tuple[str, Any]] = []
    message = parse_task_message(_event({"nitro:task": "c", "payload": {"n": 1}}))
    assert await run_task_message(_app(runs), message) == {"c": "c done"}
    assert runs == [("c", {"n": 1})]


async def test_one_failing_task_does_not_stop_the_others_and_fails_the_event() -> None:
    runs: list[tuple[str, Any]] = []
    app = _app(runs, fail="a")
    seen: list[BaseException] = []
    app.hooks.hook("error", lambda error, event: seen.append(error))
    message = parse_task_message(_event({"nitro:cron": CRON}))
    with pytest.raises(
        ScheduledTaskError,
        match=r"cron '\*/5 \* \* \* \*' at .*: 1 task\(s\) failed: a: RuntimeError: a broke",
    ):
        await run_task_message(app, message)
    assert sorted(name for name, _ in runs) == ["a", "b"]  # b still ran to its end
    assert [str(e) for e in seen] == ["a broke"]  # the error hook saw it


async def test_unknown_crons_and_tasks_and_bad_payloads_are_refused() -> None:
    app = _app([])
    with pytest.raises(TaskEventError, match=r"unknown task 'x'; known tasks: a, b, c"):
        await run_task_message(app, parse_task_message(_event({"nitro:task": "x"})))
    with pytest.raises(
        UnknownScheduleError, match=r"no scheduled_tasks entry for cron '0 \* \* \* \*'"
    ):
        await run_task_message(app, parse_task_message(_event({"nitro:cron": "0 * * * *"})))
    with pytest.raises(TaskEventError, match='"payload" must be a JSON object'):
        await run_task_message(app, parse_task_message(_event({"nitro:task": "a", "payload": [1]})))


def test_the_targets_register_with_functions_framework_under_their_names() -> None:
    from functions_framework import _function_registry as registry

    app = NitroApp()
    web = http_function(app, "web_entry")
    events = cloud_event_function(app, "task_entry")
    assert web.__name__ == "web_entry" and events.__name__ == "task_entry"
    assert registry.REGISTRY_MAP["web_entry"] == registry.HTTP_SIGNATURE_TYPE
    assert registry.REGISTRY_MAP["task_entry"] == registry.CLOUDEVENT_SIGNATURE_TYPE
    assert {"web_entry", "task_entry"} <= registry.ASGI_FUNCTIONS
