"""JSON logs (``NITRO_LOG_FORMAT=json``): one JSON object a line for every ``nitro``
log record and the access log, for CloudWatch Logs Insights, Cloud Logging, Azure
Monitor or any log pipeline.

A line holds `time` (UTC, ISO 8601), `level`, `logger` and `message`; inside a
request also `request_id`, `method` and `path`; the access line (logger
``nitro.access``) adds `status` and `duration_ms`; a record with an exception adds
`exception` (its traceback) and `error` (its type); with tracing on, `trace_id` and
`span_id`. Fields a call passes with ``extra={...}`` are kept::

    {"time": "2026-05-01T12:00:00.123Z", "level": "INFO", "logger": "nitro.access",
     "message": "GET /api/hello 200 1.2ms", "request_id": "9f1c...", "method": "GET",
     "path": "/api/hello", "status": 200, "duration_ms": 1.2}
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from ..context import current_event
from .request_id import SCOPE_KEY

__all__ = ["JsonFormatter", "use_json_logs"]

# What every LogRecord has: anything else on a record came with `extra`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_OWN = ("request_id", "method", "path", "status", "duration_ms")  # in this order
_OWN_SET = frozenset(_OWN)
# One encoder, made once (json.dumps with options makes a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (see the module's doc)::

    handler.setFormatter(JsonFormatter())
    """

    trace_ids = False  # set when tracing is on: lines in a span name its ids
    # The formatted second of the latest record: lines come many a second.
    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        created = record.created
        second = int(created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (
                second,
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)),
            )
        line: dict[str, Any] = {
            "time": f"{cached[1]}.{int((created - second) * 1000):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event = current_event.get(None)
        if event is not None:
            found = event.scope.get(SCOPE_KEY)
            if found is not None:
                line["request_id"] = found
            line["method"] = event.method
            line["path"] = event.path
        fields = record.__dict__
        extra = fields.keys() - _STANDARD
        if extra:
            for key in _OWN:
                if key in extra:
                    line[key] = fields[key]
            for key in sorted(extra - _OWN_SET):
                line[key] = _plain(fields[key])
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = type(record.exc_info[1]).__name__
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        if self.trace_ids:
            _add_trace_ids(line)
        return _encode(line)


def _plain(value: Any) -> Any:
    """`value` as JSON can hold it (else its text)."""
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


def _add_trace_ids(line: dict[str, Any]) -> None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        line["trace_id"] = format(context.trace_id, "032x")
        line["span_id"] = format(context.span_id, "016x")


def use_json_logs(*, trace_ids: bool = False) -> None:
    """Make every ``nitro`` log line JSON: the handlers the ``nitro`` logger has get a
    `JsonFormatter` (uvicorn's log config gives it one already), or, where nothing set
    one up (Lambda, Cloud Functions, Azure Functions), one writing to stderr."""
    logger = logging.getLogger("nitro")
    JsonFormatter.trace_ids = trace_ids
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)  # the access log is INFO
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stderr))
        logger.propagate = False  # the platform's root handler would print each line again
    for handler in logger.handlers:
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter())
