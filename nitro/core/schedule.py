"""Scheduled runs: one rule for every platform that fires `scheduled_tasks`.

A platform's schedule (EventBridge, Cloud Scheduler, an Azure timer, a Vercel cron,
nitro's own `Scheduler`) only says "cron C fired at time T". The adapter parses that
from the platform's message and calls ``app.tasks.run_scheduled(C, T)``, which:

- finds C in the app's schedule (``app.tasks.schedule``, from the build's manifest;
  whitespace does not matter). A cron the app does not schedule (a rule or job left
  from an older deployment) is an `UnknownScheduleError` naming the crons it has,
  before anything runs: the invocation fails, nothing is silently skipped (a 404 on
  Vercel's cron route);
- gives every task of the tick the payload ``{"scheduled_time": <the tick>}``: the
  latest tick of C at or before T (ISO 8601, ``+00:00``), so a late or retried call
  stands for the tick it belongs to. A call up to `EARLY_FIRE` before a tick (timers
  fire early by clock skew) stands for that tick, unless the platform says the run
  is `late` (missed: never a tick ahead of it);
- runs the tasks concurrently, each to its end (one failing never cancels the
  others), each at most once per tick across processes when given a `claim`;
- logs each failure and sends it to the app's ``error`` hooks, then raises
  `ScheduledTaskError` (its `run` has every result) so that the platform records a
  failed invocation; cancellation propagates.

Crons are UTC: standard 5 fields (``*/5 * * * *``), the aliases ``@hourly``,
``@daily``, ``@weekly``, ``@monthly``, ``@yearly``, and, beyond standard cron, an
optional leading seconds field (``*/10 * * * * *``, as croner and Azure's NCRONTAB
write it). croniter is imported only when a schedule is used.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import HTTPError

if TYPE_CHECKING:
    from .event import Event
    from .tasks import TaskRegistry

__all__ = [
    "ALIASES",
    "EARLY_FIRE",
    "Claim",
    "ScheduledRun",
    "ScheduledTaskError",
    "UnknownScheduleError",
    "claim_ttl",
    "cron_error",
    "find_cron",
    "latest_tick",
    "next_tick",
    "run_scheduled",
    "scheduled_tick",
]

logger = logging.getLogger("nitro")

ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# Azure's timer listener may fire "likely under 1 second" early from clock skew
# (azure-webjobs-sdk-extensions TimerListener.InvokeJobFunction).
EARLY_FIRE = timedelta(seconds=1)
Claim = Callable[[str, str, float], Awaitable[bool]]  # (task, tick, ttl) -> this process runs it
_SKIPPED = object()  # a task whose tick another process claimed


class ScheduledRun(NamedTuple):
    """One tick of one cron: which cron, the tick (`scheduled_time`), each task's
    result, each failure, and the tasks another process already ran (`skipped`)."""

    cron: str
    scheduled_time: str
    results: dict[str, Any]
    failures: dict[str, Exception]
    skipped: list[str]


class UnknownScheduleError(HTTPError):
    """A platform fired a cron (or a task of it) that the app does not schedule."""

    def __init__(self, message: str, schedules: Sequence[str]) -> None:
        super().__init__(404, message, data={"schedules": list(schedules)})


class ScheduledTaskError(Exception):
    """Tasks of a scheduled run failed (each was logged and sent to the error hooks
    already). `run` has the whole run; the first failure is the cause."""

    def __init__(self, run: ScheduledRun) -> None:
        failed = "; ".join(
            f"{name}: {type(error).__name__}: {error}" for name, error in run.failures.items()
        )
        super().__init__(
            f"[nitro:tasks] cron {run.cron!r} at {run.scheduled_time}: "
            f"{len(run.failures)} task(s) failed: {failed}"
        )
        self.run = run


def _iterator(cron: str, start: datetime) -> Any:
    from croniter import croniter

    return croniter(cron, start, second_at_beginning=len(cron.split()) == 6)


def cron_error(cron: str) -> str | None:
    """Why `cron` is not a schedule nitro accepts, or None when it is fine."""
    from croniter import croniter

    fields = cron.split()
    if cron.strip().startswith("@"):
        return (
            None
            if cron.strip() in ALIASES
            else f"unknown alias {cron!r} (use {', '.join(ALIASES)})"
        )
    if len(fields) not in (5, 6):
        return f"{cron!r} has {len(fields)} fields; use 5 (minute hour day month weekday) or 6 (seconds first)"
    if not croniter.is_valid(cron, second_at_beginning=len(fields) == 6):
        return f"{cron!r} is not a valid cron expression"
    return None


def next_tick(cron: str, after: datetime) -> datetime:
    """The first tick of `cron` after `after`."""
    tick: datetime = _iterator(cron, after).get_next(datetime)
    return tick


def latest_tick(cron: str, now: datetime) -> datetime:
    """The latest tick of `cron` at or before `now`."""
    tick: datetime = _iterator(cron, now + timedelta(microseconds=1)).get_prev(datetime)
    return tick


def scheduled_tick(cron: str, fired_at: datetime, *, late: bool = False) -> datetime:
    """The tick a run of `cron` fired at `fired_at` stands for (the rule above).

    Example::

        scheduled_tick("*/5 * * * *", datetime(2026, 3, 1, 12, 7, 10, tzinfo=UTC))
        # 12:05:00+00:00 (late: the latest tick); 12:04:59.6 gives 12:05 (fired early)
    """
    if fired_at.tzinfo is None:
        fired_at = fired_at.replace(tzinfo=UTC)
    latest = latest_tick(cron, fired_at)
    following = next_tick(cron, latest)
    tolerance = min(EARLY_FIRE, (following - latest) / 4)
    if not late and following - fired_at <= tolerance:
        return following.astimezone(UTC)
    return latest.astimezone(UTC)


def claim_ttl(cron: str, tick: datetime) -> float:
    """How long a tick's claim must outlive it: two intervals, at least five minutes."""
    following = next_tick(cron, tick)
    return max(300.0, 2 * (following - tick).total_seconds())


