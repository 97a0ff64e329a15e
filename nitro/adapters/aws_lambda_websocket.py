"""API Gateway WebSocket events -> the route's `define_websocket_handler` hooks.

`aws_lambda.ApiGatewayWebSocket` recognizes the events and imports this module on
the first one: HTTP-only functions never load it (cold start).

An API Gateway WebSocket API holds the client's socket and invokes the function
once per event (``requestContext.eventType``):

- ``CONNECT`` (``$connect``): the upgrade request goes the way it goes on the
  server (route rules, middleware, then `upgrade`, which may refuse: its status
  answers the CONNECT), then `open` runs. The route is the ``path`` query parameter
  (``wss://.../prod?path=/ws/lobby``), else the project's only WebSocket route.
  The connection (path, query, headers, `peer.context`, namespace, topics) is
  remembered in the ``data`` storage, so any container can serve its later events.
  API Gateway refuses posts to a connection until its ``$connect`` returned, so what
  `open` sends waits in the connection's outbox and goes out when its next event
  is handled.
- ``MESSAGE`` (``$default``): `message(peer, message)` with the peer rebuilt from
  the record (`peer.id` is the ``connectionId``); a message over the size limit
  closes the connection (1009), a hook that raises closes it (1011) after the
  `error` hooks, as on the server.
- ``DISCONNECT`` (``$disconnect``): the subscriptions and the record are removed and
  `close(peer, details)` runs with API Gateway's ``disconnectStatusCode`` and
  ``disconnectReason``. No post can reach the client any more.

`peer.send` posts through the management API; `subscribe`/`unsubscribe`/`publish`
keep topics in the ``data`` storage (`aws_lambda_websocket_topics`).

Event shape: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
"""

from __future__ import annotations

import base64
import logging
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..core.context import RequestScope
from ..core.error_response import respond_to_error
from ..core.event import Event
from ..core.paths import strip_base
from ..core.response import encode_json
from ..core.websocket import UPGRADE_KEY, CloseDetails, Message, Peer, WebSocketHandler
from ..core.websocket_session import (
    DEFAULT_MAX_MESSAGE_SIZE,
    check_websocket_route,
    guard_hook,
    run_upgrade,
)
from .aws_lambda_websocket_topics import Gone, ManagementApi, StorageHub, connection_key

if TYPE_CHECKING:
    from ..core.app import NitroApp
    from ..core.storage_view import StorageView

__all__ = ["STORE", "handle_websocket_event", "only_websocket_route"]

logger = logging.getLogger("nitro")

STORE = "data:nitro:ws"  # where connections and topics live
OK = {"statusCode": 200}


async def handle_websocket_event(app: NitroApp, event: dict[str, Any]) -> dict[str, Any]:
    """Answer one API Gateway WebSocket event (what `ApiGatewayWebSocket.handle` runs)."""
    context = event["requestContext"]
    kind = context["eventType"]
    store = app.storage.view(STORE)
    hub = StorageHub(store, ManagementApi(context["domainName"], context["stage"]))
    if kind == "CONNECT":
        return await _connect(app, event, store, hub)
    connection_id = context["connectionId"]
    record = await store.get_item(connection_key(connection_id))
    if record is None:
        logger.warning(
            "[nitro:websocket] %s for unknown connection %s (its CONNECT was not recorded)",
            kind,
            connection_id,
        )
        return OK if kind == "DISCONNECT" else {"statusCode": 410}
    if kind == "DISCONNECT":
        return await _disconnect(app, context, record, hub)
    return await _message(app, event, record, hub)


def only_websocket_route(app: NitroApp) -> str | None:
    """The path of the project's only WebSocket route, when it has one and it takes
    no parameters (a CONNECT without ``?path=`` goes there)."""
    routes = [
        value.entry.route
        for _, _, value in app.router.entries()
        if getattr(getattr(value, "entry", None), "kind", "") == "websocket"
    ]
    if len(routes) == 1 and ":" not in routes[0] and "*" not in routes[0]:
        return routes[0]
    return None


