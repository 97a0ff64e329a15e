"""Turning what a handler returns into a response, and sending it.

dict/list/number/bool/pydantic model/dataclass -> JSON; str -> text/plain;
bytes -> application/octet-stream; None -> 204 (unless a status was staged);
a sync or async iterator -> streamed; a Starlette `Response` -> as is.

A complete body becomes a `PlainResponse`, nitro's own: making and sending one
needs none of Starlette, whose imports would otherwise be most of a serverless
cold start. User code never holds one: hooks get it as a Starlette `Response`
(`starlette_response`).
"""

from __future__ import annotations

import datetime
import enum
import inspect
import json
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeAlias

from .headers import MutableHeaders

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import Message, Receive, Scope, Send

    from .event import Event

__all__ = [
    "PlainResponse",
    "encode_json",
    "make_response",
    "plain_response",
    "send_response",
    "starlette_response",
    "to_response",
]

JSON_TYPE = b"application/json"
TEXT_TYPE = b"text/plain; charset=utf-8"
HTML_TYPE = b"text/html; charset=utf-8"
BINARY_TYPE = b"application/octet-stream"


class PlainResponse:
    """A status, raw headers and a complete body: most of what nitro sends.

    Shaped like Starlette's `Response` (`status_code`, `raw_headers`, `body`,
    `headers`, `background`), so code that reads or edits a response works on
    either; `send_response` sends both.
    """

    __slots__ = ("body", "raw_headers", "status_code")

    background = None

    def __init__(self, body: bytes, status_code: int, raw_headers: list[tuple[bytes, bytes]]):
        self.body = body
        self.status_code = status_code
        self.raw_headers = raw_headers

    @property
    def headers(self) -> MutableHeaders:
        return MutableHeaders(raw=self.raw_headers)

    def __repr__(self) -> str:
        return f"<PlainResponse {self.status_code} {len(self.body)} bytes>"


if TYPE_CHECKING:
    # What the request path carries: nitro's plain response or any Starlette response.
    AnyResponse: TypeAlias = PlainResponse | Response


def starlette_response(response: AnyResponse) -> Response:
    """`response` as a Starlette `Response`, for user code such as hooks (same
    status, body and header list)."""
    if type(response) is not PlainResponse:
        return response  # type: ignore[return-value]
    from starlette.responses import Response

    converted: Response = object.__new__(Response)
    converted.status_code = response.status_code
    converted.background = None
    converted.body = response.body
    converted.raw_headers = response.raw_headers
    return converted


_new_plain = object.__new__


def _starlette_class() -> type[Response] | None:
    """Starlette's `Response` once something imported it; before that, no value can be one."""
    module = sys.modules.get("starlette.responses")
    return None if module is None else module.Response


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    import decimal  # here, not at import: only values JSON lacks get this far
    import uuid

    if isinstance(value, (uuid.UUID, decimal.Decimal, PurePath)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Mapping):  # a read-only view such as event.context.route_rules
        return dict(value)
    if _is_dataclass_instance(value):
        import dataclasses  # here: only values JSON lacks get this far

        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)  # pydantic models, without importing pydantic
    if dump is not None:
        return dump(mode="json")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _is_dataclass_instance(value: Any) -> bool:
    # dataclasses.is_dataclass's test, without importing dataclasses at start
    return hasattr(type(value), "__dataclass_fields__") and not isinstance(value, type)


def _make_encoder() -> Any:
    # One C encoder, made once: json.dumps builds a new one per call, which is most of
    # its cost for small bodies. No markers dict: a failed encode could leave stale ids
    # in a shared one, so a circular value surfaces as RecursionError (a 500) instead.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            iterencode = make(
                None,
                _json_default,
                json.encoder.encode_basestring,
                None,
                ":",
                ",",
                False,
                False,
                True,
            )
        except TypeError:  # a Python whose C encoder takes other arguments
            pass
        else:
            join = "".join
            return lambda value: join(iterencode(value, 0))
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default).encode


_encode = _make_encoder()


