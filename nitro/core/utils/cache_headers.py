"""Conditional requests in a handler: h3's `handleCacheHeaders`.

The handler states what it knows about its answer (an ETag, a modification time,
how long it may be cached); `handle_cache_headers` stages `ETag`, `Last-Modified`
and `Cache-Control` and says whether the client's copy is still fresh, in which
case the handler answers ``no_content(304)`` without building the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["handle_cache_headers"]

_PRIVATE = re.compile(r"^\s*(private|no-store)\s*(=|$)", re.IGNORECASE)
_PUBLIC = re.compile(r"^\s*public\s*$", re.IGNORECASE)


def handle_cache_headers(
    event: Event,
    *,
    modified_time: datetime | float | None = None,
    max_age: int | None = None,
    etag: str | None = None,
    cache_controls: Iterable[str] = (),
) -> bool:
    """Stage `Cache-Control`, `ETag` and `Last-Modified`; True when the request's
    `If-None-Match` / `If-Modified-Since` show the client's copy is fresh.

    Example::

        from nitro import define_handler, handle_cache_headers, no_content

        @define_handler
        async def handler(event):
            post = await load_post(event.params["slug"])
            if handle_cache_headers(event, etag=post.hash, modified_time=post.updated, max_age=60):
                return no_content(304)
            return post.body

    `modified_time` is a datetime (a naive one is local time, as Python reads it)
    or epoch seconds; `etag` is quoted when it is not already (``W/"..."`` stays
    weak). `Cache-Control` is ``public`` plus ``max-age=N, s-maxage=N`` for
    `max_age`, and `cache_controls`; a ``private`` or ``no-store`` among them drops
    ``public`` and ``s-maxage``.
    As RFC 9110 says, `If-None-Match` wins over `If-Modified-Since`, and only GET
    and HEAD requests can be fresh.
    """
    directives = [d.strip() for d in cache_controls if d.strip()]
    private = any(_PRIVATE.match(part) for d in directives for part in d.split(","))
    if not private and not any(_PUBLIC.match(part) for d in directives for part in d.split(",")):
        directives.insert(0, "public")
    if max_age is not None:
        seconds = int(max_age)
        directives.append(f"max-age={seconds}")
        if not private:
            directives.append(f"s-maxage={seconds}")
    headers = event.res.headers
    headers["cache-control"] = ", ".join(directives)
    tag = _quoted(etag) if etag else None
    if tag is not None:
        headers["etag"] = tag
    modified: int | None = None
    if modified_time is not None:
        from email.utils import formatdate  # here: most requests never format a date

        modified = int(_epoch(modified_time))
        headers["last-modified"] = formatdate(modified, usegmt=True)
    if event.method not in ("GET", "HEAD"):
        return False
    if_none_match = (event.headers.get("if-none-match") or "").strip()
    if if_none_match:
        return tag is not None and _etag_matches(if_none_match, tag)
    since = event.headers.get("if-modified-since")
    if since and modified is not None:
        from email.utils import parsedate_to_datetime

        try:
            client = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if client.tzinfo is None:  # "-0000": an HTTP date is GMT all the same
            client = client.replace(tzinfo=timezone.utc)  # noqa: UP017
        try:
            return modified <= int(client.timestamp())
        except (OverflowError, OSError, ValueError):
            return False
    return False


def _quoted(etag: str) -> str:
    if etag.startswith('"') or etag.startswith('W/"'):
        return etag
    return f'"{etag}"'


def _etag_matches(header: str, tag: str) -> bool:
    # Weak comparison (RFC 9110 13.1.2): W/"x" and "x" match.
    wanted = tag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _epoch(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)
