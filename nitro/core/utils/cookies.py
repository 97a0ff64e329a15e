"""Cookies: read them from the request, stage `Set-Cookie` on the response."""

from __future__ import annotations

import email.utils
from datetime import datetime
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["delete_cookie", "get_cookie", "parse_cookies", "set_cookie"]

SameSite = Literal["lax", "strict", "none"]


def parse_cookies(event: Event) -> dict[str, str]:
    """All request cookies as a dict.

    Example::

        parse_cookies(event)  # {"session": "abc", "theme": "dark"}
    """
    header = event.headers.get("cookie")
    if not header:
        return {}
    from starlette.requests import cookie_parser  # imported here: it pulls in multipart parsing

    return cookie_parser(header)


def get_cookie(event: Event, name: str) -> str | None:
    """One request cookie, or None."""
    return parse_cookies(event).get(name)


def set_cookie(
    event: Event,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    expires: datetime | int | str | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    http_only: bool = False,
    same_site: SameSite | None = "lax",
    partitioned: bool = False,
) -> None:
    """Stage a `Set-Cookie` header on the response (several cookies may be set).

    Example::

        set_cookie(event, "session", token, http_only=True, secure=True, max_age=3600)
    """
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie[name] = value
    except Exception as exc:  # http.cookies.CookieError for illegal names
        raise ValueError(f"[nitro] invalid cookie name {name!r}: {exc}") from None
    morsel = cookie[name]
    if max_age is not None:
        morsel["max-age"] = max_age
    if expires is not None:
        if isinstance(expires, datetime):
            morsel["expires"] = email.utils.format_datetime(expires, usegmt=True)
        else:
            morsel["expires"] = expires
    if path is not None:
        morsel["path"] = path
    if domain is not None:
        morsel["domain"] = domain
    if secure:
        morsel["secure"] = True
    if http_only:
        morsel["httponly"] = True
    if same_site is not None:
        if same_site.lower() not in ("lax", "strict", "none"):
            raise ValueError("[nitro] same_site must be 'lax', 'strict' or 'none'")
        morsel["samesite"] = same_site
    header = cookie.output(header="").strip()
    if partitioned:
        header += "; Partitioned"
    event.res.raw_headers.append((b"set-cookie", header.encode("latin-1")))


def delete_cookie(
    event: Event, name: str, *, path: str | None = "/", domain: str | None = None
) -> None:
    """Stage a `Set-Cookie` that removes cookie `name` in the client."""
    set_cookie(event, name, "", max_age=0, expires=0, path=path, domain=domain)
