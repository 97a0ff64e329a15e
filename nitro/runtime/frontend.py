"""The Vite front-end at run time: a build's SPA fallback, and Vite's dev server
behind `nitro dev`.

Both answer only what nothing else takes (`NitroApp.fallback`): routes, API
routes, middleware answers and public files always come first.

- In a build, a browser's page request (GET or HEAD, outside ``/api/``, whose
  ``Accept`` names ``text/html``) that no route or file answers gets the
  front-end's ``index.html`` with status 200, so a deep link (``/some/client/route``)
  opens the app and its client-side router takes over. Anything else keeps the 404.
- In `nitro dev`, every such request (outside ``/api/``) and every WebSocket upgrade
  no route takes (Vite's hot reload) is proxied to Vite's dev server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..core.errors import HTTPError
from ..core.utils.static import serve_public

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from ..core.app import NitroApp
    from ..core.event import Event
    from ..core.response import AnyResponse

__all__ = ["VITE_URL_ENV", "is_page_request", "mount_spa_fallback", "mount_vite_dev_server"]

VITE_URL_ENV = "NITRO_VITE_URL"
"""Where `nitro dev` started Vite's dev server (``http://127.0.0.1:PORT``), for its
reloaded worker process."""

logger = logging.getLogger("nitro")


def _is_api(pathname: str) -> bool:
    return pathname == "/api" or pathname.startswith("/api/")


def is_page_request(event: Event) -> bool:
    """A browser asking for a page: GET or HEAD, outside ``/api/``, with an ``Accept``
    that names ``text/html`` (``*/*`` alone is not enough: scripts, images and API
    clients send that, and they should get a 404 for what does not exist)."""
    return (
        event.method in ("GET", "HEAD")
        and not _is_api(event.pathname)
        and "text/html" in event.headers.get("accept", "")
    )


def mount_spa_fallback(app: NitroApp, document: str) -> None:
    """Serve the public asset `document` (``/index.html``) to page requests nothing
    else answers.

    Example::

        mount_spa_fallback(app, "/index.html")
    """

    async def fallback(event: Event) -> AnyResponse | None:
        if event.scope["type"] != "http" or not is_page_request(event):
            return None
        found = app.public.lookup(document) if app.public is not None else None
        if found is None:
            return None
        return serve_public(event, found)

    app.fallback = fallback


def mount_vite_dev_server(app: NitroApp, url: str) -> None:
    """Proxy what nothing else answers to Vite's dev server at `url`, HTTP and WebSocket.

    Vite's 404 becomes nitro's (JSON or the HTML error page, as anywhere else), and
    a Vite that stopped is a 502 saying so, never a hang.

    Example::

        mount_vite_dev_server(app, "http://127.0.0.1:5173")
    """
    from ..core.utils.proxy import proxy_request

    async def fallback(event: Event) -> AnyResponse | None:
        if event.scope["type"] != "http" or _is_api(event.pathname):
            return None
        try:
            response = await proxy_request(event, url + event.path, timeout=60.0)
        except HTTPError as error:
            if error.status in (502, 504):
                raise _vite_unreachable(url, error.status) from None
            raise
        if response.status_code == 404:
            await response.body_iterator.aclose()  # type: ignore[attr-defined]  # an async generator
            return None
        return response

    app.fallback = fallback
    app.websocket_fallback = _websocket_proxy(url.replace("http", "ws", 1))


def _vite_unreachable(url: str, status: int) -> HTTPError:
    what = "did not answer in time" if status == 504 else "is not running"
    return HTTPError(
        status,
        f"[nitro:vite] Vite's dev server ({url}) {what}: see its output above; "
        "restart `nitro dev` if it stopped",
    )


def _websocket_proxy(base: str) -> Any:
    """An ASGI app relaying a WebSocket to the same path on `base` (Vite's HMR socket)."""

    async def relay(scope: Scope, receive: Receive, send: Send) -> None:
        import anyio
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        if (await receive())["type"] != "websocket.connect":
            return
        target = base + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            upstream = await connect(
                target,
                subprotocols=scope.get("subprotocols") or None,
                origin=headers.get("origin"),
                open_timeout=10,
                max_size=None,
                compression=None,
            )
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            logger.warning("[nitro:vite] cannot reach Vite's dev server for %s: %s", target, exc)
            await send({"type": "websocket.close", "code": 1011})
            return
        accept: dict[str, Any] = {"type": "websocket.accept"}
        if upstream.subprotocol:
            accept["subprotocol"] = upstream.subprotocol
        await send(accept)

        async def downstream_to_upstream() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    await upstream.close(message.get("code") or 1000)
                    return
                data = message.get("text")
                await upstream.send(data if data is not None else message.get("bytes") or b"")

        async def upstream_to_downstream() -> None:
            try:
                async for data in upstream:
                    key = "text" if isinstance(data, str) else "bytes"
                    await send({"type": "websocket.send", key: data})
            except ConnectionClosed:
                pass
            code = upstream.close_code or 1000
            if code in (1005, 1006, 1015):  # reserved: never sent in a close frame
                code = 1000
            await send({"type": "websocket.close", "code": code})

        async with anyio.create_task_group() as group:

            async def run(step: Any) -> None:
                try:
                    await step()
                except (ConnectionClosed, OSError, RuntimeError):
                    pass  # either side went away: the other is closed below
                group.cancel_scope.cancel()

            group.start_soon(run, downstream_to_upstream)
            group.start_soon(run, upstream_to_downstream)
        await upstream.close()

    return relay
