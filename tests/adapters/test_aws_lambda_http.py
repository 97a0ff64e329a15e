"""The Lambda handler in this process: its HTTP translation against mangum's on the
same events, lifespan once per container, wait_until, tasks, schedules and SQS."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from mangum import Mangum
from starlette.types import Receive, Scope, Send

from adapters import aws_lambda_events as events
from adapters.suite import BINARY, CASES, Request
from nitro import define_handler, get_query
from nitro.adapters.aws_lambda import LambdaHandler, UnsupportedEventError
from nitro.core.app import NitroApp
from nitro.core.schedule import ScheduledTaskError, UnknownScheduleError
from nitro.core.tasks import define_task
from nitro.presets.aws_lambda.preset import lambda_options, rule_name, rule_suffix
from nitro.presets.aws_lambda.sam import to_yaml

# --- parity with mangum 0.22 ---


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with what it was asked, in a form both translations must agree on."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    grouped: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        grouped.setdefault(bytes(name).decode().lower(), []).append(bytes(value).decode())
    seen = {
        "method": scope["method"],
        "path": scope["path"],
        "query": sorted(parse_qsl(scope["query_string"].decode(), keep_blank_values=True)),
        # mangum joins repeated request headers with ", "; nitro keeps them separate
        "headers": {name: ", ".join(values) for name, values in sorted(grouped.items())},
        "body": base64.b64encode(body).decode(),
        "scheme": scope["scheme"],
        "server": list(scope["server"]),
    }
    payload = json.dumps(seen).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


EXTRA_REQUESTS = [
    Request("GET", "/files/a%20b/c?q=%C3%A9t%C3%A9&x=1+2&empty=", (("accept", "text/html"),)),
    Request("POST", "/echo", (("content-type", "application/json"),), '{"é": 1}'.encode()),
    Request("POST", "/raw", (("content-type", "application/octet-stream"),), BINARY),
    Request("GET", "/multi", (("x-multi", "1"), ("x-multi", "2"), ("cookie", "a=1; b=2"))),
    # text beyond ASCII, as the services hand it over decoded (ALB: query as sent)
    Request(
        "GET",
        "/intl?q=日本&a=%E6%97%A5&x=caf%C3%A9+1",
        (("cookie", "name=日本; city=São Paulo"), ("x-city", "Srīperumbūdūr")),
    ),
]
REQUESTS = [
    request for case in CASES for request in case.requests if isinstance(request, Request)
] + EXTRA_REQUESTS


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


def _both(app: Any) -> tuple[LambdaHandler, Mangum]:
    handler = handler_for(app)  # sets the loop mangum then finds
    return handler, Mangum(app, lifespan="off")


@pytest.mark.parametrize("shape", list(events.SHAPES))
def test_requests_reach_the_app_as_mangum_delivers_them(shape: str) -> None:
    handler, mangum = _both(echo)
    build = events.SHAPES[shape]
    for request in REQUESTS:
        if shape == "alb-single" and request.path.startswith("/query"):
            continue  # one value per name on both sides; mangum re-encodes, compared below
        event = build(request)
        ours = json.loads(events.reply(event, handler(event, None)).body)
        theirs = json.loads(events.reply(event, mangum(event, None)).body)
        assert ours == theirs, (shape, request)


def _responder(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


RESPONSES = {
    "json-cookies-repeats": (
        200,
        [
            (b"content-type", b"application/json"),
            (b"set-cookie", b"a=1; HttpOnly"),
            (b"set-cookie", b"b=2"),
            (b"x-many", b"a"),
            (b"x-many", b"b"),
        ],
        b'{"ok": true}',
    ),
    "binary": (200, [(b"content-type", b"application/octet-stream")], BINARY),
    "not-utf8-text": (200, [(b"content-type", b"text/plain")], b"\xff\xfe"),
    "html": (404, [(b"content-type", b"text/html; charset=utf-8")], "<p>é</p>".encode()),
    "redirect": (301, [(b"location", b"/about"), (b"content-type", b"text/plain")], b""),
}


def _normalized(reply: Any) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in reply.headers:
        # mangum joins v2 repeats with ","; nitro with ", " (both mean the same in HTTP)
        headers.setdefault(name, []).extend(v.strip() for v in value.split(","))
    return {"status": reply.status, "headers": headers, "body": reply.body}


@pytest.mark.parametrize("shape", list(events.SHAPES))
@pytest.mark.parametrize("response", list(RESPONSES))
def test_responses_leave_as_mangum_sends_them(shape: str, response: str) -> None:
    handler, mangum = _both(_responder(*RESPONSES[response]))
    event = events.SHAPES[shape](Request("GET", "/"))
    ours, theirs = handler(event, None), mangum(event, None)
    assert ours["isBase64Encoded"] == theirs["isBase64Encoded"]
    assert _normalized(events.reply(event, ours)) == _normalized(events.reply(event, theirs))


def test_where_nitro_differs_from_mangum() -> None:
    handler, mangum = _both(_responder(204, [], b""))
    event = events.function_url(Request("GET", "/%2F/x"))
    # mangum gives every v2 response without a content type "application/json"
    assert mangum(event, None)["headers"] == {"content-type": "application/json"}
    assert handler(event, None)["headers"] == {}
    # the path: mangum drops the raw path, so an encoded "/" becomes a separator
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.setdefault("raw", []).append(scope.get("raw_path"))
        await _responder(200, [], b"")(scope, receive, send)

    handler, mangum = _both(app)
    handler(event, None)
    mangum(event, None)
    assert seen["raw"] == [b"/%2F/x", None]
    # ALB answers carry the status line's reason phrase
    assert handler(events.alb(Request("GET", "/")), None)["statusDescription"] == "200 OK"


# --- text beyond ASCII: what the app gets, on every event shape and on uvicorn ---

INTL_HEADERS = (("cookie", "name=日本; city=São Paulo"), ("x-city", "São Paulo"))


def _intl_app() -> NitroApp:
    app = NitroApp()

    @define_handler
    def intl(event: Any) -> Any:
        raw = dict(event.scope["headers"])  # the bytes, as the server passed them
        return {
            "query": get_query(event),
            "query_string": event.scope["query_string"].decode("ascii"),
            "cookie": raw[b"cookie"].decode("utf-8"),
            "city": raw[b"x-city"].decode("utf-8"),
        }

    app.add_route("/intl", intl)
    return app


INTL_SEEN = {
    "query": {"q": "日本", "a": "日"},
    "query_string": "q=%E6%97%A5%E6%9C%AC&a=%E6%97%A5",
    "cookie": "name=日本; city=São Paulo",
    "city": "São Paulo",
}


@pytest.mark.parametrize("shape", list(events.SHAPES))
@pytest.mark.parametrize(
    "target", ["/intl?q=日本&a=%E6%97%A5", "/intl?q=%E6%97%A5%E6%9C%AC&a=%E6%97%A5"]
)
def test_non_ascii_query_and_cookies_reach_the_app_as_utf8(shape: str, target: str) -> None:
    # The query as the service holds it (decoded by API Gateway REST, as sent by the
    # others: a raw 日本 or its escapes); the answer is the same either way.
    handler = handler_for(_intl_app())
    event = events.SHAPES[shape](Request("GET", target, INTL_HEADERS))
    reply = events.reply(event, handler(event, None))
    assert reply.status == 200, reply.body
    seen = reply.json()
    if shape == "rest-v1":  # API Gateway decoded the query; re-encoded, it is the same text
        assert parse_qsl(seen.pop("query_string")) == [("q", "日本"), ("a", "日")]
        assert seen == {k: v for k, v in INTL_SEEN.items() if k != "query_string"}
    else:
        assert seen == INTL_SEEN


def test_uvicorn_gives_the_app_the_same() -> None:
    import socket

    from helpers import serve_in_thread

    with serve_in_thread(_intl_app()) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            # A browser percent-encodes the query (uvicorn refuses raw non-ASCII in the
            # request target) and sends cookies and header values as UTF-8 bytes.
            sock.sendall(
                b"GET /intl?q=%E6%97%A5%E6%9C%AC&a=%E6%97%A5 HTTP/1.1\r\nHost: localhost\r\n"
                + "Cookie: name=日本; city=São Paulo\r\nX-City: São Paulo\r\n".encode()
                + b"Connection: close\r\n\r\n"
            )
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data
    assert json.loads(body) == INTL_SEEN


# --- one answer per request, as mangum's HTTP cycle keeps it ---


def test_an_exception_after_a_complete_answer_keeps_the_answer() -> None:
    """mangum's test_http_exception_handler: Starlette sends its exception handler's
    answer, then re-raises; the answer stands."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    def homepage(request: Any) -> Any:
        raise RuntimeError("boom")

    async def on_error(request: Any, exc: Exception) -> Any:
        return PlainTextResponse("Error!", status_code=500)

    app = Starlette(routes=[Route("/", homepage)], exception_handlers={Exception: on_error})
    handler, mangum = _both(app)
    event = events.http_v2(Request("GET", "/"))
    ours, theirs = handler(event, None), mangum(event, None)
    assert ours["statusCode"] == theirs["statusCode"] == 500
    assert ours["body"] == theirs["body"] == "Error!"
    assert ours["headers"]["content-length"] == "6"


