"""What a Lambda event source is: one small class per kind of event (mangum's shape).

`LambdaHandler` asks its sources in order, user sources first, whether they
`infer` an event (a JSON object); the first that does `handle`s it, and its answer
is the invocation's result. A source is a class, never instantiated: per
invocation nothing is allocated but the answer.

Example: serve Kinesis records next to HTTP and tasks::

    class KinesisRecords(EventSource):
        name = "Kinesis records"
        needs_nitro = True

        @staticmethod
        def infer(event):
            records = event.get("Records")
            return bool(records) and records[0].get("eventSource") == "aws:kinesis"

        @staticmethod
        async def handle(handler, event, context):
            for record in event["Records"]:
                await handler.nitro.tasks.run("ingest", record["kinesis"])
            return {"batchItemFailures": []}

    handler = LambdaHandler(app, sources=[KinesisRecords])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .aws_lambda import LambdaHandler

__all__ = ["EventSource", "UnsupportedEventError"]


class UnsupportedEventError(ValueError):
    """An event of a kind this handler does not serve (the message says which kinds it does)."""


class EventSource:
    """One kind of Lambda event: `infer` recognizes it, `handle` answers it.

    `name` says what it is in errors; `needs_nitro` sources (tasks, schedules) are
    left out when the handler serves a plain ASGI app.
    """

    name: ClassVar[str] = "an event"
    needs_nitro: ClassVar[bool] = False

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        """Whether `event` is of this kind; cheap: it runs for every invocation."""
        raise NotImplementedError

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        """The invocation's answer to `event` (`handler.app`, `handler.nitro` serve it)."""
        raise NotImplementedError
