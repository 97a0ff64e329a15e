"""A WebSocket connection's life: the upgrade request routed like any request, then
accepted or refused, then the peer's messages until it closes.

Faults stay with their peer: a hook that raises is reported and closes it (1011,
or 1007 for a message that is not the JSON or text it was read as); a message
over the size limit closes it with 1009.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import RequestScope
from .error_response import respond_to_error
from .errors import HTTPError
from .event import Event
from .paths import canonical_path, strip_base
from .websocket import (
    UPGRADE_KEY,
    CloseDetails,
    InvalidMessageError,
    Message,
    Peer,
    WebSocketHandler,
)

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from .app import NitroApp
    from .response import AnyResponse

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "check_websocket_route",
    "deny",
    "guard_hook",
    "run_upgrade",
    "serve_websocket",
]

DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024


async def serve_websocket(app: NitroApp, scope: Scope, receive: Receive, send: Send) -> None:
    """One WebSocket connection: route the upgrade request like any request, refuse it
    (HTTP error, redirect, middleware answer) or accept it and run the peer."""
    event = Event(app, {**scope, "method": "GET"}, receive, send)
    async with RequestScope(event):
        try:
            if not check_websocket_route(app, event) and app.websocket_fallback is not None:
                await app.websocket_fallback(scope, receive, send)  # e.g. Vite's hot reload
                return
            response = await app.dispatch(event)
            handler = event.scope.get(UPGRADE_KEY)
            if handler is None:
                if response is None:  # server.py's app took the connection
                    return
                await deny(scope, send, response)
                return
            settings = await run_upgrade(handler, event)
            await app.hub.start()  # Redis unreachable: refused with a 503, not accepted
        except Exception as error:
            await deny(scope, send, await respond_to_error(app, error, event))
            return
        options = app.websocket_options
        limit = (
            handler.max_message_size or options.get("max_message_size") or DEFAULT_MAX_MESSAGE_SIZE
        )
        await _run_peer(app, handler, event, settings, receive, send, int(limit))


def check_websocket_route(app: NitroApp, event: Event) -> bool:
    """An upgrade request may reach a WebSocket route or server.py's app, never run an
    HTTP handler: refuse it before routing when the path's route is not a WebSocket one.
    False when nothing takes it but the app's `websocket_fallback`."""
    pathname = canonical_path(event.scope)
    if app.base_url != "/":
        pathname = strip_base(pathname, app.base_url)
    match = app.router.match("GET", pathname)
    if match is None:
        redirected = app.route_rules and "redirect" in app.route_rules.resolve("GET", pathname)
        if app.server_app is None and not redirected:
            if app.websocket_fallback is not None:
                return False
            raise HTTPError(404, f"No WebSocket endpoint at {pathname}")
        return True
    route = match[0]
    if route.handler is None:
        route.load()
    if not isinstance(route.handler, WebSocketHandler):
        raise HTTPError(404, f"No WebSocket endpoint at {pathname} (it is an HTTP route)")
    return True


async def run_upgrade(handler: WebSocketHandler, event: Event) -> dict[str, Any]:
    settings = await handler.run_hook(event.app, "upgrade", event)
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
    details = CloseDetails(1005)
    try:
        if not await guard_hook(app, handler, peer, "open", peer):
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
            if not await guard_hook(app, handler, peer, "message", peer, Message(data)):
                details = CloseDetails(1011)
                return
            if peer.closed:  # the hook closed it
                details = CloseDetails(1000)
                return
    finally:
        hub.remove(peer)
        await guard_hook(app, handler, peer, "close", peer, details)


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


async def guard_hook(
    app: NitroApp, handler: WebSocketHandler, peer: Peer, hook: str, *args: Any
) -> bool:
    """Run a hook; if it raises, close the peer and tell the error hooks. True if it ran."""
    try:
        await handler.run_hook(app, hook, *args)
        return True
    except Exception as error:
        if hook != "close":
            invalid = isinstance(error, InvalidMessageError)
            await peer.close(
                1007 if invalid else 1011, "Invalid message" if invalid else "Internal Error"
            )
        try:
            await handler.run_hook(app, "error", peer, error)
        except Exception as again:
            await app.capture_error(again, peer.request)
        await app.capture_error(error, peer.request)
        return False


async def deny(scope: Scope, send: Send, response: AnyResponse) -> None:
    """Refuse an upgrade with `response` where the server supports it (the ASGI
    ``websocket.http.response`` extension), else close before accepting (a 403)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = getattr(response, "body", b"")  # a stream or a file is not sent here
    headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
    await send(
        {
            "type": "websocket.http.response.start",
            "status": response.status_code,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
