"""``GET /_openapi.json`` and ``GET /_docs``, added to an app that asks for them.

`load_app` installs them in `nitro dev`, and in production only with
``openapi={"production": True}``; otherwise nothing is added, so neither a cold
start nor a request pays for them. The document is made once per process: read
from the build's file when there is one, else made on its first request (which
imports every route module once, to read its handler's annotations).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..handlers import define_handler
from ..lazy_route import LazyRoute
from ..response import JSON_TYPE, make_response
from .docs_page import ASSETS, asset, docs_html, init_script
from .document import DocumentedRoute, build_document, project_info
from .operation import describe_handler

if TYPE_CHECKING:
    from ..app import NitroApp
    from ..event import Event
    from ..response import PlainResponse

__all__ = ["app_document", "install_openapi"]

logger = logging.getLogger("nitro")

_HTML_TYPE = b"text/html; charset=utf-8"
_JS_TYPE = b"text/javascript; charset=utf-8"


def app_document(app: NitroApp, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI document of `app`'s routes, importing each route module (once).

    Example::

        app = load_app("examples")
        document = app_document(app, {"title": "Notes"})
    """
    routes = []
    for route, _method, value in app.router.entries():
        if not isinstance(value, LazyRoute) or route.startswith("/_"):
            continue
        if value.entry.kind != "http":
            continue
        routes.append(DocumentedRoute(value.entry, _handler_info(value)))
    return build_document(
        routes,
        options=options,
        base_url=app.base_url,
        max_body_size=app.max_body_size,
        default_info=project_info(app.root),
    )


def install_openapi(
    app: NitroApp, options: Mapping[str, Any] | None = None, *, built: Path | None = None
) -> None:
    """Serve ``/_openapi.json`` and ``/_docs`` from `app`; `built` is the document a
    build wrote (`OPENAPI_FILE`), used when it exists."""
    base = app.base_url.rstrip("/")
    cached: list[bytes] = []

    async def openapi_json(event: Event) -> PlainResponse:
        if not cached:
            if built is not None and built.is_file():
                cached.append(built.read_bytes())
            else:
                cached.append(json.dumps(app_document(app, options)).encode())
        return make_response(cached[0], 200, JSON_TYPE, event)

    async def docs(event: Event) -> PlainResponse:
        return make_response(docs_html(base).encode(), 200, _HTML_TYPE, event)

    async def init(event: Event) -> PlainResponse:
        return make_response(init_script(base).encode(), 200, _JS_TYPE, event)

    app.add_route("/_openapi.json", define_handler(openapi_json), "get")
    app.add_route("/_docs", define_handler(docs), "get")
    app.add_route("/_docs/init.js", define_handler(init), "get")
    for name, content_type in ASSETS.items():
        app.add_route(f"/_docs/{name}", define_handler(_asset_handler(name, content_type)), "get")


def _asset_handler(name: str, content_type: bytes) -> Any:
    async def serve(event: Event) -> PlainResponse:
        response = make_response(asset(name), 200, content_type, event)
        response.raw_headers.append((b"cache-control", b"public, max-age=3600"))
        return response

    return serve


def _handler_info(route: LazyRoute) -> Any:
    if route.handler is None:
        try:
            route.load()
        except Exception as exc:  # listed all the same, without what its handler says
            logger.warning(
                "[nitro:openapi] %s: not loaded, documented without types: %s",
                route.entry.file,
                exc,
            )
            return None
    return describe_handler(route.handler)
