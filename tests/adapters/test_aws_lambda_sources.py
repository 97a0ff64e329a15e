"""The Lambda handler's event sources: each event goes to the first source that
recognizes it, the user's sources first; sources that need a NitroApp are left out
for a plain ASGI app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from adapters import aws_lambda_events as events
from adapters.suite import Request
from nitro.adapters.aws_lambda import (
    SOURCES,
    ApiGatewayWebSocket,
    EventSource,
    LambdaHandler,
    UnsupportedEventError,
)
from nitro.adapters.aws_lambda_http import Alb, HttpApiV2, RestApiV1, http_format_of
from nitro.adapters.aws_lambda_tasks import EventBridgeSchedule, NitroTaskEvent, SqsTaskMessages
from nitro.core.app import NitroApp
from nitro.core.tasks import define_task

OPEN: list[LambdaHandler] = []


@pytest.fixture(autouse=True)
def close_handlers() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def handler_for(app: Any, **options: Any) -> LambdaHandler:
    handler = LambdaHandler(app, **options)
    OPEN.append(handler)
    return handler


class KinesisRecords(EventSource):
    """What a user adds: an event source nitro does not know."""

    name = "Kinesis records"
    needs_nitro = True

    @staticmethod
    def infer(event: dict[str, Any]) -> bool:
        records = event.get("Records")
        return bool(records) and records[0].get("eventSource") == "aws:kinesis"

    @classmethod
    async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
        assert handler.nitro is not None
        ran = [await handler.nitro.tasks.run("ingest", r["kinesis"]) for r in event["Records"]]
        return {"ingested": ran}


def nitro_app() -> NitroApp:
    app = NitroApp()
    app.add_route("/", lambda event: "http")
    app.tasks.add("ingest", define_task(lambda payload, context: payload["data"]))
    return app


def test_built_in_sources_in_order_http_first() -> None:
    assert SOURCES == (
        HttpApiV2,
        RestApiV1,
        Alb,
        ApiGatewayWebSocket,
        NitroTaskEvent,
        EventBridgeSchedule,
        SqsTaskMessages,
    )
    request = Request("GET", "/")
    expected = {
        "rest-v1": RestApiV1,
        "http-v2": HttpApiV2,
        "function-url": HttpApiV2,
        "alb": Alb,
        "alb-single": Alb,
    }
    assert set(expected) == set(events.SHAPES)
    for shape, fmt in expected.items():
        event = events.SHAPES[shape](request)
        assert http_format_of(event) is fmt
        # Each source recognizes only its own format, whatever the order it is asked in.
        assert [s for s in SOURCES if s.infer(event)] == [fmt]


def test_a_users_source_serves_events_nitro_does_not_know() -> None:
    handler = handler_for(nitro_app(), sources=[KinesisRecords])
    kinesis = {"Records": [{"eventSource": "aws:kinesis", "kinesis": {"data": "a"}}]}
    assert handler(kinesis, None) == {"ingested": ["a"]}
    answer = handler(events.http_v2(Request("GET", "/")), None)  # the built-ins still serve
    assert answer["body"] == "http"
    with pytest.raises(UnsupportedEventError, match="Kinesis records, an HTTP API v2"):
        handler({"something": "else"}, None)


def test_a_users_source_comes_first() -> None:
    class Everything(EventSource):
        @staticmethod
        def infer(event: dict[str, Any]) -> bool:
            return True

        @classmethod
        async def handle(cls, handler: LambdaHandler, event: dict[str, Any], context: Any) -> Any:
            return "mine"

    handler = handler_for(nitro_app(), sources=[Everything])
    assert handler(events.http_v2(Request("GET", "/")), None) == "mine"


def test_a_plain_asgi_app_gets_http_only() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    handler = handler_for(app, sources=[KinesisRecords])
    assert handler.sources == (HttpApiV2, RestApiV1, Alb)
    assert handler(events.alb_single(Request("GET", "/")), None)["statusCode"] == 204
    with pytest.raises(UnsupportedEventError, match="expected an HTTP API v2"):
        handler({"nitro:task": "ingest"}, None)
