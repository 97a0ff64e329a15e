"""Google Cloud Functions (Cloud Run functions) through functions-framework.

One `main.py` exposes two targets (entry points):

- `handler`, HTTP: an ``@functions_framework.aio.http`` function that returns the
  app itself. functions-framework awaits what an async function returns as a
  Starlette response, ``response(scope, receive, send)``, so the raw ASGI call
  reaches the app: full path, streamed request body, chunked (streamed) responses.
  functions-framework does not forward lifespan to the app (uvicorn sends it to the
  framework's own Starlette app), so the app starts on its first request, once per
  instance. See https://github.com/GoogleCloudPlatform/functions-framework-python
  (``functions_framework/aio``).
- `tasks`, CloudEvent: an ``@functions_framework.aio.cloud_event`` function that
  runs tasks. The message is JSON: ``{"nitro:cron": "<cron>"}`` runs that cron's
  tick, fired at the message's time, by the schedule's rule
  (``app.tasks.run_scheduled``: every task of it with ``{"scheduled_time": ...}``);
  ``{"nitro:task": "<name>", "payload": {...}}`` runs one task with that payload.
  It arrives as a Pub/Sub message (a Cloud Scheduler job publishing to a topic),
  as a Cloud Scheduler job event (``customData``), or as the event's JSON data.
  This module only parses it.

A failed run raises (an unknown cron, a failed task: the schedule's rule), so the
invocation fails (HTTP 500 from functions-framework) and shows in the function's
error logs and metrics.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from ..core.app import NitroApp
from ..core.observe.request_id import HEADER_STATE
from ..core.tasks import CRON_KEY, TASK_KEY

__all__ = [
    "TaskEventError",
    "TaskMessage",
    "cloud_event_function",
    "http_function",
    "parse_task_message",
    "run_task_message",
]

logger = logging.getLogger("nitro")


class CloudEventLike(Protocol):
    """What the adapter reads of `cloudevents.http.CloudEvent`."""

    data: Any

    def get(self, key: str, default: Any = None) -> Any: ...


class TaskEventError(ValueError):
    """A task event the app cannot read, or that names a task it does not have."""


# --- HTTP ---


def http_function(app: NitroApp, name: str = "handler") -> Callable[..., Any]:
    """The HTTP target: deploy with ``--entry-point <name>``.

    functions-framework registers a target by its function's ``__name__``, so the
    function is named `name`, and `main.py` must bind it to that same name.
    """
    import functions_framework.aio as ff

    # The platform's id of each request (functions-framework adds one when it is missing).
    app.state[HEADER_STATE] = b"function-execution-id"

    async def target(request: Any) -> NitroApp:
        # Returning the app: the framework then calls app(scope, receive, send)
        # with the connection as it came in (nothing read or buffered yet).
        return app

    target.__name__ = target.__qualname__ = name
    return ff.http(cast(Any, target))


# --- CloudEvents: tasks ---


@dataclass(frozen=True)
class TaskMessage:
    """A decoded task event: its JSON body and when the platform says it fired."""

    body: dict[str, Any]
    time: datetime | None = None


def cloud_event_function(app: NitroApp, name: str = "tasks") -> Callable[..., Any]:
    """The CloudEvent target that runs tasks: deploy with ``--entry-point <name>``."""
    import functions_framework.aio as ff

    async def target(event: Any) -> None:
        message = parse_task_message(event)
        context = {"cloud_event": {key: event.get(key) for key in ("id", "type", "source", "time")}}
        await run_task_message(app, message, context)

    target.__name__ = target.__qualname__ = name
    return ff.cloud_event(target)


def parse_task_message(event: CloudEventLike) -> TaskMessage:
    """The task message in `event`, whichever shape carried it."""
    data = event.data
    if isinstance(data, (bytes, bytearray, str)):
        data = _json(data, "the event's data")
    if not isinstance(data, Mapping):
        raise TaskEventError(
            f"[nitro:gcp-functions] the {event.get('type')!r} event carries no JSON object"
        )
    message = _pubsub(data) or _scheduler_job(data) or _direct(data)
    if message.time is None:
        return TaskMessage(message.body, _parse_time(event.get("time")))
    return message


def _pubsub(data: Mapping[str, Any]) -> TaskMessage | None:
    # google.cloud.pubsub.topic.v1.messagePublished: data.message.data is base64.
    # https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/pubsub/v1/data.proto
    message = data.get("message")
    if not isinstance(message, Mapping):
        return None
    body = _json(_base64(message.get("data"), "message.data"), "the Pub/Sub message")
    published = message.get("publishTime") or message.get("publish_time")
    return TaskMessage(_object(body, "the Pub/Sub message"), _parse_time(published))


def _scheduler_job(data: Mapping[str, Any]) -> TaskMessage | None:
    # google.cloud.scheduler.job.v1.executed: data.customData is base64.
    # https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/scheduler/v1/events.proto
    if "customData" not in data and "custom_data" not in data:
        return None
    raw = data.get("customData", data.get("custom_data"))
    body = _json(_base64(raw, "customData"), "the Cloud Scheduler job's data")
    executed = data.get("executionTime") or data.get("execution_time")
    return TaskMessage(_object(body, "the Cloud Scheduler job's data"), _parse_time(executed))


def _direct(data: Mapping[str, Any]) -> TaskMessage:
    return TaskMessage(dict(data))


def _base64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise TaskEventError(f"[nitro:gcp-functions] {where} is missing (expected base64 JSON)")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TaskEventError(f"[nitro:gcp-functions] {where} is not base64") from None


def _json(raw: bytes | bytearray | str, where: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise TaskEventError(f"[nitro:gcp-functions] {where} is not JSON") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TaskEventError(f"[nitro:gcp-functions] {where} must be a JSON object")
    return value


_FRACTION = re.compile(r"\.\d+")


def _parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``2024-05-01T12:05:00.123456789Z``) as a UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # Pub/Sub writes nanoseconds; the minute is all a cron tick needs.
        parsed = datetime.fromisoformat(_FRACTION.sub("", value, count=1).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


async def run_task_message(
    app: NitroApp, message: TaskMessage, context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Run what `message` asks for; returns ``{task: result}``.

    A cron is the tick the platform fired at the message's time (Cloud Scheduler fires
    on the minute; a redelivery keeps its publish time). An unreadable message or an
    unknown task is a `TaskEventError`; the rest is the schedule's rule.
    """
    await app.startup()  # no lifespan here either: start once per instance
    body = message.body
    task_context = dict(context or {})
    if CRON_KEY in body:
        cron = body[CRON_KEY]
        if not isinstance(cron, str):
            raise TaskEventError(f"[nitro:gcp-functions] {CRON_KEY!r} must be a cron")
        only = [body[TASK_KEY]] if isinstance(body.get(TASK_KEY), str) else None
        run = await app.tasks.run_scheduled(cron, message.time, only=only, context=task_context)
        return run.results
    if TASK_KEY in body:
        name = body[TASK_KEY]
        if not isinstance(name, str) or name not in app.tasks:
            raise TaskEventError(
                f"[nitro:gcp-functions] unknown task {name!r}; known tasks: "
                f"{', '.join(app.tasks.names()) or 'none'}"
            )
        task_payload = body.get("payload") or {}
        if not isinstance(task_payload, dict):
            raise TaskEventError('[nitro:gcp-functions] "payload" must be a JSON object')
        return {name: await app.tasks.run(name, task_payload, task_context)}
    raise TaskEventError(
        f"[nitro:gcp-functions] the message has neither {CRON_KEY!r} nor {TASK_KEY!r}: "
        f"{json.dumps(body)[:200]}"
    )
