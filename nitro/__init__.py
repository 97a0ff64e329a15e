"""nitro: file-routed Python servers that run on any platform.

Everything a route, middleware or plugin needs is importable from here::

    from nitro import define_handler, read_body, HTTPError

`define_nitro_config` (for `nitro.config.py`) is here too; the rest of the
configuration helpers live in `nitro.config`, the test client in `nitro.testing`.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config.options import define_nitro_config as define_nitro_config
    from .core.app import NitroApp as NitroApp
    from .core.cache import define_cached_function as define_cached_function
    from .core.cache_handler import define_cached_handler as define_cached_handler
    from .core.context import use_event as use_event
    from .core.context import use_nitro_app as use_nitro_app
    from .core.database import DatabaseError as DatabaseError
    from .core.database import use_database as use_database
    from .core.errors import HTTPError as HTTPError
    from .core.errors import create_error as create_error
    from .core.errors import is_error as is_error
    from .core.event import Event as Event
    from .core.handlers import define_handler as define_handler
    from .core.handlers import define_middleware as define_middleware
    from .core.handlers import define_plugin as define_plugin
    from .core.route_meta import define_route_meta as define_route_meta
    from .core.runtime_config import use_runtime_config as use_runtime_config
    from .core.storage import Storage as Storage
    from .core.storage import StorageError as StorageError
    from .core.storage import use_storage as use_storage
    from .core.tasks import define_task as define_task
    from .core.tasks import run_task as run_task
    from .core.utils.auth import basic_auth as basic_auth
    from .core.utils.auth import require_basic_auth as require_basic_auth
    from .core.utils.body import read_body as read_body
    from .core.utils.body import read_form_data as read_form_data
    from .core.utils.body import read_raw_body as read_raw_body
    from .core.utils.body import read_validated_body as read_validated_body
    from .core.utils.cache_headers import handle_cache_headers as handle_cache_headers
    from .core.utils.cookies import delete_cookie as delete_cookie
    from .core.utils.cookies import get_cookie as get_cookie
    from .core.utils.cookies import parse_cookies as parse_cookies
    from .core.utils.cookies import set_cookie as set_cookie
    from .core.utils.cors import handle_cors as handle_cors
    from .core.utils.dispose import on_dispose as on_dispose
    from .core.utils.guards import assert_method as assert_method
    from .core.utils.guards import is_method as is_method
    from .core.utils.guards import require_content_type as require_content_type
    from .core.utils.proxy import proxy_request as proxy_request
    from .core.utils.replies import no_content as no_content
    from .core.utils.replies import redirect_back as redirect_back
    from .core.utils.request import get_query as get_query
    from .core.utils.request import get_request_header as get_request_header
    from .core.utils.request import get_request_headers as get_request_headers
    from .core.utils.request import get_request_host as get_request_host
    from .core.utils.request import get_request_ip as get_request_ip
    from .core.utils.request import get_request_protocol as get_request_protocol
    from .core.utils.request import get_request_url as get_request_url
    from .core.utils.request import get_router_param as get_router_param
    from .core.utils.request import get_router_params as get_router_params
    from .core.utils.request import get_validated_query as get_validated_query
    from .core.utils.response import append_response_header as append_response_header
    from .core.utils.response import html as html
    from .core.utils.response import redirect as redirect
    from .core.utils.response import send_stream as send_stream
    from .core.utils.response import set_response_header as set_response_header
    from .core.utils.response import set_response_headers as set_response_headers
    from .core.utils.response import set_response_status as set_response_status
    from .core.utils.session import clear_session as clear_session
    from .core.utils.session import get_session as get_session
    from .core.utils.session import update_session as update_session
    from .core.utils.session import use_session as use_session
    from .core.utils.sse import create_event_stream as create_event_stream
    from .core.utils.timing import set_server_timing as set_server_timing
    from .core.utils.timing import with_server_timing as with_server_timing
    from .core.websocket import define_websocket_handler as define_websocket_handler

# Each public name and the module it comes from, imported when first used: a cold
# start (a serverless function's, say) loads only what the app touches.
_EXPORTED_FROM = {
    "config.options": ("define_nitro_config",),
    "core.app": ("NitroApp",),
    "core.cache": ("define_cached_function",),
    "core.cache_handler": ("define_cached_handler",),
    "core.database": ("DatabaseError", "use_database"),
    "core.errors": ("HTTPError", "create_error", "is_error"),
    "core.context": ("use_event", "use_nitro_app"),
    "core.event": ("Event",),
    "core.handlers": ("define_handler", "define_middleware", "define_plugin"),
    "core.route_meta": ("define_route_meta",),
    "core.runtime_config": ("use_runtime_config",),
    "core.storage": ("Storage", "StorageError", "use_storage"),
    "core.tasks": ("define_task", "run_task"),
    "core.utils.auth": ("basic_auth", "require_basic_auth"),
    "core.utils.body": ("read_body", "read_form_data", "read_raw_body", "read_validated_body"),
    "core.utils.cache_headers": ("handle_cache_headers",),
    "core.utils.cookies": ("delete_cookie", "get_cookie", "parse_cookies", "set_cookie"),
    "core.utils.cors": ("handle_cors",),
    "core.utils.dispose": ("on_dispose",),
    "core.utils.guards": ("assert_method", "is_method", "require_content_type"),
    "core.utils.proxy": ("proxy_request",),
    "core.utils.replies": ("no_content", "redirect_back"),
    "core.utils.request": (
        "get_query",
        "get_request_header",
        "get_request_headers",
        "get_request_host",
        "get_request_ip",
        "get_request_protocol",
        "get_request_url",
        "get_router_param",
        "get_router_params",
        "get_validated_query",
    ),
    "core.utils.response": (
        "append_response_header",
        "html",
        "redirect",
        "send_stream",
        "set_response_header",
        "set_response_headers",
        "set_response_status",
    ),
    "core.utils.session": ("clear_session", "get_session", "update_session", "use_session"),
    "core.utils.sse": ("create_event_stream",),
    "core.utils.timing": ("set_server_timing", "with_server_timing"),
    "core.websocket": ("define_websocket_handler",),
}
_MODULE_OF = {name: module for module, names in _EXPORTED_FROM.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'nitro' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain global
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


__all__ = sorted([*_MODULE_OF, "__version__"])
