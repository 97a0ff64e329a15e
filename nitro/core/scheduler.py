"""The built-in scheduler: fires the app's schedule in-process (server and docker
presets, `nitro dev`). Cloud presets map the same crons to the platform's scheduler.

It only keeps time: at each tick of each cron it calls ``tasks.run_scheduled(cron,
tick)``, which owns what a tick runs, its `scheduled_time`, claims and failures
(`nitro.core.schedule`, the rule every platform follows). A tick missed while the
process was busy runs once, not once per missed tick. With `claim`, each tick runs
once across every process sharing the claim's storage.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .schedule import Claim, ScheduledTaskError, latest_tick, next_tick

if TYPE_CHECKING:
    from .tasks import TaskRegistry

__all__ = ["Scheduler"]

logger = logging.getLogger("nitro")


class Scheduler:
    """Runs each cron of ``tasks.schedule`` at every tick.

    Example (what `load_app` does for the server entry and `nitro dev`)::

        app.scheduler = Scheduler(app.tasks, claim=task_claim(app.storage))
        # app.startup() starts it; app.shutdown() stops it
    """

    def __init__(self, tasks: TaskRegistry, *, claim: Claim | None = None) -> None:
        self.tasks = tasks
        self._claim = claim
        self._loops: list[asyncio.Task[None]] = []
        self._runs: set[asyncio.Task[None]] = set()

    @property
    def schedule(self) -> dict[str, list[str]]:
        return self.tasks.schedule

    def start(self) -> None:
        for cron in self.tasks.schedule:
            self._loops.append(asyncio.ensure_future(self._loop(cron)))

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

    async def _loop(self, cron: str) -> None:
        while True:
            due = next_tick(cron, datetime.now(UTC))
            while (wait := (due - datetime.now(UTC)).total_seconds()) > 0:
                await asyncio.sleep(wait)  # the loop timer may wake us a hair early
            # Late wake-ups (a blocked loop, a suspended machine) run the latest due
            # tick once instead of replaying every missed one.
            tick = max(due, latest_tick(cron, datetime.now(UTC)))
            run = asyncio.ensure_future(self._fire(cron, tick))
            self._runs.add(run)
            run.add_done_callback(self._runs.discard)

    async def _fire(self, cron: str, tick: datetime) -> None:
        try:
            await self.tasks.run_scheduled(cron, tick, claim=self._claim)
        except ScheduledTaskError:
            pass  # each failure was logged and reported; the next tick runs as usual
        except Exception:
            logger.exception("[nitro:tasks] scheduled run of %r at %s failed", cron, tick)