def find_cron(schedule: Mapping[str, Sequence[str]], cron: str) -> str:
    """The key of `schedule` that is `cron` (whitespace aside); `UnknownScheduleError` if none."""
    if cron in schedule:
        return cron
    wanted = " ".join(cron.split())
    for key in schedule:
        if " ".join(key.split()) == wanted:
            return key
    raise UnknownScheduleError(
        f"[nitro:tasks] no scheduled_tasks entry for cron {cron!r} in this app (scheduled: "
        f"{', '.join(map(repr, schedule)) or 'none'}); remove the platform's schedule for it, "
        "or rebuild and redeploy",
        list(schedule),
    )


async def run_scheduled(
    tasks: TaskRegistry,
    cron: str,
    fired_at: datetime | None = None,
    *,
    late: bool = False,
    only: Sequence[str] | None = None,
    context: Mapping[str, Any] | None = None,
    claim: Claim | None = None,
    event: Event | None = None,
) -> ScheduledRun:
    """Run the tick of `cron` that fired at `fired_at` (default: now); see the module
    doc. `only` runs just those tasks of it (an AWS rule has one target per task).
    Each task's context is `context` plus ``"cron"``."""
    key = find_cron(tasks.schedule, cron)
    names = list(tasks.schedule[key])
    if only is not None:
        stray = [name for name in only if name not in names]
        if stray:
            raise UnknownScheduleError(
                f"[nitro:tasks] cron {key!r} does not run {', '.join(map(repr, stray))} in this "
                f"app (it runs {', '.join(names) or 'nothing'}); rebuild and redeploy",
                list(tasks.schedule),
            )
        names = list(only)
    tick = scheduled_tick(key, fired_at or datetime.now(UTC), late=late)
    scheduled_time = tick.isoformat()
    ttl = claim_ttl(key, tick) if claim is not None else 0.0
    task_context = {**(context or {}), "cron": key}

    async def run_one(name: str) -> Any:
        if claim is not None and not await claim(name, scheduled_time, ttl):
            return _SKIPPED
        return await tasks.run(name, {"scheduled_time": scheduled_time}, dict(task_context))

    outcomes = await asyncio.gather(*(run_one(n) for n in names), return_exceptions=True)
    run = ScheduledRun(key, scheduled_time, {}, {}, [])
    for name, outcome in zip(names, outcomes, strict=True):
        if outcome is _SKIPPED:
            run.skipped.append(name)
        elif not isinstance(outcome, BaseException):
            run.results[name] = outcome
        elif isinstance(outcome, Exception):
            logger.error(
                "[nitro:tasks] task %s (cron %r at %s) failed",
                name,
                key,
                scheduled_time,
                exc_info=outcome,
            )
            await tasks.report(outcome, event)
            run.failures[name] = outcome
        else:
            raise outcome  # cancelled: the platform is stopping the invocation
    if run.failures:
        raise ScheduledTaskError(run) from next(iter(run.failures.values()))
    return run
