"""HTTP errors: `HTTPError` to raise, `create_error` for Nitro's call shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["HTTPError", "create_error", "is_error", "status_text_for"]


def status_text_for(status: int) -> str:
    """The standard reason phrase for `status` ("Not Found"), or "" when it has none."""
    from http import HTTPStatus  # here: building the enum is a cost most cold starts skip

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class HTTPError(Exception):
    """An error that becomes an HTTP response. Raise it from handlers, middleware or hooks.

    Example::

        from nitro import HTTPError, define_handler

        @define_handler
        async def handler(event):
            raise HTTPError(404, "No such user", data={"id": event.params["id"]})

    The JSON body is ``{"error": true, "status": 404, "statusText": "Not Found",
    "message": "No such user", "data": {...}}``; `headers` are sent with it.
    """

    unhandled: bool = False

    def __init__(
        self,
        status: int = 500,
        message: str | None = None,
        *,
        status_text: str | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        status = _sanitize_status(status)
        self.status = status
        self.status_text = _sanitize_status_text(status_text) or status_text_for(status)
        self.message = message if message is not None else self.status_text
        self.data = data
        self.headers: dict[str, str] = dict(headers) if headers else {}
        super().__init__(self.message)

    # Nitro's legacy names, so ported code keeps working.
    @property
    def status_code(self) -> int:
        return self.status

    @property
    def status_message(self) -> str:
        return self.status_text

    def to_json(self) -> dict[str, Any]:
        """The error's JSON body (without stack), as sent to clients."""
        body: dict[str, Any] = {
            "error": True,
            "status": self.status,
            "statusText": self.status_text,
            "message": self.message,
        }
        if self.data is not None:
            body["data"] = self.data
        return body

    def __repr__(self) -> str:
        return f"HTTPError({self.status}, {self.message!r})"


def create_error(
    input: str | Mapping[str, Any] | BaseException | None = None,
    /,
    **fields: Any,
) -> HTTPError:
    """Build an `HTTPError` from Nitro's call shapes (the caller raises it).

    Accepts ``create_error("message")``, ``create_error(status=400, message="...")``,
    Nitro's legacy ``create_error({"statusCode": 400, "statusMessage": "Bad"})``
    or snake_case ``status_code`` / ``status_message``, and wraps an exception as a 500.

    Example::

        raise create_error(status=401, message="Sign in first")
    """
    if isinstance(input, HTTPError) and not fields:
        return input
    options: dict[str, Any] = {}
    if isinstance(input, Mapping):
        options.update(input)
    elif isinstance(input, BaseException):
        options.setdefault("message", str(input) or type(input).__name__)
    elif isinstance(input, str):
        options["message"] = input
    options.update(fields)

    def pick(*names: str) -> Any:
        for name in names:
            if options.get(name) is not None:
                return options[name]
        return None

    status = pick("status", "status_code", "statusCode") or 500
    error = HTTPError(
        int(status),
        pick("message"),
        status_text=pick("status_text", "statusText", "status_message", "statusMessage"),
        data=pick("data"),
        headers=pick("headers"),
    )
    if isinstance(input, BaseException):
        error.__cause__ = input
    return error


def is_error(value: object) -> bool:
    """True when `value` is an `HTTPError`."""
    return isinstance(value, HTTPError)


def _sanitize_status(status: Any) -> int:
    try:
        code = int(status)
    except (TypeError, ValueError):
        return 500
    return code if 100 <= code <= 599 else 500


def _sanitize_status_text(text: str | None) -> str:
    # A status text may end up in a header-like place; keep it short, printable ASCII.
    if not text:
        return ""
    cleaned = "".join(ch for ch in str(text) if 32 <= ord(ch) < 127)
    return cleaned[:512]
