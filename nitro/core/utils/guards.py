"""Checks a handler makes before it reads the request: its method and content type.

Each answers the request's fault with the fitting status: 405 with `Allow` for a
method, 400 for a missing `Content-Type`, 415 for one not accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import HTTPError

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["assert_method", "is_method", "require_content_type"]


def is_method(event: Event, methods: str | Iterable[str], allow_head: bool = True) -> bool:
    """True when the request's method is one of `methods` (any case).

    Example::

        if is_method(event, ["PUT", "PATCH"]):
            changes = await read_body(event)

    With `allow_head` (default) a HEAD request counts as GET, as the router serves
    it (h3 lets HEAD through for any method; nitro only where GET is allowed).
    """
    method = event.method.upper()
    wanted = _methods(methods)
    return method in wanted or (allow_head and method == "HEAD" and "GET" in wanted)


def assert_method(event: Event, methods: str | Iterable[str], allow_head: bool = True) -> None:
    """Raise 405 Method Not Allowed, with an `Allow` header, unless `is_method`.

    Example::

        assert_method(event, "POST")
    """
    if is_method(event, methods, allow_head):
        return
    allowed = list(_methods(methods))
    if allow_head and "GET" in allowed and "HEAD" not in allowed:
        allowed.append("HEAD")
    raise HTTPError(405, headers={"allow": ", ".join(allowed)})


def require_content_type(event: Event, types: str | Iterable[str]) -> str:
    """The request's media type when it is one of `types`; else 400 when the
    `Content-Type` header is missing, 415 Unsupported Media Type when it is another.

    Example::

        require_content_type(event, ["application/json", "application/x-www-form-urlencoded"])
        body = await read_body(event)

    Parameters such as ``; charset=utf-8`` are ignored; an entry may end in ``/*``
    (``"text/*"``). Returns the request's media type in lower case.
    """
    accepted = [t.strip().lower() for t in ([types] if isinstance(types, str) else types)]
    header = event.headers.get("content-type")
    expected = ", ".join(accepted)
    if not header or not header.strip():
        raise HTTPError(400, f"Missing Content-Type header (expected {expected})")
    media_type = header.split(";", 1)[0].strip().lower()
    for entry in accepted:
        if entry == media_type or entry == "*/*":
            return media_type
        if entry.endswith("/*") and media_type.startswith(entry[:-1]):
            return media_type
    raise HTTPError(415, f"Unsupported Content-Type {media_type[:100]!r} (expected {expected})")


def _methods(methods: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(methods, str):
        return (methods.upper(),)
    return tuple(dict.fromkeys(m.upper() for m in methods))
