"""WebSockets: `define_websocket_handler`, peers and messages, over the ASGI protocol.

A route file whose handler is ``define_websocket_handler(open=, message=, close=,
error=, upgrade=, http=)`` is a WebSocket endpoint. The upgrade request goes
through the same path as any request (canonical path, route rules, global and
directory middleware), then `upgrade(request)` may refuse it by raising
`HTTPError`; only then is the connection accepted. Plain HTTP on the same path is
answered by `http` (426 Upgrade Required without it).

Hooks may be sync or async. A hook that raises reaches the `error` hook and the
app's `error` hooks, and its peer is closed with 1011 (1007 for a message that is
not the JSON or text it was read as); other peers are not affected. A message
over `max_message_size` closes the peer with 1009.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .errors import HTTPError
from .event import Event, _current_event
from .handlers import EventHandler, is_async_callable
from .paths import canonical_path
from .response import encode_json

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from .app import NitroApp
    from .pubsub import Hub

__all__ = [
    "CloseDetails",
    "InvalidMessageError",
    "Message",
    "Peer",
    "WebSocketHandler",
    "define_websocket_handler",
]

logger = logging.getLogger("nitro")

DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024
UPGRADE_KEY = "nitro.websocket"  # set in the upgrade request's scope by a WebSocket route


class InvalidMessageError(ValueError):
    """A message read as text or JSON is not valid UTF-8 or JSON (the peer survives if
    the hook catches it; otherwise it is closed with 1007)."""


class Message:
    """One message from a peer: ``text()``, ``json()``, ``bytes()``."""

    __slots__ = ("data",)

    def __init__(self, data: str | bytes) -> None:
        self.data = data

    def text(self) -> str:
        if isinstance(self.data, str):
            return self.data
        try:
            return self.data.decode()
        except UnicodeDecodeError as exc:
            raise InvalidMessageError(
                f"[nitro:websocket] message is not UTF-8 text: {exc}"
            ) from None

    def json(self) -> Any:
        try:
            return json.loads(self.text())
        except json.JSONDecodeError as exc:
            raise InvalidMessageError(
                f"[nitro:websocket] message is not valid JSON: {exc}"
            ) from None

    def bytes(self) -> bytes:
        return self.data.encode() if isinstance(self.data, str) else self.data

    def __repr__(self) -> str:
        preview = self.data[:40]
        return f"<Message {preview!r}{'...' if len(self.data) > 40 else ''}>"


class CloseDetails:
    """Why a peer went away: the close `code` and `reason`."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"<CloseDetails {self.code} {self.reason!r}>"


class Peer:
    """One connected client.

    `id` (unique), `request` (the upgrade request: `headers`, `url`, `query()`...),
    `context` (the request's context plus what `upgrade` returned), `namespace`
    (the request path: topics are per namespace), `topics`.
    """

    __slots__ = ("_closed", "_hub", "_send", "context", "id", "namespace", "request", "topics")

    def __init__(self, request: Event, send: Send, hub: Hub, namespace: str) -> None:
        self.id = os.urandom(12).hex()  # unique across processes, for publish's sender
        self.request = request
        self.context = request.context
        self.namespace = namespace
        self.topics: set[str] = set()
        self._send = send
        self._hub = hub
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def send(self, data: Any) -> None:
        """Send text (str), binary (bytes) or JSON (anything else: dicts, lists...)."""
        if self._closed:
            raise ConnectionError(f"[nitro:websocket] peer {self.id} is closed")
        await self._send(_frame(data))

    async def send_quietly(self, data: Any) -> None:
        """`send`, but a peer that went away meanwhile is skipped (publishing to many)."""
        if self._closed:
            return
        try:
            await self._send(_frame(data))
        except Exception:
            self._closed = True  # the client is gone: its receive loop will say so

    def subscribe(self, topic: str) -> None:
        self._hub.subscribe(self, topic)

    def unsubscribe(self, topic: str) -> None:
        self._hub.unsubscribe(self, topic)

    async def publish(self, topic: str, data: Any) -> None:
        """Send to every other subscriber of `topic` in this namespace, in every process."""
        payload = data if isinstance(data, (str, bytes)) else encode_json(data).decode()
        await self._hub.publish(self.namespace, topic, payload, sender=self.id)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:
            pass  # already gone

    def __repr__(self) -> str:
        return f"<Peer {self.id} {self.namespace}>"


