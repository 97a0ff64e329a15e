"""What an error becomes: the app's `error` hooks and `error_handler`, else the
default error response: JSON, or a small HTML page for browsers.

Production never reveals an unexpected exception: the body is
``{"error": true, "status": 500, "statusText": "Internal Server Error", "unhandled": true}``.
In dev the same JSON adds `message` and `stack` (a list of lines), and the HTML
page shows the traceback.
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

from .errors import HTTPError
from .response import HTML_TYPE, JSON_TYPE, encode_json, make_response, to_response

if TYPE_CHECKING:
    from starlette.types import Scope

    from .app import NitroApp
    from .event import Event
    from .response import AnyResponse, PlainResponse

__all__ = ["error_body", "render_error", "respond_to_error"]

logger = logging.getLogger("nitro")


async def respond_to_error(app: NitroApp, error: Exception, event: Event) -> AnyResponse:
    """Report `error` (log, `error` hooks), then answer with the app's `error_handler`
    when it returns something, else with the default error response."""
    await app.capture_error(error, event)
    if app.error_handler is not None:
        try:
            result = await app.run_user_code(app.error_handler, error, event)
            if result is not None:
                event.res.reset()
                event.res.status = error.status if isinstance(error, HTTPError) else 500
                return await to_response(event, result)
        except Exception:
            logger.exception("[nitro] error_handler failed; sending the default error response")
    return render_error(error, event.scope, dev=app.dev)


def error_body(error: BaseException, *, dev: bool) -> dict[str, object]:
    """The JSON body for `error`; unexpected errors reveal nothing outside dev."""
    if isinstance(error, HTTPError):
        body = error.to_json()
        if dev and error.status >= 500:
            body["stack"] = _stack(error)
        return body
    body = {"error": True, "status": 500, "statusText": "Internal Server Error", "unhandled": True}
    if dev:
        body["message"] = f"{type(error).__name__}: {error}"
        body["stack"] = _stack(error)
    return body


def render_error(error: BaseException, scope: Scope | None, *, dev: bool) -> PlainResponse:
    """An error response for the request in `scope`: HTML when it asks for `text/html`, else JSON."""
    body = error_body(error, dev=dev)
    status = int(body["status"])  # type: ignore[call-overload]
    headers = error.headers if isinstance(error, HTTPError) else {}
    if scope is not None and _wants_html(scope):
        response = make_response(_page(body, dev=dev).encode(), status, HTML_TYPE)
    else:
        response = make_response(encode_json(body), status, JSON_TYPE)
    for name, value in headers.items():
        response.raw_headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
    response.raw_headers.append((b"cache-control", b"no-store"))
    return response


def _wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


def _stack(error: BaseException) -> list[str]:
    lines: list[str] = []
    for chunk in traceback.format_exception(error):
        lines.extend(line for line in chunk.rstrip("\n").split("\n") if line.strip())
    return lines


def _page(body: dict[str, object], *, dev: bool) -> str:
    import html  # only error pages need it (it loads html.entities, a big table)

    status = body["status"]
    title = f"{status} {body.get('statusText', '')}".strip()
    message = str(body.get("message") or "")
    stack = ""
    if dev and "stack" in body:
        stack = "<pre>" + html.escape("\n".join(body["stack"])) + "</pre>"  # type: ignore[arg-type]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title><meta name="viewport" content="width=device-width">'
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:4rem auto;padding:0 1rem;"
        "color:#1f2328}h1{font-size:4rem;margin:0}h2{font-weight:400;margin-top:0}pre{background:#f6f8fa;"
        "padding:1rem;overflow:auto;font-size:13px;border-radius:6px}</style></head><body>"
        f"<h1>{html.escape(str(status))}</h1><h2>{html.escape(str(body.get('statusText', '')))}</h2>"
        f"<p>{html.escape(message) if message != body.get('statusText') else ''}</p>{stack}"
        "</body></html>"
    )
