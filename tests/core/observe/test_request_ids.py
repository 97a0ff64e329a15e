"""A request's id (issue 21): the platform's where it gives one (Lambda's
``aws_request_id``, Azure's invocation id, GCF's ``function-execution-id``, Vercel's
``x-vercel-id``), else a new UUID4; one per request, the same in
``event.context.request_id``, the logs and the ``x-request-id`` response header
(sent while JSON logs are on), each through the platform's own entry."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from nitro import NitroApp, define_handler
from nitro.adapters.aws_lambda import LambdaHandler
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def id_app() -> NitroApp:
    app = NitroApp()

    async def show(event: Any) -> dict[str, Any]:
        # Asked twice: worked out once.
        return {"id": event.context.request_id, "again": event.context["request_id"]}

    app.add_route("/id", define_handler(show))
    return app


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch, nitro_log: io.StringIO) -> Iterator[io.StringIO]:
    monkeypatch.setenv("NITRO_LOG_FORMAT", "json")
    yield nitro_log


def lines(log: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


async def test_without_json_logs_an_id_is_made_when_asked_and_not_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NITRO_LOG_FORMAT", raising=False)
    async with TestClient(id_app()) as client:
        first, second = await client.get("/id"), await client.get("/id")
    assert first.json()["id"] == first.json()["again"]
    assert UUID4.fullmatch(first.json()["id"]) and first.json()["id"] != second.json()["id"]
    assert "x-request-id" not in first.headers


async def test_with_json_logs_each_request_carries_its_id_out(json_logs: io.StringIO) -> None:
    async with TestClient(id_app()) as client:
        answer = await client.get("/id")
    found = answer.json()["id"]
    assert UUID4.fullmatch(found) and answer.headers["x-request-id"] == found
    [access] = [line for line in lines(json_logs) if line["logger"] == "nitro.access"]
    assert access["request_id"] == found


class LambdaContext:
    aws_request_id = "8f3e1c52-7b1a-4e6d-9f2a-0c4b5d6e7f80"
    function_name = "shop-prod"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def function_url_event(path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "x-forwarded-proto": "https"},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "domainName": "abc.lambda-url.us-east-1.on.aws",
            "requestId": "ffff0000-0000-0000-0000-000000000000",
        },
        "isBase64Encoded": False,
    }


def test_lambda_uses_the_invocations_request_id(json_logs: io.StringIO) -> None:
    handler = LambdaHandler(id_app())
    try:
        answer = handler(function_url_event("/id"), LambdaContext())
    finally:
        handler.close()
    body = json.loads(answer["body"])
    assert body["id"] == LambdaContext.aws_request_id
    assert answer["headers"]["x-request-id"] == LambdaContext.aws_request_id
    [access] = [line for line in lines(json_logs) if line["logger"] == "nitro.access"]
    assert access["request_id"] == LambdaContext.aws_request_id


async def test_gcp_functions_uses_the_function_execution_id(json_logs: io.StringIO) -> None:
    from nitro.adapters.gcp_functions import http_function

    app = id_app()
    http_function(app)  # what main.py does: the entry says which header the platform sets
    async with TestClient(app) as client:
        answer = await client.get("/id", headers={"function-execution-id": "a1b2c3d4e5f6"})
        spoofed = await client.get("/id", headers={"x-vercel-id": "fra1::not-on-vercel"})
    assert answer.json()["id"] == answer.headers["x-request-id"] == "a1b2c3d4e5f6"
    assert UUID4.fullmatch(spoofed.json()["id"])  # another platform's header means nothing


async def test_vercel_uses_the_x_vercel_id(json_logs: io.StringIO) -> None:
    from nitro.adapters.vercel import vercel_app

    app = vercel_app(id_app())
    vercel_id = "fra1::iad1::7xkq2-1717000000000-4c3f2e1d0a9b"
    async with TestClient(app) as client:
        answer = await client.get("/id", headers={"x-vercel-id": vercel_id})
    assert answer.json()["id"] == answer.headers["x-request-id"] == vercel_id


def test_azure_functions_uses_the_invocation_id(json_logs: io.StringIO) -> None:
    """Through the function app's ASGI middleware, as the Python worker calls it."""
    import azure.functions as func

    from nitro.adapters.azure_functions import HTTP_FUNCTION, function_app

    functions = function_app(id_app())
    [http] = [f for f in functions.get_functions() if f.get_function_name() == HTTP_FUNCTION]
    request = func.HttpRequest("GET", "http://localhost/id", headers={}, body=b"")
    context = _AzureContext("5f0a6c2e-0a3b-4a7e-9f1d-2b6c8e4d1a07")
    answer = asyncio.run(http.get_user_function()(request, context))
    # The function app runs its ASGI shutdown when collected (asyncio.run in __del__):
    # here, where no loop runs, rather than inside some later test's loop.
    del functions, http
    gc.collect()
    assert json.loads(answer.get_body())["id"] == context.invocation_id
    assert answer.headers["x-request-id"] == context.invocation_id


class _AzureContext:
    function_directory = "."
    function_name = "nitro_http"
    trace_context = None
    retry_context = None
    thread_local_storage = None

    def __init__(self, invocation_id: str) -> None:
        self.invocation_id = invocation_id
