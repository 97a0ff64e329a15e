"""API Gateway WebSocket events in process, for what the built-handler tests leave out:
the only route without ``?path=``, binary messages, the size limit, hooks that raise,
and what middleware put in the context at CONNECT. The `data` mount is in memory;
posts go to the management API double (aws_lambda_management_api.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.aws_lambda_management_api import ManagementAPI
from adapters.test_aws_lambda_websocket import ws_event
from nitro.adapters.aws_lambda import LambdaHandler
from nitro.runtime.app import load_app

ROUTE = """
from nitro import define_websocket_handler, use_storage


async def open(peer):
    if peer.request.query().get("fail"):
        raise RuntimeError("open failed")
    await peer.send("hello " + peer.context.who)
    await peer.send(b"\\x00\\x01")


async def message(peer, message):
    if message.text() == "boom":
        raise ValueError("boom")
    await peer.send({"echo": message.text(), "who": peer.context.who})


async def close(peer, details):
    await use_storage("data").set_item(f"closed:{peer.id}", {"code": details.code})


async def error(peer, error):
    await use_storage("data").set_item(f"error:{peer.id}", str(error))


handler = define_websocket_handler(
    open=open, message=message, close=close, error=error, max_message_size=16
)
"""
MIDDLEWARE = """
class Opaque:
    pass


def handler(event):
    event.context.who = event.headers.get("user-agent", "?")
    event.context.opaque = Opaque()  # not JSON: later events do not see it
"""


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementAPI]:
    double = ManagementAPI()
    monkeypatch.setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", double.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield double
    double.stop()


@pytest.fixture
def handler(tmp_path: Path) -> Iterator[LambdaHandler]:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "live.py").write_text(ROUTE)
    (tmp_path / "middleware").mkdir()
    (tmp_path / "middleware" / "who.py").write_text(MIDDLEWARE)
    (tmp_path / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        "config = define_nitro_config(storage={'data': {'driver': 'memory'}})\n"
    )
    made = LambdaHandler(load_app(tmp_path))
    yield made
    made.close()


def stored(handler: LambdaHandler, key: str) -> Any:
    assert handler.nitro is not None
    return handler.run(handler.nitro.storage.get_item(f"data:{key}"))


def test_the_only_route_serves_a_connect_without_path(
    handler: LambdaHandler, api: ManagementAPI, caplog: pytest.LogCaptureFixture
) -> None:
    assert handler(ws_event("CONNECT", "c1"), None) == {"statusCode": 200}
    assert "peer.context['opaque'] is not JSON" in caplog.text
    assert api.messages("c1") == []
    handler(ws_event("MESSAGE", "c1", body="hi"), None)
    # open's text and bytes first, in order, then the answer to the message, with
    # what the middleware put in the context at CONNECT.
    assert api.posts["c1"][:2] == [b"hello tests", b"\x00\x01"]
    assert json.loads(api.posts["c1"][2]) == {"echo": "hi", "who": "tests"}
    binary = ws_event("MESSAGE", "c1", body=base64.b64encode(b"bin").decode())
    binary["isBase64Encoded"] = True
    handler(binary, None)
    assert json.loads(api.posts["c1"][3]) == {"echo": "bin", "who": "tests"}


def test_a_message_over_the_limit_closes_the_connection(
    handler: LambdaHandler, api: ManagementAPI
) -> None:
    handler(ws_event("CONNECT", "c2"), None)
    handler(ws_event("MESSAGE", "c2", body="x" * 17), None)
    assert api.deleted == ["c2"]
    assert handler(ws_event("DISCONNECT", "c2", code=1009), None) == {"statusCode": 200}
    assert stored(handler, "closed:c2") == {"code": 1009}
    assert stored(handler, "nitro:ws:connections:c2") is None


def test_a_hook_that_raises_reaches_error_and_closes_its_peer(
    handler: LambdaHandler, api: ManagementAPI
) -> None:
    handler(ws_event("CONNECT", "c3"), None)
    handler(ws_event("MESSAGE", "c3", body="boom"), None)
    assert stored(handler, "error:c3") == "boom"
    assert api.deleted == ["c3"]


def test_open_that_raises_refuses_the_connect(handler: LambdaHandler, api: ManagementAPI) -> None:
    refused = handler(ws_event("CONNECT", "c4", query={"path": "/live", "fail": "1"}), None)
    assert refused == {"statusCode": 500}
    assert stored(handler, "error:c4") == "open failed"
    assert stored(handler, "closed:c4") == {"code": 1011}
    assert stored(handler, "nitro:ws:connections:c4") is None  # nothing remembered
    assert api.calls == 0


def test_events_of_an_unknown_connection(handler: LambdaHandler, api: ManagementAPI) -> None:
    assert handler(ws_event("MESSAGE", "ghost", body="hi"), None) == {"statusCode": 410}
    assert handler(ws_event("DISCONNECT", "ghost"), None) == {"statusCode": 200}
    assert api.calls == 0


def test_publish_forgets_a_gone_member_the_connection_record_does_not_list(
    api: ManagementAPI,
) -> None:
    """Two containers writing one connection's record at once can lose a topic from its
    list; the member's key is removed by the publish that meets the 410 all the same."""
    import asyncio
    import types

    from nitro.adapters.aws_lambda_websocket_topics import ManagementApi, StorageHub
    from nitro.core.storage import Storage
    from nitro.storage_drivers.memory import driver

    storage = Storage()
    storage.mount("data", driver({}, root=Path.cwd()))
    hub = StorageHub(storage.view("data:nitro:ws"), ManagementApi("example", "prod"))

    async def scenario() -> list[str]:
        for name in ("kept", "stale"):
            peer: Any = types.SimpleNamespace(id=name, namespace="/ws", topics=set())
            hub.subscribe(peer, "chat")
        await hub.flush()  # "stale" has no connection record at all
        api.gone.add("stale")
        await hub.publish("/ws", "chat", "hi")
        return await hub.members("/ws", "chat")

    assert asyncio.run(scenario()) == ["kept"]
    assert api.messages("kept") == ["hi"]
