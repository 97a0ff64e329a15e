"""Azure Functions (Python v2 programming model): a `NitroApp` as a function app.

`function_app(nitro_app, timers=...)` returns the ``func.AsgiFunctionApp`` that
``function_app.py`` exposes as `app`: one HTTP function (route ``/{*route}``, every
method) serving the whole app through azure-functions' ASGI middleware, plus one
timer-triggered function per cron of `scheduled_tasks`. A timer only reads which
tick fired (`scheduled_tick`, from the host's schedule status) and hands it to
``app.tasks.run_scheduled``, the schedule's rule on every platform (every task of
the cron with ``{"scheduled_time": ...}``; a failure fails the invocation).

Lifespan: ``AsgiFunctionApp`` sends the ASGI ``lifespan.startup`` on the first HTTP
request of an instance, which runs `NitroApp.startup()` (plugins, middleware,
``server.py``); a timer that fires first starts the app itself. `startup()` is
idempotent and locked, so it runs once per instance whichever comes first. The app
is built with ``serverless=True``: `event.wait_until` work finishes before the
invocation returns, since an idle instance may be frozen.

What the ASGI middleware leaves to us (see `HostedApp`):

- it puts the *decoded* URL path in ``raw_path``, so a ``%25`` in the URL would be
  decoded twice; the raw path is re-encoded from ``path`` instead;
- the worker sends response headers to the host as a map of one value per name
  (``Set-Cookie`` aside, which travels as a cookie list), so repeated headers are
  folded into one comma-separated value (RFC 9110 5.3) instead of losing all but one.

Both are in the azure-functions library (https://github.com/Azure/azure-functions-python-library):
``AsgiRequest`` in ``azure/functions/_http_asgi.py`` and ``HttpResponseConverter.encode``
in ``azure/functions/http.py``. Programming model:
https://learn.microsoft.com/azure/azure-functions/functions-reference-python
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.app import NitroApp
from ..core.schedule import EARLY_FIRE
from ..core.schedule import scheduled_tick as tick_of

if TYPE_CHECKING:
    import azure.functions as func

__all__ = [
    "HTTP_FUNCTION",
    "HostedApp",
    "fold_headers",
    "function_app",
    "scheduled_tick",
]

logger = logging.getLogger("nitro")

HTTP_FUNCTION = "nitro_http"
# RFC 3986 path characters that stay as they are when the raw path is rebuilt.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def function_app(
    nitro_app: NitroApp,
    *,
    timers: Iterable[Mapping[str, str]] = (),
    auth_level: str = "anonymous",
    http_function: str = HTTP_FUNCTION,
) -> func.AsgiFunctionApp:
    """The function app for `nitro_app`.

    `timers`: ``{"name": function name, "cron": the nitro cron (a key of
    `scheduled_tasks`), "schedule": its 6-field NCRONTAB}`` each. `auth_level`:
    ``anonymous`` (default), ``function`` or ``admin`` (the HTTP function's keys).
    Note: ``get_functions()`` may be called once per function app (the library
    records function names as it validates them), as the worker does.
    """
    import azure.functions as func

    app = func.AsgiFunctionApp(
        app=HostedApp(nitro_app),
        http_auth_level=func.AuthLevel[auth_level.upper()],
        function_name=http_function,
    )
    for timer in timers:
        handler = _timer_handler(nitro_app, timer["cron"], func.TimerRequest)
        trigger = app.timer_trigger(arg_name="timer", schedule=timer["schedule"])
        app.function_name(name=timer["name"])(trigger(handler))
    return app


class HostedApp:
    """The ASGI app handed to ``AsgiFunctionApp``: `app`, with a raw path rebuilt from
    the decoded one and repeated response headers folded (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan passes straight through
            return
        scope["raw_path"] = quote(scope["path"], safe=_PATH_SAFE).encode("ascii")

        async def send_folded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": fold_headers(message.get("headers", ()))}
            await send(message)

        await self.app(scope, receive, send_folded)


def fold_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """One header line per name, repeated values joined with ``, ``; ``set-cookie``
    lines stay apart (they cannot be joined, and the worker sends them as cookies)."""
    folded: dict[bytes, list[bytes]] = {}
    cookies: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        key = name.lower()
        if key == b"set-cookie":
            cookies.append((name, value))
        else:
            folded.setdefault(key, []).append(value)
    return [(name, b", ".join(values)) for name, values in folded.items()] + cookies


def _timer_handler(nitro_app: NitroApp, cron: str, timer_type: type) -> Any:
    async def run(timer: Any) -> None:
        past_due = bool(getattr(timer, "past_due", False))
        status = getattr(timer, "schedule_status", None) or {}
        tick = scheduled_tick(cron, datetime.now(UTC), past_due=past_due, status=status)
        await nitro_app.startup()  # a timer that fires before any request starts the app
        await nitro_app.tasks.run_scheduled(cron, tick, late=past_due)

    # The worker reads the annotations with typing.get_type_hints() and matches the
    # parameter names to the bindings: they must be real objects, not strings.
    run.__annotations__ = {"timer": timer_type, "return": None}
    return run


def scheduled_tick(
    cron: str, now: datetime, *, past_due: bool = False, status: Mapping[str, Any] | None = None
) -> datetime:
    """The tick an invocation of `cron`'s timer stands for, in UTC.

    With schedule monitoring (on by default for schedules of a minute or more) the
    host hands over ``ScheduleStatus`` with ``Next`` still set to the occurrence being
    run, also for a past-due run (the occurrence that was missed), so that is the tick
    when it is not in the future. Without it, the schedule's rule decides from `now`
    (`nitro.core.schedule.scheduled_tick`: a timer that fires up to a second early
    stands for the coming tick, a late or past-due one for the latest tick). Times
    without an offset are UTC, Azure's default time zone.
    """
    expected = _status_time((status or {}).get("Next"))
    if expected is not None and expected <= now + EARLY_FIRE:
        return expected
    return tick_of(cron, now, late=past_due)


def _status_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year < 2000:  # ScheduleMonitor.DefaultDateTime: no status recorded yet
        return None
    return parsed.astimezone(UTC)
