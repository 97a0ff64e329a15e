"""WebSockets on Lambda: examples/chat built with ``aws_lambda={"websocket": True}``,
its ``index.handler`` run in two Python 3.12 processes (two "containers") and driven
by API Gateway WebSocket events; topics and connections in DynamoDB on moto; posts
to a double of the management API (moto's cannot tell messages apart nor say 410:
see aws_lambda_management_api.py).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from storage_drivers.backends._moto import moto

from adapters.aws_lambda_management_api import ManagementAPI
from adapters.test_aws_lambda import Invoker, lambda_python

from helpers import REPO, nitro_cli

pytestmark = pytest.mark.slow

DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"
ROUTE_KEYS = {"CONNECT": "$connect", "MESSAGE": "$default", "DISCONNECT": "$disconnect"}


def ws_event(
    kind: str,
    connection: str,
    *,
    query: dict[str, str] | None = None,
    body: str | None = None,
    code: int = 1001,
) -> dict[str, Any]:
    """An API Gateway WebSocket event as Lambda receives it (proxy integration)."""
    context: dict[str, Any] = {
        "routeKey": ROUTE_KEYS[kind],
        "eventType": kind,
        "messageDirection": "IN",
        "connectionId": connection,
        "domainName": DOMAIN,
        "stage": "prod",
        "apiId": "abc123",
        "requestId": uuid.uuid4().hex,
        "connectedAt": 1765000000000,
        "requestTimeEpoch": 1765000000000,
        "identity": {"sourceIp": "203.0.113.9"},
    }
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if kind == "DISCONNECT":
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = "Client went away"
    if kind in ("CONNECT", "DISCONNECT"):
        headers = {"Host": DOMAIN, "Sec-WebSocket-Version": "13", "User-Agent": "tests"}
        event["headers"] = headers
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    if kind == "CONNECT" and query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    if kind == "MESSAGE":
        event["body"] = body or ""
    return event


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lambda_python()
    root = tmp_path_factory.mktemp("ws") / "chat"
    shutil.copytree(REPO / "examples" / "chat", root)
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=300)
    assert result.returncode == 0, result.stderr
    return root / ".output" / "server"


@pytest.fixture(scope="module")
def api() -> Iterator[ManagementAPI]:
    double = ManagementAPI()
    yield double
    double.stop()


@pytest.fixture(scope="module")
def table(request: pytest.FixtureRequest) -> tuple[Any, str]:
    server = moto(request)
    name = f"nitro-ws-{uuid.uuid4().hex[:8]}"
    server.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return server, name


@pytest.fixture(scope="module")
def containers(
    built: Path,
    api: ManagementAPI,
    table: tuple[Any, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Invoker, Invoker]]:
    server, name = table
    env = {
        "NITRO_DYNAMODB_TABLE": name,
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": api.url,
        "AWS_ACCESS_KEY_ID": server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
        "AWS_DEFAULT_REGION": server.region,
        "AWS_REGION": server.region,
    }
    logs = tmp_path_factory.mktemp("ws-logs")
    a = Invoker(built, env, logs / "a.log")
    b = Invoker(built, env, logs / "b.log")
    yield a, b
    a.stop()
    b.stop()


def stored_keys(table: tuple[Any, str]) -> list[str]:
    server, name = table
    items = server.client("dynamodb").scan(TableName=name)["Items"]
    return sorted(item["key"]["S"] for item in items)


def decoded(api: ManagementAPI, connection: str) -> list[Any]:
    return [json.loads(m) for m in api.messages(connection)]


def connect(invoker: Invoker, connection: str, user: str, room: str = "lobby") -> Any:
    return invoker(ws_event("CONNECT", connection, query={"path": f"/ws/{room}", "user": user}))


def test_a_chat_across_two_containers(
    containers: tuple[Invoker, Invoker], api: ManagementAPI, table: tuple[Any, str]
) -> None:
    a, b = containers
    assert connect(a, "ann=", "ann") == {"statusCode": 200}
    # Nothing is posted while $connect runs: API Gateway would refuse it.
    assert api.messages("ann=") == []
    assert connect(b, "bob/", "bob") == {"statusCode": 200}  # another container
    assert decoded(api, "ann=") == [{"system": "bob joined"}]  # published from b

    # ann's next event, in the other container: her welcome first, then her message.
    assert b(ws_event("MESSAGE", "ann=", body="hi")) == {"statusCode": 200}
    assert decoded(api, "ann=")[1] == {"system": "welcome to lobby, ann"}
    assert decoded(api, "bob/") == [{"user": "ann", "text": "hi"}]  # bob's welcome still waits
    assert a(ws_event("MESSAGE", "bob/", body="hello")) == {"statusCode": 200}
    assert decoded(api, "bob/")[1:] == [{"system": "welcome to lobby, bob"}] and decoded(
        api, "ann="
    )[-1] == {"user": "bob", "text": "hello"}

    # Another room is another namespace: carol hears nothing from the lobby.
    assert connect(a, "carol", "carol", room="kitchen") == {"statusCode": 200}
    b(ws_event("MESSAGE", "ann=", body="lobby only"))
    assert api.messages("carol") == []

    # DISCONNECT runs close (which publishes) and forgets ann everywhere.
    before = stored_keys(table)
    assert any("ann%3D" in key for key in before)
    assert a(ws_event("DISCONNECT", "ann=")) == {"statusCode": 200}
    assert decoded(api, "bob/")[-1] == {"system": "ann left"}
    assert not any("ann%3D" in key for key in stored_keys(table))


def test_upgrade_refusals_answer_the_connect(containers: tuple[Invoker, Invoker]) -> None:
    a, _ = containers
    refused = a(ws_event("CONNECT", "nobody", query={"path": "/ws/lobby"}))
    assert refused["statusCode"] == 401
    assert "?user=NAME" in refused["body"]
    missing = a(ws_event("CONNECT", "lost", query={"path": "/no/such/route", "user": "x"}))
    assert missing["statusCode"] == 404
    # No ?path= and no single parameterless WebSocket route: the CONNECT must say which.
    assert a(ws_event("CONNECT", "where", query={"user": "x"}))["statusCode"] == 404


def test_a_gone_connection_is_dropped_from_every_topic(
    containers: tuple[Invoker, Invoker], api: ManagementAPI, table: tuple[Any, str]
) -> None:
    a, b = containers
    connect(a, "dan", "dan", room="attic")
    connect(b, "eve", "eve", room="attic")
    api.gone.add("eve")  # eve's client vanished without a DISCONNECT
    a(ws_event("MESSAGE", "dan", body="anyone?"))
    assert api.messages("eve") == []
    assert not any(key.endswith("eve") for key in stored_keys(table))
    calls = api.calls
    a(ws_event("MESSAGE", "dan", body="again"))
    assert api.calls == calls  # no post to eve any more (dan's outbox went out before)


def test_a_hook_closing_the_peer_deletes_the_connection(
    containers: tuple[Invoker, Invoker], api: ManagementAPI
) -> None:
    a, b = containers
    connect(a, "fay", "fay", room="porch")
    b(ws_event("MESSAGE", "fay", body="/leave"))
    assert api.deleted[-1] == "fay"
    assert a(ws_event("DISCONNECT", "fay", code=1000)) == {"statusCode": 200}


def test_a_data_mount_containers_do_not_share_fails_the_build(tmp_path: Path) -> None:
    root = tmp_path / "chat"
    shutil.copytree(REPO / "examples" / "chat", root)
    (root / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        "config = define_nitro_config(aws_lambda={'websocket': True},"
        " storage={'data': {'driver': 'memory'}})\n"
    )
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=120)
    assert result.returncode == 1
    assert "the data mount is 'memory', which Lambda containers do not share" in result.stderr
