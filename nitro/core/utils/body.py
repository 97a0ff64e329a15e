"""Reading request bodies: raw, parsed by content type, multipart, validated.

Every read goes through ``event.receive``, which enforces `max_body_size` while
the body streams in: an honest oversize ``Content-Length`` is refused before
anything is kept, and a body that grows past the limit stops at the limit (413).
What the client is still sending then (up to `DRAIN_BYTES`) is read and dropped
before the 413 goes out, so the connection is not reset under the answer.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
from typing import TYPE_CHECKING, Any

from ..errors import HTTPError
from .request import parse_query

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.types import Message, Receive

    from ..event import Event

__all__ = [
    "limited_receive",
    "read_body",
    "read_form_data",
    "read_raw_body",
    "read_validated_body",
    "validate",
]


_SURROGATE = re.compile(r"[\ud800-\udfff]")  # unpaired: no UTF-8 encoder takes them


def _too_large(limit: int) -> HTTPError:
    return HTTPError(413, f"Request body is larger than {limit} bytes", data={"limit": limit})


# What a refused body may still send before the 413 goes out: read and dropped, never
# kept (Go's net/http reads up to 256 KiB of an unread body for the same reason).
DRAIN_BYTES = 256 * 1024
DRAIN_SECONDS = 2.0


async def _refuse(receive: Receive, limit: int) -> HTTPError:
    """The 413, once what the client is still sending is read and dropped (up to
    `DRAIN_BYTES`, for `DRAIN_SECONDS`): a server that closes a connection with unread
    data resets it, and the reset can reach the client before the 413 (granian does
    this; uvicorn reads ahead, so it rarely shows there)."""
    dropped = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while dropped < DRAIN_BYTES:
                message = await receive()
                if message["type"] != "http.request":
                    break
                dropped += len(message.get("body", b""))
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        pass
    return _too_large(limit)


def limited_receive(event: Event, receive: Receive, limit: int) -> Receive:
    """Wrap `receive` so the body can never exceed `limit` bytes (413)."""
    received = 0
    checked = False

    async def wrapped() -> Message:
        nonlocal received, checked
        if not checked:
            checked = True
            length = _content_length(event)
            if length is not None and length > limit:
                # A body too big to drain is refused without reading any of it.
                raise await _refuse(receive, limit) if length <= DRAIN_BYTES else _too_large(limit)
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                if message.get("more_body", False):
                    raise await _refuse(receive, limit)
                raise _too_large(limit)
        return message

    return wrapped


def _content_length(event: Event) -> int | None:
    for name, value in event.scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise HTTPError(400, "Invalid Content-Length header") from None
    return None


def content_type(event: Event) -> str:
    for name, value in event.scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


async def read_raw_body(event: Event) -> bytes:
    """The request body as bytes (read once, then cached).

    Example::

        data = await read_raw_body(event)
    """
    from starlette.requests import ClientDisconnect

    try:
        return await event.request.body()  # the Request keeps it for the next call
    except ClientDisconnect:
        raise HTTPError(400, "Client disconnected while sending the body") from None


async def read_body(event: Event) -> Any:
    """The body parsed by its content type; None when empty.

    JSON (also when no content type is sent) -> Python values; urlencoded -> a dict
    (repeated keys as lists); ``text/*`` -> str; multipart -> `FormData`; anything
    else -> bytes. Malformed JSON is a 400.

    Example::

        body = await read_body(event)
        name = body["name"]
    """
    kind = content_type(event)
    if kind == "multipart/form-data":
        return await read_form_data(event)
    raw = await read_raw_body(event)
    if not raw:
        return None
    if kind == "application/x-www-form-urlencoded":
        return parse_query(raw)
    if kind.startswith("text/"):
        codec = _codec(_charset(event) or "utf-8")
        try:
            text = raw.decode(codec) if codec else None
        except (UnicodeError, LookupError):  # LookupError: bytes-to-bytes codecs (base64)
            text = None
        if text is None or (not text.isascii() and _SURROGATE.search(text)):
            raise HTTPError(400, "Body is not valid text in its declared charset")
        return text
    if not kind or kind == "application/json" or kind.endswith("+json"):
        return parse_json(raw)
    return raw


def parse_json(raw: bytes) -> Any:
    """Parse a JSON body; malformed, non-UTF-8 or too deeply nested input is a 400.

    JSON between systems is UTF-8 (RFC 8259 section 8.1), as pydantic reads it too; a
    string with an unpaired surrogate (``"\\ud800"``) is refused, since no response,
    log or database could encode it later.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPError(400, "Invalid JSON body: not UTF-8") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HTTPError(
            400, f"Invalid JSON body: {exc.msg}", data={"line": exc.lineno, "column": exc.colno}
        ) from None
    except RecursionError:
        raise HTTPError(400, "Invalid JSON body: nested too deeply") from None
    if ("\\ud" in text or "\\uD" in text) and _holds_surrogate(value):
        raise HTTPError(400, "Invalid JSON body: unpaired surrogate in a string")
    return value


def _holds_surrogate(value: Any) -> bool:
    """Whether any string (key or value) in parsed JSON holds an unpaired surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


async def read_form_data(
    event: Event, *, max_files: int = 1000, max_fields: int = 1000
) -> FormData:
    """Parse a multipart or urlencoded body into Starlette's `FormData`.

    Multipart is parsed while streaming; uploaded files larger than 1 MiB are
    spooled to disk and deleted after the response. Files are `UploadFile`s.

    Example::

        form = await read_form_data(event)
        upload = form["file"]
        data = await upload.read()
    """
    from starlette.formparsers import MultiPartException
    from starlette.requests import ClientDisconnect

    charset = _charset(event)
    if charset is not None and _codec(charset) is None:
        raise HTTPError(400, f"Invalid form body: unknown charset {charset[:40]!r}")
    try:
        form = await event.request.form(max_files=max_files, max_fields=max_fields)
    except MultiPartException as exc:
        raise HTTPError(400, f"Invalid form body: {exc.message}") from None
    except ClientDisconnect:
        raise HTTPError(400, "Client disconnected while sending the body") from None
    event.on_cleanup(form.close)
    if _form_holds_surrogate(form):  # charset=utf-7 decodes "+2AA-" to half a pair
        raise HTTPError(400, "Invalid form body: not text in its declared charset")
    return form


def _form_holds_surrogate(form: FormData) -> bool:
    for name, value in form.multi_items():
        texts = (name, value) if isinstance(value, str) else (name, value.filename or "")
        if any(not text.isascii() and _SURROGATE.search(text) for text in texts):
            return True
    return False


async def read_validated_body(event: Event, validator: Any) -> Any:
    """The body, validated by a pydantic model or a callable; a 400 with the issues otherwise.

    Example::

        class NewUser(BaseModel):
            name: str

        user = await read_validated_body(event, NewUser)
    """
    if hasattr(validator, "model_validate_json") and _is_json(event):
        raw = await read_raw_body(event)
        return validate(validator, raw or b"null", "body", from_json=True)
    return validate(validator, await read_body(event), "body")


def validate(validator: Any, value: Any, what: str, *, from_json: bool = False) -> Any:
    """Run a pydantic model or a callable over `value` (400 on failure)."""
    if hasattr(validator, "model_validate"):
        try:
            if from_json:
                return validator.model_validate_json(value)
            return validator.model_validate(value)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            issues = _issues(exc)
            raise HTTPError(400, f"Invalid {what}", data={"issues": issues}) from None
    try:
        result = validator(value)
    except HTTPError:
        raise
    except Exception as exc:
        # Whatever a validator raises means the input did not fit (h3's validateData does
        # the same): `body["name"]` on a list or a body without "name" is the client's 400.
        raise HTTPError(400, f"Invalid {what}: {exc}", data={"issues": [str(exc)]}) from None
    if result is False:
        raise HTTPError(400, f"Invalid {what}")
    return value if result is True else result


def _issues(exc: Exception) -> list[Any]:
    to_json = getattr(exc, "json", None)
    if to_json is None:
        return [str(exc)]
    try:
        return json.loads(to_json(include_url=False))
    except TypeError:
        return json.loads(to_json())
    except ValueError:
        # pydantic cannot write an input that is not UTF-8 (a raw JSON body such as
        # b"\xff..."), nor objects it does not know: the issues as Python values instead.
        errors = exc.errors(include_url=False)  # type: ignore[attr-defined]
        return json.loads(json.dumps(errors, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _is_json(event: Event) -> bool:
    kind = content_type(event)
    return not kind or kind == "application/json" or kind.endswith("+json")


def _charset(event: Event) -> str | None:
    """The content type's ``charset`` parameter, if any."""
    for name, value in event.scope["headers"]:
        if name == b"content-type":
            for param in value.decode("latin-1").split(";")[1:]:
                key, _, val = param.strip().partition("=")
                if key.lower() == "charset" and val:
                    return val.strip('"')
    return None


# Python codecs that are not character sets: they decode escapes or domain names
# (unicode_escape can make unpaired surrogates and warns on bad input; punycode is slow).
_NOT_CHARSETS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined", "palmos"}
)


def _codec(charset: str) -> str | None:
    """The codec for a declared charset, or None when Python has none or it is not a charset."""
    try:
        name = codecs.lookup(charset).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None
    return None if name in _NOT_CHARSETS else name
