"""HTTP Basic authentication (RFC 7617): h3's `basicAuth` and `requireBasicAuth`.

Credentials are compared in constant time (`hmac.compare_digest` on the UTF-8
bytes), and both the user name and the password are always compared, so the
answer's timing tells nothing about which one was wrong. A missing, malformed or
wrong credential is a 401 with ``WWW-Authenticate: Basic realm="..."``; error
responses carry ``Cache-Control: no-store`` and a response cache never stores them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import HTTPError
from ..handlers import Middleware, maybe_await

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["basic_auth", "require_basic_auth"]

Validate = Callable[[str, str], Any]  # returns a bool, or an awaitable of one


async def require_basic_auth(
    event: Event,
    *,
    username: str | None = None,
    password: str | None = None,
    realm: str = "nitro",
    validate: Validate | None = None,
) -> bool:
    """Require HTTP Basic credentials; raise a 401 `HTTPError` unless they match.

    Example::

        @define_handler
        async def handler(event):
            await require_basic_auth(event, username="admin", password=ADMIN_PASSWORD)
            return f"Hello {event.context.basic_auth['username']}"

    Give `password` (and usually `username`) to compare with, and/or `validate`, a
    function ``(username, password) -> bool`` (sync or async) for anything else,
    such as a user table. On success ``event.context.basic_auth`` is
    ``{"username": ..., "realm": ...}`` and the result is True.
    """
    if password is None and validate is None:
        raise ValueError("[nitro:basic-auth] give a password or a validate function")
    challenge = _challenge(realm)
    credentials = _credentials(event.headers.get("authorization"))
    if credentials is None:
        raise _unauthorized(challenge)
    given_user, given_password = credentials
    matches = True
    # Both compared, always: `and` would skip the second when the first differs.
    if username is not None:
        matches &= hmac.compare_digest(given_user.encode(), username.encode())
    if password is not None:
        matches &= hmac.compare_digest(given_password.encode(), password.encode())
    if matches and validate is not None:
        matches = bool(await maybe_await(validate(given_user, given_password)))
    if not matches:
        raise _unauthorized(challenge)
    event.context.basic_auth = {"username": given_user, "realm": realm}
    return True


def basic_auth(
    *,
    username: str | None = None,
    password: str | None = None,
    realm: str = "nitro",
    validate: Validate | None = None,
) -> Middleware:
    """Middleware that requires HTTP Basic credentials (options as `require_basic_auth`).

    Example (``middleware/01.auth.py``, or a folder's ``_middleware.py``)::

        from nitro import basic_auth, use_runtime_config

        handler = basic_auth(username="admin", password=use_runtime_config().admin_password)
    """
    if password is None and validate is None:
        raise ValueError("[nitro:basic-auth] give a password or a validate function")
    _challenge(realm)  # a bad realm fails here, at start-up

    async def require(event: Event) -> Any:
        await require_basic_auth(
            event, username=username, password=password, realm=realm, validate=validate
        )
        return None

    require.__name__ = "basic_auth"
    return Middleware(require)


def _credentials(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from an ``Authorization: Basic ...`` value, or None when
    it is missing or malformed."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # bad base64 or not UTF-8 (UnicodeDecodeError)
        return None
    user, colon, secret = decoded.partition(":")  # a password may hold ":", a user name not
    if not colon or not user:
        return None
    return user, secret


def _challenge(realm: str) -> str:
    if not isinstance(realm, str) or any(ord(c) < 32 or ord(c) > 126 for c in realm):
        raise ValueError(f"[nitro:basic-auth] realm must be printable ASCII, got {realm!r}")
    quoted = realm.replace("\\", "\\\\").replace('"', '\\"')
    return f'Basic realm="{quoted}"'


def _unauthorized(challenge: str) -> HTTPError:
    return HTTPError(401, "Authentication required", headers={"www-authenticate": challenge})
