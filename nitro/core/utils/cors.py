"""CORS: answer preflights and add the `Access-Control-*` headers (h3's `handleCors`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from ..response import PlainResponse, make_response

if TYPE_CHECKING:
    from ..event import Event

__all__ = [
    "CorsOptions",
    "cors_headers",
    "handle_cors",
    "is_preflight_request",
    "preflight_response",
]


class CorsOptions(TypedDict, total=False):
    """Options of `handle_cors` and the `cors` route rule (all optional).

    origin: "*" (default), "null", a list of origins or compiled regexes, or a function.
    methods / allow_headers / expose_headers: "*" (default) or a list; a preflight's
        "*" methods with credentials, and "*" allow_headers, name what it asks for.
    credentials: send `Access-Control-Allow-Credentials: true` (default False).
    max_age: preflight cache seconds (default: not sent).
    preflight_status: status of the preflight answer (default 204).
    """

    origin: str | Sequence[str | re.Pattern[str]] | Callable[[str], bool]
    methods: str | Sequence[str]
    allow_headers: str | Sequence[str]
    expose_headers: str | Sequence[str]
    credentials: bool
    max_age: int | None
    preflight_status: int


def is_preflight_request(event: Event) -> bool:
    """An ``OPTIONS`` request with `Origin` and `Access-Control-Request-Method`."""
    headers = event.headers
    return (
        event.method == "OPTIONS"
        and "origin" in headers
        and "access-control-request-method" in headers
    )


def handle_cors(event: Event, options: CorsOptions | None = None) -> PlainResponse | None:
    """Answer a CORS preflight, or stage CORS headers on the response.

    Returns the preflight response (return it) or None (continue).

    Example::

        @define_middleware
        def cors(event):
            return handle_cors(event, {"origin": ["https://app.example"], "credentials": True})
    """
    options = options or {}
    if is_preflight_request(event):
        return preflight_response(event, options)
    event.res.raw_headers.extend(cors_headers(event, options))
    return None


def preflight_response(event: Event, options: CorsOptions) -> PlainResponse:
    """The 204 answer to a preflight (without CORS headers when the origin is not allowed)."""
    origin = event.headers.get("origin")
    allowed = _allowed_origin(origin, options)
    response = make_response(b"", int(options.get("preflight_status", 204)), None)
    headers = response.raw_headers
    if allowed is not None:
        _origin_headers(headers, allowed, options)
        methods = options.get("methods", "*")
        if methods == "*" and options.get("credentials"):
            # With credentials a browser reads "*" as a method named "*" (Fetch spec,
            # CORS-preflight fetch), which would refuse a credentialed PUT: name the one asked.
            methods = event.headers.get("access-control-request-method") or "*"
        headers.append((b"access-control-allow-methods", _join(methods).encode("latin-1")))
        allow_headers = options.get("allow_headers", "*")
        if allow_headers == "*":
            value = event.headers.get("access-control-request-headers") or "*"
        else:
            value = _join(allow_headers)
        headers.append((b"access-control-allow-headers", value.encode("latin-1")))
        if options.get("max_age") is not None:
            headers.append((b"access-control-max-age", str(options["max_age"]).encode()))
    if origin is not None and not any(name == b"vary" for name, _ in headers):
        headers.append((b"vary", b"Origin"))
    return response


def cors_headers(event: Event, options: CorsOptions) -> list[tuple[bytes, bytes]]:
    """The CORS headers for a (non-preflight) response to this request."""
    allowed = _allowed_origin(event.headers.get("origin"), options)
    if allowed is None:
        return []
    headers: list[tuple[bytes, bytes]] = []
    _origin_headers(headers, allowed, options)
    expose = options.get("expose_headers", "*")
    if expose:
        headers.append((b"access-control-expose-headers", _join(expose).encode()))
    return headers


def _allowed_origin(origin: str | None, options: CorsOptions) -> str | None:
    """The `Access-Control-Allow-Origin` value for this request, or None when not allowed."""
    rule: Any = options.get("origin", "*")
    credentials = options.get("credentials", False)
    if rule == "*":
        # A wildcard cannot carry credentials; echo the origin instead (Fetch spec).
        return origin if credentials and origin else "*"
    if rule == "null":
        return "null"
    if origin is None:
        return None
    if callable(rule):
        return origin if rule(origin) else None
    for allowed in rule:
        if isinstance(allowed, re.Pattern):
            if allowed.fullmatch(origin):
                return origin
        elif allowed == origin:
            return origin
    return None


def _origin_headers(headers: list[tuple[bytes, bytes]], allowed: str, options: CorsOptions) -> None:
    headers.append((b"access-control-allow-origin", allowed.encode("latin-1")))
    if allowed != "*":
        headers.append((b"vary", b"Origin"))
    if options.get("credentials"):
        headers.append((b"access-control-allow-credentials", b"true"))


def _join(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else ", ".join(value)