async def _body_first(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.body", "body": b"Hello, world!"})


async def _two_starts(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.start", "status": 200})


async def _body_after_the_end(scope: Scope, receive: Receive, send: Send) -> None:
    text = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": text})
    await send({"type": "http.response.body", "body": b"done"})
    await send({"type": "http.response.body", "body": b"more"})


def test_a_message_after_the_end_is_refused_and_the_answer_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = handler_for(_body_after_the_end)
    answer = handler(events.http_v2(Request("GET", "/")), None)
    assert (answer["statusCode"], answer["body"]) == (200, "done")
    assert "'http.response.body' after the response ended" in caplog.text


async def _raises_mid_answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"part", "more_body": True})
    raise RuntimeError("torn")


async def _returns_mid_answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"part", "more_body": True})


@pytest.mark.parametrize("app", [_body_first, _two_starts, _raises_mid_answer, _returns_mid_answer])
def test_messages_out_of_order_or_a_torn_answer_are_one_plain_500(app: Any) -> None:
    """mangum's test_http_cycle_state, and the torn cases mangum also answers with a 500:
    on Lambda nothing reached the client yet, so the whole answer can still be replaced."""
    handler = handler_for(app)
    answer = handler(events.http_v2(Request("GET", "/")), None)
    assert answer["statusCode"] == 500
    assert answer["body"] == "Internal Server Error"
    assert answer["headers"] == {"content-type": "text/plain; charset=utf-8"}
    if app in (_body_first, _two_starts):  # mangum agrees exactly on its own cases
        mangum = Mangum(app, lifespan="off")
        assert mangum(events.http_v2(Request("GET", "/")), None) == {
            "statusCode": 500,
            "headers": {"content-type": "text/plain; charset=utf-8"},
            "body": "Internal Server Error",
            "isBase64Encoded": False,
        }