def encode_json(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes; understands datetimes, UUIDs, enums, dataclasses, models."""
    return _encode(value).encode()


def make_response(
    body: bytes, status: int, content_type: bytes | None, event: Event | None = None
) -> PlainResponse:
    """A `PlainResponse` with the event's staged headers, a content type and length."""
    staged = event._res if event is not None else None
    if staged is not None and staged.raw_headers:
        headers = [h for h in staged.raw_headers if h[0] != b"content-length"]
        if content_type is not None and not any(h[0] == b"content-type" for h in headers):
            headers.append((b"content-type", content_type))
    elif content_type is not None:
        headers = [(b"content-type", content_type)]
    else:
        headers = []
    if status >= 200 and status not in (204, 304):
        headers.append((b"content-length", str(len(body)).encode()))
    response = _new_plain(PlainResponse)  # skips an __init__ call: ~1% of a request
    response.body = body
    response.status_code = status
    response.raw_headers = headers
    return response


def plain_response(event: Event, value: Any) -> PlainResponse | None:
    """The response for the common return values (dict, list, str, None), else None."""
    staged = event._res
    kind = type(value)
    if kind is dict or kind is list:
        return make_response(
            _encode(value).encode(), staged._status if staged else 200, JSON_TYPE, event
        )
    if kind is str:
        return make_response(value.encode(), staged._status if staged else 200, TEXT_TYPE, event)
    if value is None:
        status = staged._status if staged is not None and staged.status_set else 204
        return make_response(b"", status, None, event)
    return None


async def to_response(event: Event, value: Any) -> AnyResponse:
    """Convert a handler's return value, applying the staged status and headers."""
    response = plain_response(event, value)
    if response is not None:
        return response
    staged = event._res
    status = staged._status if staged is not None else 200
    starlette = _starlette_class()
    if type(value) is PlainResponse or (starlette is not None and isinstance(value, starlette)):
        if staged is not None and staged.raw_headers:
            _merge_defaults(value, staged.raw_headers)
        return value
    if isinstance(value, str):
        return make_response(str(value).encode(), status, TEXT_TYPE, event)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return make_response(bytes(value), status, BINARY_TYPE, event)
    if isinstance(value, (int, float, dict, list, tuple)):
        return make_response(_encode(value).encode(), status, JSON_TYPE, event)
    if isinstance(value, BaseException):
        raise value
    adapt = getattr(value, "__nitro_response__", None)
    if adapt is not None:
        return await to_response(event, adapt())
    if inspect.isawaitable(value):
        return await to_response(event, await value)
    if hasattr(value, "model_dump_json"):
        return make_response(value.model_dump_json().encode(), status, JSON_TYPE, event)
    if _is_dataclass_instance(value):
        return make_response(_encode(value).encode(), status, JSON_TYPE, event)
    if isinstance(value, (AsyncIterator, Iterator)):
        return stream_response(event, value, status)
    try:
        body = _encode(value).encode()
    except TypeError:
        raise TypeError(
            f"[nitro] a handler returned {type(value).__name__}, which nitro cannot send; "
            "return a dict, list, str, bytes, None, an iterator or a Response"
        ) from None
    return make_response(body, status, JSON_TYPE, event)


def stream_response(
    event: Event, iterator: Any, status: int = 200, media_type: str | None = None
) -> Response:
    """A streamed response from a sync or async iterator of str/bytes chunks."""
    from starlette.responses import StreamingResponse

    response = StreamingResponse(
        _as_bytes(iterator, to_thread=event.app.sync_to_thread), status_code=status
    )
    staged = event._res
    headers = list(staged.raw_headers) if staged is not None else []
    if not any(name == b"content-type" for name, _ in headers):
        headers.append((b"content-type", media_type.encode() if media_type else BINARY_TYPE))
    response.raw_headers = headers
    return response


async def _as_bytes(iterator: Any, *, to_thread: bool) -> AsyncIterator[bytes]:
    if hasattr(iterator, "__aiter__"):
        async for chunk in iterator:
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
    elif to_thread:
        from .sync import run_in_thread

        sentinel = object()
        # Pull each item on a worker thread: a sync generator may block.
        while True:
            chunk = await run_in_thread(next, iterator, sentinel)
            if chunk is sentinel:
                break
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
    else:  # sync code runs inline here (one request at a time: serverless)
        for chunk in iterator:
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)


def _merge_defaults(response: AnyResponse, staged: list[tuple[bytes, bytes]]) -> None:
    present = {name for name, _ in response.raw_headers}
    for name, value in staged:
        if name not in present or name == b"set-cookie":
            response.raw_headers.append((name, value))


async def send_response(response: AnyResponse, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `response`; for HEAD, headers only (Content-Length kept)."""
    head = scope["method"] == "HEAD"
    if isinstance(response, PlainResponse):
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": b"" if head else response.body})
        return
    if head:
        send = _headers_only(send)
    await response(scope, receive, send)


def _headers_only(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body"):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return wrapped
