"""A request's id: the platform's where it gives one, else a new one.

| platform | id |
|---|---|
| AWS Lambda | the invocation's ``aws_request_id`` (the context the handler gets) |
| Azure Functions | the invocation id (``azure_functions.invocation_id`` in the scope) |
| Google Cloud Functions | the ``function-execution-id`` header |
| Vercel | the ``x-vercel-id`` header |
| elsewhere | a new UUID4 |

The header a platform sets is named by its adapter in ``app.state["request_id_header"]``
(a header anyone may send is only read where the platform sets it). The id is worked
out once per request, when something asks (``event.context.request_id``, JSON logs),
and kept in the scope, so the logs, the ``x-request-id`` response header and the
handler see the same one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import Scope

    from ..app import NitroApp

__all__ = ["HEADER_STATE", "SCOPE_KEY", "new_request_id", "platform_request_id", "request_id"]

SCOPE_KEY = "nitro.request_id"
HEADER_STATE = "request_id_header"


def request_id(scope: Scope, app: NitroApp) -> str:
    """The request's id (worked out on first use, then kept in `scope`)."""
    found: str | None = scope.get(SCOPE_KEY)
    if found is None:
        found = platform_request_id(scope, app) or new_request_id()
        scope[SCOPE_KEY] = found
    return found


def platform_request_id(scope: Scope, app: NitroApp) -> str | None:
    """The id the platform gave this request, if any (see the module's table)."""
    context: Any = scope.get("aws.context")
    if context is not None:
        found = getattr(context, "aws_request_id", None)
        if found:
            return str(found)
    invocation = scope.get("azure_functions.invocation_id")
    if invocation:
        return str(invocation)
    header: bytes | None = app.state.get(HEADER_STATE)
    if header is not None:
        for name, value in scope.get("headers", ()):
            if name == header and value:
                return str(value.decode("latin-1"))
    return None


def new_request_id() -> str:
    """A random UUID4, as text (without the `uuid` module, which takes milliseconds
    to import on a cold start)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
