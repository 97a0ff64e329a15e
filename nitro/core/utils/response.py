"""Shaping the response: status, headers, redirects, HTML and streams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..response import HTML_TYPE, PlainResponse, make_response, stream_response

if TYPE_CHECKING:
    from starlette.responses import Response

    from ..event import Event

__all__ = [
    "append_response_header",
    "html",
    "redirect",
    "send_stream",
    "set_response_header",
    "set_response_headers",
    "set_response_status",
]


def set_response_status(event: Event, status: int, text: str | None = None) -> None:
    """Stage the status of the response the handler's return value becomes.

    Example::

        set_response_status(event, 201)
        return {"id": new_id}
    """
    event.res.status = status
    if text is not None:
        event.res.status_text = text


def set_response_header(event: Event, name: str, value: str) -> None:
    """Set (replace) a response header."""
    event.res.headers[name] = str(value)


def set_response_headers(event: Event, headers: Mapping[str, str]) -> None:
    """Set (replace) several response headers."""
    target = event.res.headers
    for name, value in headers.items():
        target[name] = str(value)


def append_response_header(event: Event, name: str, value: str) -> None:
    """Add a response header, keeping earlier values of the same name."""
    event.res.headers.append(name, str(value))


# Characters a Location keeps as they are; others are percent-encoded (as Starlette does).
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"


def redirect(location: str, status: int = 302) -> PlainResponse:
    """A redirect response to return from a handler.

    Example::

        return redirect("/login", 303)
    """
    response = make_response(b"", status, None)
    response.raw_headers.insert(0, (b"location", quote(location, safe=_LOCATION_SAFE).encode()))
    return response


def html(markup: str, /, **values: Any) -> PlainResponse:
    """An HTML response; ``{name}`` placeholders are filled with HTML-escaped `values`.

    Example::

        return html("<h1>Hello {name}</h1>", name=user_input)  # user_input is escaped
    """
    if values:
        from html import escape  # not at import: it loads html.entities, a big table

        markup = markup.format_map({k: escape(str(v), quote=True) for k, v in values.items()})
    return make_response(markup.encode(), 200, HTML_TYPE)


def send_stream(event: Event, stream: Any, *, media_type: str | None = None) -> Response:
    """A streamed response from a sync or async iterator of str/bytes chunks.

    Example::

        async def chunks():
            for i in range(3):
                yield f"line {i}\\n"

        return send_stream(event, chunks(), media_type="text/plain")
    """
    staged = event._res
    return stream_response(event, stream, staged.status if staged else 200, media_type)
