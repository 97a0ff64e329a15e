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
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import HTTPError
from .event import Event
from .handlers import EventHandler
from .response import encode_json

if TYPE_CHECKING:
    from starlette.types import Send

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
        hooks: dict[str, Callable[..., Any] | None],
        *,
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
        self.hooks = hooks
        self.max_message_size = max_message_size

    async def run_hook(self, app: NitroApp, name: str, *args: Any) -> Any:
        """Run hook `name` (sync or async, as `app` runs user code); None when not set."""
        hook = self.hooks.get(name)
        return None if hook is None else await app.run_user_code(hook, *args)

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
    hooks = {"open": open, "message": message, "close": close, "error": error, "upgrade": upgrade}
    return WebSocketHandler(hooks, http=http, max_message_size=max_message_size)
