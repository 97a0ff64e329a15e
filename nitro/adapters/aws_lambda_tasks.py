"""Lambda events that run tasks: a nitro task message, an EventBridge schedule, SQS.

Each is an `EventSource` of `LambdaHandler`, asked after the HTTP formats and only
when the handler serves a `NitroApp`. They only read the event: what a scheduled
tick runs, its ``scheduled_time``, an unknown cron and failures are the schedule's
rule (``app.tasks.run_scheduled``, the same on every platform).

| event | source | answer |
|---|---|---|
| ``{"nitro:task": name, "nitro:cron": cron}`` (an EventBridge rule's ``Input``: one target per task) | `NitroTaskEvent`: that task of the cron's tick | ``{"result": value}`` |
| ``{"nitro:task": name, "payload": {...}}`` (a direct invoke) | `NitroTaskEvent` | ``{"result": value}`` |
| EventBridge ``"Scheduled Event"`` (a rule without ``Input``) | `EventBridgeSchedule`: the tasks of the rule's cron | ``{"result": {task: value}}`` |
| SQS, each record's body ``{"nitro:task": name, "payload": ...}`` | `SqsTaskMessages` | ``{"batchItemFailures": [...]}`` |

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..core.app import NitroApp
from ..core.tasks import CRON_KEY, TASK_KEY
from .aws_lambda_source import EventSource, UnsupportedEventError

if TYPE_CHECKING:
    from .aws_lambda import LambdaHandler

__all__ = [
    "TASK_SOURCES",
    "EventBridgeSchedule",
    "NitroTaskEvent",
    "SqsTaskMessages",
    "describe",
    "rule_name_from_arn",
    "run_scheduled_event",
    "run_sqs_event",
    "run_task_event",
]

logger = logging.getLogger("nitro")


def _nitro(handler: LambdaHandler) -> NitroApp:
    assert handler.nitro is not None  # needs_nitro: only asked for a NitroApp
    return handler.nitro


class NitroTaskEvent(EventSource):
    name: ClassVar[str] = "{'nitro:task': name, 'payload': {...}}"
    needs_nitro: ClassVar[bool] = True

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        return TASK_KEY in event

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        return await run_task_event(_nitro(handler), event, context)


class EventBridgeSchedule(EventSource):
    name: ClassVar[str] = "an EventBridge Scheduled Event"
    needs_nitro: ClassVar[bool] = True

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        return event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events"

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        return await run_scheduled_event(_nitro(handler), event, context, handler.schedules)


class SqsTaskMessages(EventSource):
    name: ClassVar[str] = "SQS records"
    needs_nitro: ClassVar[bool] = True

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        records = event.get("Records")
        return (
            isinstance(records, list)
            and bool(records)
            and isinstance(records[0], dict)
            and records[0].get("eventSource") == "aws:sqs"
        )

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        return await run_sqs_event(_nitro(handler), event["Records"], context)


TASK_SOURCES: tuple[type[EventSource], ...] = (NitroTaskEvent, EventBridgeSchedule, SqsTaskMessages)


async def run_task_event(app: NitroApp, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``{"nitro:task": name, ...}`` -> ``{"result": value}``.

    With ``"nitro:cron"`` (the input of an EventBridge rule's target: one target per
    task) it is that task of the cron's tick, run by the schedule's rule
    (``app.tasks.run_scheduled``: ``scheduled_time`` is the tick at the time of the
    invocation, a failure fails it); otherwise the task runs with the event's
    ``payload`` (none: ``{}``).
    """
    name = event[TASK_KEY]
    if not isinstance(name, str):
        raise UnsupportedEventError(f"[nitro:aws-lambda] {TASK_KEY!r} must be a task name")
    task_context = {"lambda_context": context}
    cron = event.get(CRON_KEY)
    if cron is None:
        result = await app.tasks.run(name, event.get("payload"), task_context)
        return {"result": result}
    if not isinstance(cron, str):
        raise UnsupportedEventError(f"[nitro:aws-lambda] {CRON_KEY!r} must be a cron")
    run = await app.tasks.run_scheduled(cron, only=[name], context=task_context)
    return {"result": run.results.get(name)}


def rule_name_from_arn(arn: str) -> str:
    """``arn:aws:events:REGION:ACCOUNT:rule/[BUS/]NAME`` -> ``NAME``."""
    return arn.rsplit("/", 1)[-1]


async def run_scheduled_event(
    app: NitroApp, event: dict[str, Any], context: Any, schedules: Mapping[str, str]
) -> dict[str, Any]:
    """An EventBridge "Scheduled Event": the tick of the rule's cron (found by the
    rule name's suffix), fired at the event's ``time``, run by the schedule's rule
    (``app.tasks.run_scheduled``); a failed task fails the invocation after the
    others ran, so EventBridge's retry policy applies."""
    rules = [rule_name_from_arn(arn) for arn in event.get("resources") or []]
    cron = next(
        (cron for rule in rules for suffix, cron in schedules.items() if rule.endswith(suffix)),
        None,
    )
    if cron is None:
        raise UnsupportedEventError(
            f"[nitro:aws-lambda] scheduled event from rule {', '.join(rules) or '(none)'}: no "
            "schedule of this build has that rule name; rebuild and redeploy, or give the "
            'rule\'s targets the input {"nitro:task": "<name>", "nitro:cron": "<cron>"}'
        )
    time = event.get("time")
    fired_at = _parse_time(time) if isinstance(time, str) else None
    run = await app.tasks.run_scheduled(cron, fired_at, context={"lambda_context": context})
    return {"result": run.results}


async def run_sqs_event(app: NitroApp, records: list[Any], context: Any) -> dict[str, Any]:
    """Run each record's task, one after another (two records naming the same task
    must not share one run); a record that fails is reported in ``batchItemFailures``
    so only it is retried (with ``ReportBatchItemFailures`` on the event source
    mapping: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)."""
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            body = json.loads(record.get("body") or "")
            if not isinstance(body, dict) or not isinstance(body.get(TASK_KEY), str):
                raise UnsupportedEventError(
                    f'the body is not {{"{TASK_KEY}": name, "payload": ...}}: {describe(body)}'
                )
            await app.tasks.run(
                body[TASK_KEY],
                body.get("payload"),
                {"lambda_context": context, "sqs_record": record},
            )
        except Exception:
            logger.exception("[nitro:tasks] SQS message %s failed", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _parse_time(value: str) -> datetime.datetime | None:
    """EventBridge's ``2026-01-01T03:00:00Z`` as a UTC datetime (None when unreadable)."""
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.UTC)


def describe(value: Any) -> str:
    """A short description of an unexpected value, for errors (its keys, or its type)."""
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:8])
        return f"an object with keys {keys or '(none)'}"
    return f"a {type(value).__name__}"
