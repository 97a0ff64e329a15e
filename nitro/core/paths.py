"""The canonical request path that routing, route rules and public assets all see.

From the raw path as sent: percent-escapes are decoded except ``%2F`` (``/``),
``%5C`` (``\\``) and ``%25`` (``%``), which stay encoded so that an encoded
slash can never become a path separator; dot segments are resolved (also when
written ``%2e%2e``) and never climb above ``/``. A malformed escape, an escaped
NUL, bytes that are not UTF-8, or a target that is not a path at all (``OPTIONS *``,
an empty path, an absolute URL passed through by the server) are a 400.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from .errors import HTTPError

__all__ = ["canonical_path", "resolve_dot_segments", "strip_base"]

_KEEP_ENCODED = {0x2F: "%2F", 0x5C: "%5C", 0x25: "%25"}
_HEX = frozenset(b"0123456789abcdefABCDEF")


def canonical_path(scope: MutableMapping[str, Any]) -> str:
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        # The server gave no raw path (some serverless hosts): work from the decoded one.
        path: str = scope["path"]
        if "\x00" in path:
            raise HTTPError(400, "Invalid path: NUL byte")
        if path[:1] != "/":
            raise _not_a_path(path)
        return resolve_dot_segments(path) if "/." in path else path
    if raw[:1] != b"/":
        # resolve_dot_segments would turn "*" into "/*" and "x" into "/x": a wrong match.
        raise _not_a_path(raw.decode("latin-1"))
    if raw.isascii():
        # str membership is far cheaper than bytes membership (no buffer protocol).
        path = raw.decode("ascii")
        if "%" not in path and "/." not in path and "\x00" not in path:
            return path
    return resolve_dot_segments(_decode(raw))


def _not_a_path(target: str) -> HTTPError:
    return HTTPError(400, f"Invalid path: {target[:100]!r} does not start with '/'")


def _decode(raw: bytes) -> str:
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        byte = raw[i]
        if byte == 0x25:  # "%"
            if i + 2 >= n or raw[i + 1] not in _HEX or raw[i + 2] not in _HEX:
                raise HTTPError(400, "Invalid path: malformed percent-encoding")
            value = int(raw[i + 1 : i + 3], 16)
            if value == 0:
                raise HTTPError(400, "Invalid path: NUL byte")
            keep = _KEEP_ENCODED.get(value)
            if keep is not None:
                out += keep.encode()
            else:
                out.append(value)
            i += 3
        elif byte == 0:
            raise HTTPError(400, "Invalid path: NUL byte")
        else:
            out.append(byte)
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "Invalid path: not UTF-8") from None


def resolve_dot_segments(path: str) -> str:
    """Resolve ``.`` and ``..`` segments (RFC 3986 §5.2.4); never above the root."""
    segments: list[str] = []
    parts = path.split("/")
    for part in parts[1:] if path.startswith("/") else parts:
        if part == "..":
            if segments:
                segments.pop()
        elif part != ".":
            segments.append(part)
    if parts[-1] in (".", ".."):
        segments.append("")  # "/a/b/.." -> "/a/"
    return "/" + "/".join(segments)


def strip_base(pathname: str, base: str) -> str:
    """`pathname` below the app's `base` URL (``/app/users`` -> ``/users``); a path
    outside it is a 404."""
    if pathname == base or pathname == base + "/":
        return "/"
    if pathname.startswith(base + "/"):
        return pathname[len(base) :]
    raise HTTPError(404, f"Cannot find any route matching {pathname}")
