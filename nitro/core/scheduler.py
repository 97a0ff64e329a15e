"""The built-in scheduler: runs `scheduled_tasks` in-process (server and docker
presets, `nitro dev`). Cloud presets map the same crons to the platform's scheduler.

Crons are evaluated in UTC: standard 5 fields (``*/5 * * * *``), the aliases
``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``, and, beyond
standard cron, an optional leading seconds field (``*/10 * * * * *``, as croner
and Azure's NCRONTAB write it). Each run's payload carries its own
`scheduled_time` (ISO 8601 with ``+00:00``). A tick missed while the process was
busy runs once, not once per missed tick. With `claim`, each tick runs once across
every process sharing the claim's storage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Claim", "Scheduler", "claim_ttl", "cron_error", "latest_tick"]

logger = logging.getLogger("nitro")

ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
Claim = Callable[[str, str, float], Awaitable[bool]]  # (task, tick, ttl) -> won


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


def latest_tick(cron: str, now: datetime) -> datetime:
    """The latest tick of `cron` at or before `now` (a call that arrives late, as
    platform schedulers' do, stands for this tick)."""
    tick: datetime = _iterator(cron, now + timedelta(microseconds=1)).get_prev(datetime)
    return tick


def claim_ttl(cron: str, tick: datetime) -> float:
    """How long a tick's claim must outlive it: two intervals, at least five minutes."""
    following: datetime = _iterator(cron, tick).get_next(datetime)
    return max(300.0, 2 * (following - tick).total_seconds())


class Scheduler:
    """Runs `run(task, payload)` for each task of each cron at every tick."""

    def __init__(
        self,
        schedule: Mapping[str, Sequence[str]],
        run: Callable[[str, dict[str, Any]], Awaitable[Any]],
        *,
        report: Callable[[BaseException], Awaitable[None]],
        claim: Claim | None = None,
    ) -> None:
        self.schedule = {cron: list(tasks) for cron, tasks in schedule.items()}
        self._run = run
        self._report = report
        self._claim = claim
        self._loops: list[asyncio.Task[None]] = []
        self._runs: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        for cron, tasks in self.schedule.items():
            self._loops.append(asyncio.ensure_future(self._loop(cron, tasks)))

    async def stop(self, timeout: float) -> None:
        """Stop ticking, then wait for running tasks (up to `timeout`), cancelling the rest."""
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        if self._runs:
            _, pending = await asyncio.wait(set(self._runs), timeout=timeout)
            for run in pending:
                run.cancel()
            if pending:
                logger.warning(
                    "[nitro:tasks] shutdown: cancelled %d scheduled runs still going", len(pending)
                )

    async def _loop(self, cron: str, tasks: list[str]) -> None:
        while True:
            due = _iterator(cron, datetime.now(UTC)).get_next(datetime)
            while (wait := (due - datetime.now(UTC)).total_seconds()) > 0:
                await asyncio.sleep(wait)  # the loop timer may wake us a hair early
            # Late wake-ups (a blocked loop, a suspended machine) run the latest due
            # tick once instead of replaying every missed one.
            tick = max(due, latest_tick(cron, datetime.now(UTC)))
            ttl = claim_ttl(cron, tick)
            for task in tasks:
                run = asyncio.ensure_future(self._fire(task, tick, ttl))
                self._runs.add(run)
                run.add_done_callback(self._runs.discard)

    async def _fire(self, task: str, tick: datetime, ttl: float) -> None:
        scheduled_time = tick.isoformat()
        try:
            if self._claim is not None and not await self._claim(task, scheduled_time, ttl):
                return  # another process runs this tick
            await self._run(task, {"scheduled_time": scheduled_time})
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.error(
                "[nitro:tasks] scheduled task %s (%s) failed", task, scheduled_time, exc_info=error
            )
            await self._report(error)