def _frame(data: Any) -> dict[str, Any]:
    if isinstance(data, str):
        return {"type": "websocket.send", "text": data}
    if isinstance(data, (bytes, bytearray, memoryview)):
        return {"type": "websocket.send", "bytes": bytes(data)}
    return {"type": "websocket.send", "text": encode_json(data).decode()}


class WebSocketHandler(EventHandler):
    """A WebSocket route (``define_websocket_handler``); as an HTTP handler it serves `http`."""

    __slots__ = ("hooks", "max_message_size")

    def __init__(
        self,
        *,
        open: Callable[..., Any] | None = None,
        message: Callable[..., Any] | None = None,
        close: Callable[..., Any] | None = None,
        error: Callable[..., Any] | None = None,
        upgrade: Callable[..., Any] | None = None,
        http: Callable[..., Any] | None = None,
        max_message_size: int | None = None,
    ) -> None:
        plain = http if isinstance(http, EventHandler) else EventHandler(http) if http else None

        async def answer(event: Event) -> Any:
            if event.scope["type"] == "websocket":
                event.scope[UPGRADE_KEY] = self  # the app upgrades once the request got here
                return None
            if plain is None:
                raise HTTPError(
                    426, "This endpoint speaks WebSocket", headers={"upgrade": "websocket"}
                )
            return await plain.call(event)

        super().__init__(answer)
        self.hooks = {"open": open, "message": message, "close": close, "error": error}
        self.hooks["upgrade"] = upgrade
        self.max_message_size = max_message_size

    async def run_hook(self, name: str, *args: Any) -> Any:
        hook = self.hooks.get(name)
        if hook is None:
            return None
        if is_async_callable(hook):
            return await hook(*args)
        result = hook(*args)
        if hasattr(result, "__await__"):
            return await result
        return result

    def __repr__(self) -> str:
        hooks = ",".join(name for name, hook in self.hooks.items() if hook)
        return f"<WebSocketHandler {hooks}>"


def define_websocket_handler(
    *,
    open: Callable[..., Any] | None = None,
    message: Callable[..., Any] | None = None,
    close: Callable[..., Any] | None = None,
    error: Callable[..., Any] | None = None,
    upgrade: Callable[..., Any] | None = None,
    http: Callable[..., Any] | None = None,
    max_message_size: int | None = None,
) -> WebSocketHandler:
    """A WebSocket endpoint (in a route file); hooks may be sync or async.

    Example (``routes/chat/[room].py``)::

        from nitro import HTTPError, define_websocket_handler

        async def upgrade(request):
            if "token" not in request.query():
                raise HTTPError(401)
            return {"context": {"user": request.query()["token"]}}

        async def open(peer):
            peer.subscribe("chat")
            await peer.send({"joined": peer.context.user})

        async def message(peer, message):
            await peer.publish("chat", {"from": peer.context.user, "text": message.text()})

        handler = define_websocket_handler(upgrade=upgrade, open=open, message=message)

    `upgrade(request)` may raise `HTTPError` to refuse, or return a dict with
    ``context`` (merged into `peer.context`), ``headers`` (sent with the accept;
    ``sec-websocket-protocol`` picks a subprotocol) and ``namespace``. `close(peer,
    details)` gets `details.code` and `details.reason`; `error(peer, error)` sees
    what a hook raised. `http` answers plain HTTP requests to the same path.
    `max_message_size` (bytes) overrides the app's `websocket["max_message_size"]`.
    """
    return WebSocketHandler(
        open=open,
        message=message,
        close=close,
        error=error,
        upgrade=upgrade,
        http=http,
        max_message_size=max_message_size,
    )


# --- the session ---


async def serve_websocket(app: NitroApp, scope: Scope, receive: Receive, send: Send) -> None:
    """One WebSocket connection: route the upgrade request like any request, refuse it
    (HTTP error, redirect, middleware answer) or accept it and run the peer."""
    event = Event(app, {**scope, "method": "GET"}, receive, send)
    token = _current_event.set(event)
    try:
        try:
            _only_websocket_routes(app, event)
            response = await app._dispatch(event)
            handler = event.scope.get(UPGRADE_KEY)
            if handler is None:
                if response is None:  # server.py's app took the connection
                    return
                await deny(scope, send, response)
                return
            settings = await _upgrade(handler, event)
            await app.hub.start()  # Redis unreachable: refused with a 503, not accepted
        except Exception as error:
            await deny(scope, send, await app._error_response(error, event))
            return
        options = app.websocket_options
        limit = (
            handler.max_message_size or options.get("max_message_size") or DEFAULT_MAX_MESSAGE_SIZE
        )
        await _run_peer(app, handler, event, settings, receive, send, int(limit))
    finally:
        _current_event.reset(token)
        if event._cleanups is not None:
            await app._cleanup(event)
        if event.pending is not None:
            await app._background.settle(event, wait=app.serverless)