def _scope(record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    path = record["path"]
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record["headers"]]
    protocols = next((v for k, v in record["headers"] if k == "sec-websocket-protocol"), "")
    identity = context.get("identity") or {}
    return {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "wss",
        "server": (context.get("domainName") or "localhost", 443),
        "client": (identity.get("sourceIp") or "0.0.0.0", 0),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": record["query"].encode(),
        "headers": headers,
        "subprotocols": [p.strip() for p in protocols.split(",") if p.strip()],
        "state": {},
        "extensions": {"websocket.http.response": {}},
        "aws.event": None,
        "aws.context": None,
    }


async def _no_receive() -> dict[str, Any]:
    return {"type": "websocket.disconnect", "code": 1005}


async def _no_send(message: Any) -> None:  # nothing goes through ASGI here
    return None


def _request(app: NitroApp, record: dict[str, Any], context: dict[str, Any]) -> Event:
    return Event(app, _scope(record, context), _no_receive, _no_send)


def _query(event: dict[str, Any]) -> str:
    # as `RestApiV1.target` encodes it: `doseq` takes the lists and the single values
    params = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters")
    return urlencode(params or {}, doseq=True)


def _headers(event: dict[str, Any]) -> list[tuple[str, str]]:
    multi = event.get("multiValueHeaders")
    if multi:
        return [(k.lower(), v) for k, values in multi.items() for v in values]
    return [(k.lower(), v) for k, v in (event.get("headers") or {}).items()]


# Worked out again for every event: the route's params, the invocation's request id.
_PER_EVENT = frozenset({"params", "request_id"})


def _stored_context(context: dict[str, Any]) -> dict[str, Any]:
    """What of `peer.context` can be stored (JSON); the rest is left out, with a warning."""
    kept: dict[str, Any] = {}
    for key, value in context.items():
        if key in _PER_EVENT:
            continue
        try:
            encode_json(value)
        except Exception:
            logger.warning(
                "[nitro:websocket] peer.context[%r] is not JSON: later events do not see it", key
            )
            continue
        kept[key] = value
    return kept


class _Outbox:
    """`peer.send` during CONNECT: API Gateway refuses posts until $connect returns."""

    def __init__(self) -> None:
        self.frames: list[list[Any]] = []  # ["text", str] | ["bytes", base64] | ["close"]

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "websocket.close":
            self.frames.append(["close"])
        elif message.get("text") is not None:
            self.frames.append(["text", message["text"]])
        else:
            self.frames.append(["bytes", base64.b64encode(message.get("bytes") or b"").decode()])


def _poster(hub: StorageHub, connection_id: str) -> Any:
    """`peer.send` after CONNECT: a post to the connection; a close deletes it."""

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            await hub.api.delete(connection_id)
            return
        data = message.get("text")
        payload = data.encode() if data is not None else message.get("bytes") or b""
        try:
            await hub.api.post(connection_id, payload)
        except Gone:
            await hub.drop(connection_id)
            raise

    return send


async def _connect(
    app: NitroApp, event: dict[str, Any], store: StorageView, hub: StorageHub
) -> dict[str, Any]:
    context = event["requestContext"]
    connection_id = context["connectionId"]
    params = event.get("queryStringParameters") or {}
    path = params.get("path") or only_websocket_route(app)
    if not path or not path.startswith("/"):
        return {
            "statusCode": 404,
            "body": "No WebSocket route: connect with ?path=/your/route",
        }
    record: dict[str, Any] = {
        "path": path,
        "query": _query(event),
        "headers": _headers(event),
        "namespace": path,
        "topics": [],
        "context": {},
        "outbox": [],
    }
    request = _request(app, record, context)
    async with RequestScope(request):
        try:
            check_websocket_route(app, request)
            response = await app.dispatch(request)
            handler = request.scope.get(UPGRADE_KEY)
            if handler is None:  # refused by a rule or middleware, or server.py's app
                return _refusal(response) if response is not None else {"statusCode": 404}
            settings = await run_upgrade(handler, request)
        except Exception as error:
            return _refusal(await respond_to_error(app, error, request))
        request.context.update(settings.get("context") or {})
        namespace = str(settings.get("namespace") or request.pathname)
        outbox = _Outbox()
        peer = Peer(request, outbox, hub, namespace)
        peer.id = connection_id
        if not await guard_hook(app, handler, peer, "open", peer):
            await guard_hook(app, handler, peer, "close", peer, CloseDetails(1011))
            return {"statusCode": 500}
    record["namespace"] = namespace
    record["context"] = _stored_context(dict(request.context))
    record["topics"] = sorted(peer.topics)
    record["outbox"] = outbox.frames
    await hub.flush()
    await store.set_item(connection_key(connection_id), record)
    protocol = next(
        (
            v
            for k, v in (settings.get("headers") or {}).items()
            if k.lower() == "sec-websocket-protocol"
        ),
        None,
    )
    return {**OK, "headers": {"Sec-WebSocket-Protocol": protocol}} if protocol else OK


