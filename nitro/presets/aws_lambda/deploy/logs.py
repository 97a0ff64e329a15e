"""`nitro logs aws`: the deployed function's CloudWatch log events, one a line.

The function is ``{name}-{stage}`` as `nitro deploy aws` names it (`names.Names`),
its log group the one its logging config names, by default ``/aws/lambda/{function}``.
Events come from ``FilterLogEvents``, oldest first, from `since` on. Each is one line
on stdout: ``<time> <message>`` (UTC, milliseconds; line breaks inside a message,
as in a traceback Lambda's runtime logged as text, written ``\\n`` so an event stays
one line), or with `as_json` ``{"time", "timestamp", "stream", "message"}``.

`follow` keeps polling for new events: after a poll that found some, again in a
second; after each empty one, twice as long, up to `MAX_WAIT` seconds. Ctrl-C
stops it. boto3 reads the credentials and ``AWS_ENDPOINT_URL`` itself.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ....bundle.requirements import project_name
from ...errors import DeployError
from .names import Names
from .session import error_code, open_aws

__all__ = ["MAX_WAIT", "MIN_WAIT", "parse_since", "tail"]

MIN_WAIT = 1.0
MAX_WAIT = 10.0
_SPAN = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

Output = Callable[[str], None]


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``10m``, ``2h``, ``1d``, ``30s``, ``1w`` ago, or an ISO 8601 time (UTC unless it
    says otherwise)::

        parse_since("10m")  # ten minutes ago
        parse_since("2026-05-01T12:00:00Z")
    """
    now = now or datetime.now(UTC)
    found = _SPAN.fullmatch(text.strip())
    if found is not None:
        return now - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {text!r}: give a duration (30s, 10m, 2h, 1d, 1w) or an ISO 8601 "
            "time (2026-05-01T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def tail(
    root: Path,
    *,
    region: str | None,
    stage: str,
    since: datetime,
    follow: bool,
    as_json: bool,
    out: Output,
    log: Output,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Print the log events of the function of `root` at `stage` (see the module)."""
    aws = open_aws(region)
    names = Names(project_name(root), stage, aws.region, aws.account, aws.partition)
    group = _log_group(aws, names, stage)
    client = aws.client("logs")
    start = int(since.timestamp() * 1000)
    seen: set[str] = set()  # the events of the latest millisecond printed (polls overlap it)
    wait = MIN_WAIT
    said_empty = False
    try:
        while True:
            found = _events(client, group, start)
            if found is None:
                if not said_empty:
                    log(f"no logs yet: {group} does not exist (the function has not run)")
                    said_empty = True
                found = []
            fresh = [e for e in found if e["eventId"] not in seen]
            for event in fresh:
                out(_line(event, as_json))
            if fresh:
                start = max(e["timestamp"] for e in fresh)
                seen = {e["eventId"] for e in found if e["timestamp"] == start}
                wait = MIN_WAIT
            elif follow:
                wait = min(wait * 2, MAX_WAIT)
            if not follow:
                return 0
            sleep(wait)
    except KeyboardInterrupt:
        return 0  # Ctrl-C ends a follow: nothing went wrong


def _log_group(aws: Any, names: Names, stage: str) -> str:
    try:
        found = aws.client("lambda").get_function_configuration(FunctionName=names.function)
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise DeployError(
                f"[nitro:logs] no Lambda function {names.function} (stage {stage}) in "
                f"{aws.region}: deploy it with `nitro deploy aws --stage {stage}`, or pass "
                "the --stage and --region it was deployed with"
            ) from None
        raise DeployError(
            f"[nitro:logs] read Lambda function {names.function}: {_reason(exc)}"
        ) from None
    return str(found.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{names.function}")


def _events(client: Any, group: str, start: int) -> list[dict[str, Any]] | None:
    """Every event of `group` from `start` (ms) on, oldest first; None without the group."""
    events: list[dict[str, Any]] = []
    params: dict[str, Any] = {"logGroupName": group, "startTime": start}
    try:
        while True:
            page = client.filter_log_events(**params)
            events += page.get("events", [])
            token = page.get("nextToken")
            if not token or token == params.get("nextToken"):
                break
            params["nextToken"] = token
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise DeployError(f"[nitro:logs] read {group}: {_reason(exc)}") from None
    events.sort(key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))
    return events


def _line(event: dict[str, Any], as_json: bool) -> str:
    moment = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
    when = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message = str(event.get("message", "")).rstrip("\r\n")
    if as_json:
        return json.dumps(
            {
                "time": when,
                "timestamp": event["timestamp"],
                "stream": event.get("logStreamName"),
                "message": message,
            },
            ensure_ascii=False,
        )
    one_line = message.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
    return f"{when} {one_line}"


def _reason(exc: BaseException) -> str:
    code = error_code(exc)
    if code is None:
        return f"{type(exc).__name__}: {exc}"
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message") or "")
    return f"{code}: {message}" if message else code