# --- lifespan, wait_until, tasks ---


def _app() -> NitroApp:
    def plugin(nitro_app: NitroApp) -> None:
        nitro_app.state["startups"] += 1
        nitro_app.state["startup_loop"] = asyncio.get_running_loop()

    app = NitroApp(plugins=[plugin], sync_to_thread=False)  # as the aws-lambda preset makes it
    app.state["startups"] = 0
    done: list[str] = []
    app.state["done"] = done

    async def later() -> None:
        await asyncio.sleep(0.05)
        done.append("background")

    @define_handler
    async def hello(event: Any) -> Any:
        event.wait_until(later())
        return {"same_loop": asyncio.get_running_loop() is app.state["startup_loop"]}

    app.add_route("/hello", hello)
    seen: list[Any] = []
    app.state["payloads"] = seen

    async def record(payload: Any, context: Any) -> Any:
        await asyncio.sleep(0.01)
        seen.append(payload)
        if payload.get("fail"):
            raise RuntimeError("task failed")
        return payload

    app.tasks.add("record", define_task(record))
    app.tasks.add("other", define_task(lambda payload, context: "other"))
    app.tasks.schedule = {"*/5 * * * *": ["record", "other"]}
    return app


def test_lifespan_once_per_container_on_the_handlers_loop() -> None:
    app = _app()
    handler = handler_for(app)
    for _ in range(4):
        answer = handler(events.http_v2(Request("GET", "/hello")), None)
        assert json.loads(answer["body"]) == {"same_loop": True}
        assert app.state["done"][-1] == "background"  # wait_until finished before the return
    assert app.state["startups"] == 1 and len(app.state["done"]) == 4
    assert app.serverless is True


