"""Reading the request: query, route params, headers, client address, URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from starlette.datastructures import URL

    from ..event import Event

__all__ = [
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
    "parse_query",
]


def parse_query(raw: bytes) -> dict[str, str | list[str]]:
    """Parse ``a=1&b=2&b=3`` (query string or urlencoded body); repeated keys become lists."""
    out: dict[str, str | list[str]] = {}
    if not raw:
        return out
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
        current = out.get(key)
        if current is None:
            out[key] = value
        elif isinstance(current, list):
            current.append(value)
        else:
            out[key] = [current, value]
    return out


def get_query(event: Event) -> dict[str, str | list[str]]:
    """Query parameters as a dict; a repeated key maps to a list.

    Example::

        get_query(event)  # "?tag=a&tag=b&page=2" -> {"tag": ["a", "b"], "page": "2"}
    """
    return event.query()


def get_validated_query(event: Event, validator: Any) -> Any:
    """The query validated by a pydantic model or a callable (400 with the issues otherwise).

    Example::

        class Page(BaseModel):
            page: int = 1

        page = get_validated_query(event, Page).page
    """
    from .body import validate

    return validate(validator, event.query(), "query")


def get_router_params(event: Event) -> dict[str, str]:
    """The matched route's params: ``/users/:id`` -> ``{"id": "42"}``."""
    return event.params


def get_router_param(event: Event, name: str) -> str | None:
    """One route param, or None."""
    return event.params.get(name)


def get_request_header(event: Event, name: str) -> str | None:
    """A request header by case-insensitive name, or None."""
    return event.headers.get(name)


def get_request_headers(event: Event) -> dict[str, str]:
    """All request headers with lower-case names (repeated ones joined by ", ")."""
    out: dict[str, str] = {}
    for key, value in event.headers.items():
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def get_request_ip(event: Event, *, x_forwarded_for: bool = False) -> str | None:
    """The client's IP: the socket peer, or the first ``X-Forwarded-For`` entry when asked.

    Only trust `x_forwarded_for` behind a proxy that sets it: clients can forge it.
    """
    if x_forwarded_for:
        forwarded = event.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",", 1)[0].strip()
    client = event.scope.get("client")
    return client[0] if client else None


def get_request_protocol(event: Event, *, x_forwarded_proto: bool = False) -> str:
    """``http`` or ``https``."""
    if x_forwarded_proto:
        proto = event.headers.get("x-forwarded-proto")
        if proto:
            return proto.split(",", 1)[0].strip().lower()
    return "https" if event.scope.get("scheme") in ("https", "wss") else "http"


def get_request_host(event: Event, *, x_forwarded_host: bool = False) -> str:
    """The request's host (with port when not default), or "" when there is none."""
    if x_forwarded_host:
        host = event.headers.get("x-forwarded-host")
        if host:
            return host.split(",", 1)[0].strip()
    return event.headers.get("host", "")


def get_request_url(
    event: Event, *, x_forwarded_host: bool = False, x_forwarded_proto: bool = False
) -> URL:
    """The full request URL; forwarded host and protocol only when asked for."""
    url = event.url
    if x_forwarded_host or x_forwarded_proto:
        host = get_request_host(event, x_forwarded_host=x_forwarded_host)
        scheme = get_request_protocol(event, x_forwarded_proto=x_forwarded_proto)
        url = url.replace(scheme=scheme, netloc=host or url.netloc)
    return url
