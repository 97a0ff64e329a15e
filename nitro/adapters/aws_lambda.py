"""AWS Lambda: one handler for HTTP events, tasks, EventBridge schedules and SQS.

`LambdaHandler(app, schedules=...)` is the function Lambda calls (``index.handler``
in a build). It looks at the event's shape and picks one branch:

| event | branch | answer |
|---|---|---|
| API Gateway REST v1, HTTP API v2, Function URL, ALB | `aws_lambda_http` (one class per shape) | the platform's HTTP response |
| ``{"nitro:task": name, "nitro:cron": cron}`` (an EventBridge rule's ``Input``: one target per task) | `run_task_event`: that task of the cron's tick | ``{"result": value}`` |
| ``{"nitro:task": name, "payload": {...}}`` (a direct invoke) | `run_task_event` | ``{"result": value}`` |
| EventBridge ``"Scheduled Event"`` (a rule without ``Input``) | `run_scheduled_event`: the tasks of the rule's cron | ``{"result": {task: value}}`` |
| SQS, each record's body ``{"nitro:task": name, "payload": ...}`` | `run_sqs_event` | ``{"batchItemFailures": [...]}`` |

HTTP events are translated here rather than by mangum, which sends encoded paths
to the app decoded, forces ``application/json`` on HTTP API responses without a
content type, runs ASGI lifespan on every invocation
(https://github.com/Kludex/mangum/issues/342), and adds about 6 us per invocation
(it builds the scope twice and queues the body); the tests check this translation
against mangum's on the same events. The app starts once per container instead:
`app.startup()` on the first invocation, on the handler's event loop (one per
process, so connections pooled on it survive between warm invocations). Lambda has
no shutdown hook for a function without an extension, so ``close`` hooks do not run
there. The app is made ``serverless``: ``event.wait_until`` work finishes before the
invocation returns, because a frozen container runs nothing between invocations.

Event shapes: https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html,
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-alb.html,
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message

from ..core.app import NitroApp
from ..core.tasks import CRON_KEY, TASK_KEY
from .aws_lambda_http import Headers, Shape, request_body, scope_for, shape_of

__all__ = [
    "LambdaHandler",
    "UnexpectedMessageError",
    "UnsupportedEventError",
    "rule_name_from_arn",
]

logger = logging.getLogger("nitro")


class UnsupportedEventError(ValueError):
    """An event of a kind this handler does not serve (the message says which kinds it does)."""


class LambdaHandler:
    """The Lambda handler for `app` (a `NitroApp`; any other ASGI app serves HTTP events only).

    `schedules` maps an EventBridge rule-name suffix to the cron whose tasks that
    rule runs (the build records it in ``manifest.platform["schedules"]``); it is
    only needed for rules that send the "Scheduled Event" envelope (no ``Input``).

    Example (what a build's ``index.py`` does)::

        app = load_app(root, manifest=..., serverless=True)
        handler = LambdaHandler(app, schedules={"-cron-0123456789": "0 3 * * *"})
    """

    def __init__(self, app: ASGIApp, *, schedules: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.nitro = app if isinstance(app, NitroApp) else None
        if self.nitro is not None:
            self.nitro.serverless = True
        self.schedules = dict(schedules or {})
        self.started = self.nitro is None
        # One loop for the container's life (also the thread's current loop, for code
        # that asks for it): connections pooled on it survive between warm invocations.
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def __call__(self, event: Any, context: Any) -> Any:
        if not self.started:
            assert self.nitro is not None
            self.loop.run_until_complete(self.nitro.startup())
            self.started = True
        if isinstance(event, dict):
            shape = shape_of(event)  # checked first: HTTP is the hot path
            if shape is not None:
                return self.loop.run_until_complete(self.http(shape, event, context))
            app = self.nitro
            if app is not None and TASK_KEY in event:
                return self.loop.run_until_complete(run_task_event(app, event, context))
            if (
                app is not None
                and event.get("detail-type") == "Scheduled Event"
                and event.get("source") == "aws.events"
            ):
                return self.loop.run_until_complete(
                    run_scheduled_event(app, event, context, self.schedules)
                )
            records = event.get("Records")
            if app is not None and records and isinstance(records, list):
                if isinstance(records[0], dict) and records[0].get("eventSource") == "aws:sqs":
                    return self.loop.run_until_complete(run_sqs_event(app, records, context))
        raise UnsupportedEventError(
            "[nitro:aws-lambda] unsupported event: expected an HTTP event (API Gateway, "
            "Function URL, ALB), {'nitro:task': name, 'payload': {...}}, an EventBridge "
            f"Scheduled Event or SQS records; got {_describe(event)}"
        )

    def close(self) -> None:
        """Close the handler's event loop (tests; Lambda simply ends the process)."""
        policy = asyncio.get_event_loop_policy()
        try:
            current = policy.get_event_loop()
        except RuntimeError:
            current = None
        if current is self.loop:
            policy.set_event_loop(None)
        self.loop.close()

    async def http(self, shape: type[Shape], event: dict[str, Any], context: Any) -> dict[str, Any]:
        """One HTTP event through the app, answered in the event's own response format."""
        scope = scope_for(shape, event, context)
        status, headers, body = await run_http(self.app, scope, request_body(event))
        return shape.response(event, status, headers, body)


class UnexpectedMessageError(RuntimeError):
    """The app sent an ASGI message out of order (a body before its start, a second start,
    anything after the end)."""


_FAILED: tuple[int, Headers, bytes] = (
    500,
    [(b"content-type", b"text/plain; charset=utf-8")],
    b"Internal Server Error",
)


async def run_http(app: ASGIApp, scope: dict[str, Any], body: bytes) -> tuple[int, Headers, bytes]:
    """Run one request through `app` and return its buffered response.

    The response is the app's once it is complete: an exception raised after that
    (Starlette re-raises after its error handler answered) is logged and the answer
    stands. Until then nothing has reached the client, so an exception, a message out
    of order or an app that returns mid-response gives a plain 500 instead of a torn
    or doubled answer.
    """
    loop = asyncio.get_running_loop()
    done = loop.create_future()  # set when the response is complete
    status = 0
    headers: Headers = []
    chunks: list[bytes] = []
    sent_body = False
    started = False

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done  # the client "disconnects" once the response is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers, started
        kind = message["type"]
        if kind == "http.response.start" and not started:
            started = True
            status = message["status"]
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif kind == "http.response.body" and started and not done.done():
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set_result(None)
        else:
            where = "after the response ended" if done.done() else "in this state"
            raise UnexpectedMessageError(
                f"[nitro:aws-lambda] the app sent {kind!r} {where}"
                if kind != "http.response.body" or started
                else f"[nitro:aws-lambda] the app sent {kind!r} before 'http.response.start'"
            )

    try:
        await app(scope, receive, send)
    except Exception:
        if not done.done():
            logger.exception("[nitro:aws-lambda] the app failed")
            return _FAILED
        logger.exception("[nitro:aws-lambda] the app failed after its response was complete")
    finally:
        complete = done.done()
        if not complete:
            done.set_result(None)  # release a receive() still waiting for the end
    if not complete:
        logger.error("[nitro:aws-lambda] the app returned without completing its response")
        return _FAILED
    return status, headers, b"".join(chunks)


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
            'rule\'s target the input {"nitro:task": "<name>"}'
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
                    f'the body is not {{"{TASK_KEY}": name, "payload": ...}}: {_describe(body)}'
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


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:8])
        return f"an object with keys {keys or '(none)'}"
    return f"a {type(value).__name__}"
