"""Who may sign in, and the session options every route uses."""

from __future__ import annotations

import hmac
import logging
import secrets

from nitro import use_runtime_config

# Demo accounts. A real app keeps password hashes (argon2, bcrypt) in its database.
USERS = {"demo": "demo-password"}

# Without NITRO_SESSION_PASSWORD, a random password: sessions end when the process does
# (and each serverless instance would have its own). Set it in production.
_FALLBACK = secrets.token_urlsafe(32)
_warned = False


def session_options() -> dict:
    """`use_session`'s options: sessions last 8 hours after their last change."""
    global _warned
    password = use_runtime_config().session_password
    if not password:
        if not _warned:
            logging.getLogger("nitro").warning(
                "NITRO_SESSION_PASSWORD is not set: sessions use a random password "
                "and end when this process does"
            )
            _warned = True
        password = _FALLBACK
    return {"password": password, "max_age": 8 * 60 * 60}


def check_password(user: str, password: str) -> bool:
    expected = USERS.get(user, "")
    # compared even for unknown users, so the timing does not tell which names exist
    return hmac.compare_digest(password.encode(), expected.encode()) and user in USERS