def _refusal(response: Any) -> dict[str, Any]:
    body = getattr(response, "body", b"")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in response.raw_headers}
    return {
        "statusCode": response.status_code,
        "headers": headers,
        "body": body.decode("utf-8", "replace"),
    }


def _peer(
    app: NitroApp, record: dict[str, Any], context: dict[str, Any], hub: StorageHub
) -> tuple[Peer, WebSocketHandler, Event]:
    request = _request(app, record, context)
    pathname = record["path"]
    if app.base_url != "/":
        pathname = strip_base(pathname, app.base_url)
    request.pathname = pathname
    match = app.router.match("GET", pathname)
    if match is None:
        raise LookupError(f"[nitro:websocket] no route serves {pathname} any more")
    route, params = match
    if route.handler is None:
        route.load()
    handler = route.handler
    if not isinstance(handler, WebSocketHandler):
        raise LookupError(f"[nitro:websocket] {pathname} is not a WebSocket route")
    if params:
        request.params = params
    request.context.update(record["context"])
    connection_id = context["connectionId"]
    peer = Peer(request, _poster(hub, connection_id), hub, record["namespace"])
    peer.id = connection_id
    peer.topics.update(record["topics"])
    return peer, handler, request


async def _deliver_outbox(record: dict[str, Any], peer: Peer, hub: StorageHub) -> bool:
    """Send what `open` queued; False when the connection turned out to be gone."""
    try:
        for frame in record["outbox"]:
            if frame[0] == "close":
                await peer.close()
            elif frame[0] == "text":
                await peer.send(frame[1])
            else:
                await peer.send(base64.b64decode(frame[1]))
    except Gone:
        return False
    return True


async def _message(
    app: NitroApp, event: dict[str, Any], record: dict[str, Any], hub: StorageHub
) -> dict[str, Any]:
    context = event["requestContext"]
    peer, handler, request = _peer(app, record, context, hub)
    topics = set(peer.topics)
    async with RequestScope(request):
        if record["outbox"]:
            if not await _deliver_outbox(record, peer, hub):
                return {"statusCode": 410}
            record["outbox"] = []
            await hub.store.set_item(connection_key(peer.id), record)
        if peer.closed:
            return OK
        body = event.get("body") or ""
        data: str | bytes = base64.b64decode(body) if event.get("isBase64Encoded") else body
        limit = int(
            handler.max_message_size
            or app.websocket_options.get("max_message_size")
            or DEFAULT_MAX_MESSAGE_SIZE
        )
        size = len(data) if isinstance(data, bytes) else len(data.encode())
        if size > limit:
            await peer.close(1009, f"message of {size} bytes over the {limit} limit")
            return OK
        await guard_hook(app, handler, peer, "message", peer, Message(data))
        if hub.changed:
            await hub.flush()
        if peer.topics != topics:
            record["topics"] = sorted(peer.topics)
            await hub.store.set_item(connection_key(peer.id), record)
    return OK


async def _disconnect(
    app: NitroApp, context: dict[str, Any], record: dict[str, Any], hub: StorageHub
) -> dict[str, Any]:
    peer, handler, request = _peer(app, record, context, hub)
    peer._closed = True  # the client is gone: sends raise, as on the server
    details = CloseDetails(
        int(context.get("disconnectStatusCode") or 1005), context.get("disconnectReason") or ""
    )
    async with RequestScope(request):
        hub.remove(peer)
        await hub.flush()
        await hub.store.remove_item(connection_key(peer.id))
        await guard_hook(app, handler, peer, "close", peer, details)
    return OK
