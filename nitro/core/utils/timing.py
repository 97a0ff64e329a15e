"""`Server-Timing`: durations a browser's developer tools show for a response."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..handlers import maybe_await

if TYPE_CHECKING:
    from ..event import Event

__all__ = ["set_server_timing", "with_server_timing"]

T = TypeVar("T")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


def set_server_timing(
    event: Event, name: str, dur: float | None = None, desc: str | None = None
) -> None:
    """Add a metric to the response's `Server-Timing` header (milliseconds).

    Example::

        set_server_timing(event, "db", 53.2, "Database query")
        # Server-Timing: db;desc="Database query";dur=53.2

    Each call adds one metric; `name` must be a token (letters, digits, ``-_.``...).
    """
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"[nitro] invalid Server-Timing metric name {name!r} (use a token)")
    value = name
    if desc:
        # a quoted-string of printable ASCII: a header carries nothing else safely
        cleaned = "".join(c if " " <= c <= "~" else "?" for c in desc)
        value += ';desc="' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if dur is not None:
        if not isinstance(dur, (int, float)) or not math.isfinite(dur) or dur < 0:
            raise ValueError(f"[nitro] Server-Timing duration must be >= 0 ms, got {dur!r}")
        value += ";dur=" + (f"{dur:.3f}".rstrip("0").rstrip(".") or "0")
    event.res.headers.append("server-timing", value)


async def with_server_timing(event: Event, name: str, fn: Callable[[], Awaitable[T] | T]) -> T:
    """Run `fn` (sync or async, no arguments), add how long it took to `Server-Timing`,
    and return its result (the metric is added when it raises too).

    Example::

        users = await with_server_timing(event, "db", lambda: db.sql("SELECT * FROM users"))
    """
    started = time.perf_counter()
    try:
        result: Any = await maybe_await(fn())
    finally:
        set_server_timing(event, name, (time.perf_counter() - started) * 1000)
    return result