def _only_websocket_routes(app: NitroApp, event: Event) -> None:
    """An upgrade request may reach a WebSocket route or server.py's app, never run an
    HTTP handler: refuse it before routing when the path's route is not a WebSocket one."""
    pathname = canonical_path(event.scope)
    if app.base_url != "/":
        pathname = app._strip_base(pathname)
    match = app.router.match("GET", pathname)
    if match is None:
        redirected = app.route_rules and "redirect" in app.route_rules.resolve("GET", pathname)
        if app.server_app is None and not redirected:
            raise HTTPError(404, f"No WebSocket endpoint at {pathname}")
        return
    route = match[0]
    if route.handler is None:
        route.load()
    if not isinstance(route.handler, WebSocketHandler):
        raise HTTPError(404, f"No WebSocket endpoint at {pathname} (it is an HTTP route)")


async def _upgrade(handler: WebSocketHandler, event: Event) -> dict[str, Any]:
    settings = await handler.run_hook("upgrade", event)
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise TypeError(
            "[nitro:websocket] upgrade() returns None or a dict with context, headers, namespace"
        )
    return settings


async def _run_peer(
    app: NitroApp,
    handler: WebSocketHandler,
    event: Event,
    settings: dict[str, Any],
    receive: Receive,
    send: Send,
    limit: int,
) -> None:
    hub = app.hub
    if (await receive())["type"] != "websocket.connect":
        return
    event.context.update(settings.get("context") or {})
    peer = Peer(event, send, hub, str(settings.get("namespace") or event.pathname))
    await send(_accept(settings))
    hub.add(peer)
    details = CloseDetails(1005)
    try:
        if not await _guard(app, handler, peer, "open", peer):
            details = CloseDetails(1011)
            return
        while True:
            incoming = await receive()
            kind = incoming["type"]
            if kind == "websocket.disconnect":
                peer._closed = True
                details = CloseDetails(
                    int(incoming.get("code") or 1005), incoming.get("reason") or ""
                )
                return
            if kind != "websocket.receive":
                continue
            data = incoming.get("text")
            if data is None:
                data = incoming.get("bytes") or b""
            size = len(data) if isinstance(data, bytes) else len(data.encode())
            if size > limit:
                details = CloseDetails(1009, f"message of {size} bytes over the {limit} limit")
                await peer.close(details.code, details.reason)
                return
            if not await _guard(app, handler, peer, "message", peer, Message(data)):
                details = CloseDetails(1011)
                return
            if peer.closed:  # the hook closed it
                details = CloseDetails(1000)
                return
    finally:
        hub.remove(peer)
        await _guard(app, handler, peer, "close", peer, details)


def _accept(settings: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "websocket.accept"}
    headers = [(str(k).lower(), str(v)) for k, v in (settings.get("headers") or {}).items()]
    for name, value in headers:
        if name == "sec-websocket-protocol":
            message["subprotocol"] = value  # the server sends it as the chosen subprotocol
    extra = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in headers
        if k != "sec-websocket-protocol"
    ]
    if extra:
        message["headers"] = extra
    return message


async def _guard(
    app: NitroApp, handler: WebSocketHandler, peer: Peer, hook: str, *args: Any
) -> bool:
    """Run a hook; if it raises, close the peer and tell the error hooks. True if it ran."""
    try:
        await handler.run_hook(hook, *args)
        return True
    except Exception as error:
        if hook != "close":
            invalid = isinstance(error, InvalidMessageError)
            await peer.close(
                1007 if invalid else 1011, "Invalid message" if invalid else "Internal Error"
            )
        try:
            await handler.run_hook("error", peer, error)
        except Exception as again:
            await app.capture_error(again, peer.request)
        await app.capture_error(error, peer.request)
        return False


async def deny(scope: Scope, send: Send, response: Response) -> None:
    """Refuse an upgrade with `response` where the server supports it (the ASGI
    ``websocket.http.response`` extension), else close before accepting (a 403)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = response.body if type(response) is Response else b""
    headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
    await send(
        {
            "type": "websocket.http.response.start",
            "status": response.status_code,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
