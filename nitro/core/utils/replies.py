"""Small answers a handler returns: an empty one, and a redirect back.

Staged headers (`event.res`) apply to them as to any returned response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..response import PlainResponse, make_response
from .response import redirect

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["no_content", "redirect_back"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def no_content(status: int = 204) -> PlainResponse:
    """An empty response: 204 No Content, or another status such as 304.

    Example::

        @define_handler
        async def handler(event):
            await save(await read_body(event))
            return no_content()
    """
    return make_response(b"", status, None)


def redirect_back(
    event: Event, fallback: str = "/", *, status: int = 302, allow_query: bool = False
) -> PlainResponse:
    """A redirect to the page the request came from (its `Referer`), or to `fallback`.

    Example (after a form post)::

        @define_handler
        async def handler(event):
            await save(await read_body(event))
            return redirect_back(event, "/settings")

    Only a same-origin `Referer` is followed (anything else could send users to
    another site), and only its path unless `allow_query`. `fallback` must be a
    path you chose, never user input.
    """
    referer = event.headers.get("referer")
    if referer:
        try:
            parts = urlsplit(referer.strip())
            same = _origin(parts.scheme, parts.hostname, parts.port) == _own_origin(event)
        except ValueError:  # an invalid port or IPv6 address
            same = False
        if same and not parts.username and not parts.password:
            # "//evil.example/x" or "/\\evil.example" would leave the site: one slash.
            location = "/" + parts.path.lstrip("/\\")
            if allow_query and parts.query:
                location += "?" + parts.query
            return redirect(location, status)
    return redirect(fallback, status)


def _origin(scheme: str, host: str | None, port: int | None) -> tuple[str, str, int | None]:
    scheme = scheme.lower()
    return scheme, (host or "").lower().rstrip("."), port or _DEFAULT_PORTS.get(scheme)


def _own_origin(event: Event) -> tuple[str, str, int | None]:
    url = event.url
    return _origin(url.scheme, url.hostname, url.port)
