"""AWS Lambda: one handler for HTTP events, tasks, EventBridge schedules and SQS.

`LambdaHandler(app, schedules=..., sources=...)` is the function Lambda calls
(``index.handler`` in a build). Each kind of event is an `EventSource`, a small class
with `infer(event)` and `handle(...)` (mangum's shape); the handler asks them in
order and the first that recognizes the event answers it:

| order | sources | module |
|---|---|---|
| 1 | yours (``sources=[...]``) | |
| 2 | HTTP: `HttpApiV2` (Function URLs, HTTP APIs), `RestApiV1`, `Alb` | `aws_lambda_http` |
| 3 | WebSocket: `ApiGatewayWebSocket` (``CONNECT``/``MESSAGE``/``DISCONNECT``; a `NitroApp` only) | here; the work in `aws_lambda_websocket`, imported on the first such event |
| 4 | tasks: `NitroTaskEvent`, `EventBridgeSchedule`, `SqsTaskMessages` (a `NitroApp` only) | `aws_lambda_tasks` |

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
import gc
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from starlette.types import ASGIApp

from ..core.app import NitroApp
from .aws_lambda_asgi import UnexpectedMessageError, run_http
from .aws_lambda_http import HTTP_FORMATS
from .aws_lambda_source import EventSource, UnsupportedEventError
from .aws_lambda_tasks import TASK_SOURCES, describe, rule_name_from_arn

T = TypeVar("T")

__all__ = [
    "SOURCES",
    "ApiGatewayWebSocket",
    "EventSource",
    "LambdaHandler",
    "UnexpectedMessageError",
    "UnsupportedEventError",
    "rule_name_from_arn",
    "run_http",
]


class ApiGatewayWebSocket(EventSource):
    """API Gateway WebSocket API events: ``requestContext.eventType`` ``CONNECT``,
    ``MESSAGE`` or ``DISCONNECT`` and a ``connectionId``.

    Defined here rather than in `aws_lambda_websocket`, which does the work and is
    imported on the first such event: a module of its own would cost every cold start
    an import (about 70 us), WebSockets or not.
    """

    name: ClassVar[str] = "an API Gateway WebSocket event"
    needs_nitro: ClassVar[bool] = True

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        context = event.get("requestContext")
        return (
            isinstance(context, dict)
            and context.get("eventType") in _WEBSOCKET_EVENTS
            and "connectionId" in context
        )

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        from .aws_lambda_websocket import handle_websocket_event

        assert handler.nitro is not None
        return await handle_websocket_event(handler.nitro, event)


_WEBSOCKET_EVENTS = ("CONNECT", "MESSAGE", "DISCONNECT")

# The built-in sources, in the order they are asked (after the user's): HTTP first,
# it is the hot path.
SOURCES: tuple[type[EventSource], ...] = (*HTTP_FORMATS, ApiGatewayWebSocket, *TASK_SOURCES)


class LambdaHandler:
    """The Lambda handler for `app` (a `NitroApp`; any other ASGI app serves HTTP events only).

    `schedules` maps an EventBridge rule-name suffix to the cron whose tasks that
    rule runs (the build records it in its manifest's schedules); it is only needed
    for rules that send the "Scheduled Event" envelope (no ``Input``). `sources` are
    asked before the built-in ones (`SOURCES`): an event source nitro does not know,
    or your own reading of one it does.

    Example (what a build's entry, ``nitro.presets.aws_lambda.entry``, does)::

        app = load_app(root, manifest=...)
        handler = LambdaHandler(app, schedules={"-cron-0123456789": "0 3 * * *"})
        handler = LambdaHandler(app, sources=[KinesisRecords])  # see EventSource
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        schedules: Mapping[str, str] | None = None,
        sources: Iterable[type[EventSource]] = (),
    ) -> None:
        self.app = app
        self.nitro = app if isinstance(app, NitroApp) else None
        if self.nitro is not None:
            self.nitro.serverless = True
        self.schedules = dict(schedules or {})
        self.sources: tuple[type[EventSource], ...] = tuple(
            source
            for source in (*sources, *SOURCES)
            if self.nitro is not None or not source.needs_nitro
        )
        self.started = self.nitro is None
        # One loop for the container's life (also the thread's current loop, for code
        # that asks for it): connections pooled on it survive between warm invocations.
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def __call__(self, event: Any, context: Any) -> Any:
        if not self.started:
            self.start()
        if isinstance(event, dict):
            for source in self.sources:
                if source.infer(event):
                    return self.run(source.handle(self, event, context))
        raise UnsupportedEventError(
            f"[nitro:aws-lambda] unsupported event: expected "
            f"{', '.join(source.name for source in self.sources)}; got {describe(event)}"
        )

    def start(self) -> None:
        """Start the app once per container: the build's entry does it at import (Lambda's
        init phase); otherwise the first invocation does."""
        if self.started:
            return
        assert self.nitro is not None
        self.run(self.nitro.startup())
        self.started = True
        # The container's process is ours: what start-up loaded lives as long as it
        # does, so keep it out of the garbage collector's full passes (they would
        # walk all of it, a pause of milliseconds in some later invocation).
        gc.freeze()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` to its end on the container's loop and return its value.

        Its task stops the loop as its last act, so an invocation that never waits
        takes one turn of the loop; `run_until_complete` takes two (a second poll for
        its own done-callback): 3 us of a 23 us warm invocation.
        """
        task = self.loop.create_task(_stopping(coro, self.loop))
        while not task.done():  # the loop stopped early by something else: go on
            self.loop.run_forever()
        return task.result()

    def close(self) -> None:
        """Close the handler's event loop (tests; Lambda simply ends the process).

        What the last invocation left queued runs first: its task stopped the loop
        before its own done-callbacks ran, and one of them may be anyio's order to end a
        worker thread (Starlette's `FileResponse` starts one). Unrun, that thread would
        wait forever and keep the interpreter from exiting.
        """
        if self.loop.is_closed():
            return
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        policy = asyncio.get_event_loop_policy()
        try:
            current = policy.get_event_loop()
        except RuntimeError:
            current = None
        if current is self.loop:
            policy.set_event_loop(None)
        self.loop.close()


async def _stopping(coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> T:
    try:
        return await coro
    finally:
        loop.stop()
