"""Watching requests: request ids, JSON access logs, tracing spans.

Both are off by default and then cost one attribute check per request
(``app.observer is None`` in `NitroApp.__call__`). They are turned on by the
environment, looked at once when the app starts (after its plugins ran, so a plugin
may set up OpenTelemetry first):

- ``NITRO_LOG_FORMAT=json``: every ``nitro`` log line is JSON (`logs`), each request
  has an id (`request_id`: the platform's, else a new one) that its log lines carry
  and that is sent back as ``x-request-id``, and each request logs one access line
  (logger ``nitro.access``) with `status` and `duration_ms`.
- ``NITRO_TRACING=1``: a span per request and for storage, database, cache and proxy
  calls (`tracing`).

`event.context.request_id` works either way: with both off it is worked out when
first asked for, and then the response does not carry it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .request_id import request_id

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

    from ..app import NitroApp
    from .tracing import Tracing

__all__ = [
    "FORMAT_ENV",
    "TRACING_ENV",
    "Observer",
    "json_logs_wanted",
    "observer_for",
    "tracing_wanted",
]

access_logger = logging.getLogger("nitro.access")
logger = logging.getLogger("nitro")

REQUEST_ID_HEADER = b"x-request-id"
FORMAT_ENV = "NITRO_LOG_FORMAT"
TRACING_ENV = "NITRO_TRACING"


def json_logs_wanted(environ: Mapping[str, str]) -> bool:
    """``NITRO_LOG_FORMAT=json`` (``text``, the default, is anything else)."""
    return environ.get(FORMAT_ENV, "").strip().lower() == "json"


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    """``NITRO_TRACING`` is ``1`` (or ``true``, ``on``, ``yes``)."""
    return environ.get(TRACING_ENV, "").strip().lower() in ("1", "true", "on", "yes")


def observer_for(app: NitroApp, environ: Mapping[str, str] | None = None) -> Observer | None:
    """The observer `app` needs by the environment, or None when nothing is watched
    (then nothing more is imported: a cold start pays for no more than this)."""
    env = os.environ if environ is None else environ
    json_logs = json_logs_wanted(env)
    tracing: Tracing | None = None
    if tracing_wanted(env):
        try:
            from .tracing import Tracing

            tracing = Tracing(app)
        except ImportError:
            logger.warning(
                '[nitro:tracing] %s is on but opentelemetry-api is not installed: pip install "nitro-py[tracing]" '
                "opentelemetry-sdk (and an exporter)",
                TRACING_ENV,
            )
    if not json_logs and tracing is None:
        return None
    if json_logs:
        from .logs import use_json_logs

        use_json_logs(trace_ids=tracing is not None)
        app.log_requests = False  # the observer writes the access line, as JSON
    return Observer(app, json_logs=json_logs, tracing=tracing)


class Observer:
    """Serves a request through `app.handle`, with its id, access line and span."""

    __slots__ = ("app", "json_logs", "tracing")

    def __init__(self, app: NitroApp, *, json_logs: bool, tracing: Tracing | None) -> None:
        self.app = app
        self.json_logs = json_logs
        self.tracing = tracing

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        app = self.app
        rid = request_id(scope, app) if self.json_logs else None
        tracing = self.tracing
        span: Any = None
        token: object = None
        if tracing is not None:
            span, token = tracing.start(scope, rid)
        status = 0
        header = rid.encode("latin-1", "replace") if rid is not None else None

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if header is not None:
                    headers = list(message.get("headers", ()))
                    if not any(name.lower() == REQUEST_ID_HEADER for name, _ in headers):
                        headers.append((REQUEST_ID_HEADER, header))
                    message = {**message, "headers": headers}
            await send(message)

        failure: BaseException | None = None
        try:
            await app.handle(scope, receive, observed_send)
        except BaseException as error:
            failure = error
            raise
        finally:
            if span is not None and tracing is not None:
                tracing.finish(span, token, scope, status, failure)
            if self.json_logs and access_logger.isEnabledFor(logging.INFO):
                elapsed = round((time.perf_counter() - started) * 1000, 3)
                _access_line(scope["method"], _path(scope), status, elapsed, rid)


def _access_line(method: str, path: str, status: int, elapsed: float, rid: str | None) -> None:
    # The record made here rather than by `Logger.info`: that would walk the stack
    # for the caller's file and line, which an access line has no use for.
    record = access_logger.makeRecord(
        access_logger.name,
        logging.INFO,
        "nitro.core.observe",
        0,
        "%s %s %s %.1fms",
        (method, path, status or "-", elapsed),
        None,
        extra={
            "request_id": rid,
            "method": method,
            "path": path,
            "status": status or None,
            "duration_ms": elapsed,
        },
    )
    access_logger.handle(record)


def _path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    query = scope.get("query_string")
    return f"{path}?{query.decode('latin-1')}" if query else str(path)