def test_tasks_schedules_and_sqs_in_process() -> None:
    app = _app()
    handler = handler_for(app, schedules={rule_suffix("*/5 * * * *"): "*/5 * * * *"})
    assert handler({"nitro:task": "record", "payload": {"n": 1}}, None) == {"result": {"n": 1}}
    fired = events.scheduled_event(rule_name("my-app-prod", "*/5 * * * *"), "2026-03-01T10:05:00Z")
    assert handler(fired, None) == {
        "result": {"record": {"scheduled_time": "2026-03-01T10:05:00+00:00"}, "other": "other"}
    }
    # A rule's target input: that task of the cron's tick (the tick at the invocation).
    target = handler({"nitro:task": "record", "nitro:cron": "*/5 * * * *"}, None)
    assert target["result"]["scheduled_time"].endswith("+00:00")
    assert int(target["result"]["scheduled_time"][14:16]) % 5 == 0
    with pytest.raises(UnknownScheduleError, match="cron '0 3 \\* \\* \\*'"):
        handler({"nitro:task": "record", "nitro:cron": "0 3 * * *"}, None)
    with pytest.raises(UnknownScheduleError, match="does not run 'nope'"):
        handler({"nitro:task": "nope", "nitro:cron": "*/5 * * * *"}, None)

    def broken(payload: Any, context: Any) -> None:
        raise RuntimeError("task failed")

    app.tasks.add("broken", define_task(broken))
    app.tasks.schedule["* * * * *"] = ["broken"]
    with pytest.raises(ScheduledTaskError, match="broken: RuntimeError: task failed"):
        handler({"nitro:task": "broken", "nitro:cron": "* * * * *"}, None)
    # two records naming one task run one after the other, each with its own payload
    app.state["payloads"].clear()
    sqs = events.sqs_event(
        [json.dumps({"nitro:task": "record", "payload": {"n": i}}) for i in range(3)]
    )
    assert handler(sqs, None) == {"batchItemFailures": []}
    assert app.state["payloads"] == [{"n": 0}, {"n": 1}, {"n": 2}]
    failing = events.sqs_event([json.dumps({"nitro:task": "record", "payload": {"fail": True}})])
    assert handler(failing, None) == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    with pytest.raises(UnsupportedEventError):
        handler(events.scheduled_event("unknown-rule"), None)
    with pytest.raises(UnsupportedEventError):
        handler([1, 2], None)


# --- the preset's pieces ---


def test_rule_names_fit_eventbridge() -> None:
    name = rule_name("my-app-prod", "*/5 * * * *")
    assert name.startswith("my-app-prod-cron-") and name.endswith(rule_suffix("*/5 * * * *"))
    long = rule_name("x" * 100, "@hourly")
    assert len(long) == 64 and long.endswith(rule_suffix("0 * * * *"))
    assert rule_suffix("@hourly") == rule_suffix("0 * * * *")  # same EventBridge schedule
    assert rule_suffix("0 3 * * *") != rule_suffix("0 4 * * *")


def test_lambda_options() -> None:
    assert lambda_options({}) == {
        "runtime": "python3.12",
        "architecture": "x86_64",
        "memory": 1024,
        "timeout": 30,
        "environment": {},
        "url_auth": "NONE",
        "websocket": False,
        "streaming": False,
    }
    assert lambda_options({"websocket": True, "streaming": True})["streaming"] is True
    assert lambda_options({"architecture": "aarch64"})["architecture"] == "arm64"
    sources = {"event_sources": ["lib.events:Kinesis"]}
    assert lambda_options(sources)["event_sources"] == ["lib.events:Kinesis"]
    from nitro.bundle.output import BuildError

    bad_options = (
        {"runtime": "python3.9"},
        {"memory": 64},
        {"timeout": 901},
        {"arch": "x"},
        {"url_auth": "PUBLIC"},
        {"event_sources": "lib:Source"},
        {"event_sources": ["lib.Source"]},
        {"websocket": "yes"},
        {"streaming": 1},
    )
    for bad in bad_options:
        with pytest.raises(BuildError):
            lambda_options(bad)


def test_template_yaml_round_trips() -> None:
    import yaml  # PyYAML: in the test extra

    data = {"A": {"Fn::Sub": "x-${Stage}"}, "B": [{"c": 1, "d": [True, None]}, "e: f"], "G": {}}
    assert yaml.safe_load(to_yaml(data)) == data


# --- close(): nothing the handler started outlives it ---


def test_close_ends_the_worker_threads_anyio_started_in_an_invocation() -> None:
    """Starlette's `FileResponse` (public assets) reads through anyio's worker threads,
    which anyio ends when the invocation's task is done. That order is a done-callback
    the stopped loop has not run yet: `close` runs it, or the thread (not a daemon)
    would keep the interpreter from ever exiting, as it kept the test run from ending."""
    import threading

    import anyio.to_thread

    app = NitroApp()

    @define_handler
    async def read(event: Any) -> Any:
        return {"on": await anyio.to_thread.run_sync(lambda: threading.current_thread().name)}

    app.add_route("/read", read)
    handler = LambdaHandler(app)
    answer = handler(events.http_v2(Request("GET", "/read")), None)
    assert json.loads(answer["body"]) == {"on": "AnyIO worker thread"}
    workers = [t for t in threading.enumerate() if t.name == "AnyIO worker thread"]
    assert workers and all(t.is_alive() for t in workers)
    handler.close()
    for worker in workers:
        worker.join(5)
    assert not any(t.is_alive() for t in workers)
