"""Tasks: `define_task`, `run_task`, and the app's registry of them.

A task is ``fn(payload, context)``, sync or async, and returns a value; a sync one
runs inline or on a worker thread as the app's `sync_to_thread` says. One task name
runs once at a time per process: a call made while it runs shares that run and its
result (Nitro's rule). The registry also holds the app's schedule
(``app.tasks.schedule``) and runs its ticks (`run_scheduled`, the one rule every
platform follows: `nitro.core.schedule`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from .errors import HTTPError
from .loader import ModuleRef
from .sync import run_user_code

if TYPE_CHECKING:
    from datetime import datetime
    from typing import Protocol

    from .event import Event
    from .schedule import Claim, ScheduledRun

    class ErrorReport(Protocol):
        """The app's `capture_error`: where a scheduled run's failures are reported."""

        def __call__(
            self, error: BaseException, event: Event | None = None, *, log: bool = True
        ) -> Awaitable[None]: ...


__all__ = ["CRON_KEY", "TASK_KEY", "Task", "TaskRegistry", "define_task", "run_task"]

# The keys of nitro's task messages, as platforms carry them (an EventBridge rule's
# input, a Pub/Sub message, an SQS record): {"nitro:task": name, "payload": {...}}
# runs one task now; {"nitro:cron": cron} runs that cron's tick (with "nitro:task":
# only that task of it).
TASK_KEY = "nitro:task"
CRON_KEY = "nitro:cron"

TaskFn = Callable[[Any, Any], Any]


class Task:
    """A task made by `define_task`."""

    __slots__ = ("description", "fn", "name")

    def __init__(self, fn: TaskFn, *, name: str | None = None, description: str = "") -> None:
        if not callable(fn):
            raise TypeError(f"[nitro] define_task() needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = name
        self.description = description

    async def __call__(self, payload: Any, context: Any, *, to_thread: bool = True) -> Any:
        """Run the task; a sync one on a worker thread unless `to_thread` is False."""
        return await run_user_code(self.fn, payload, context, to_thread=to_thread)

    def __repr__(self) -> str:
        return f"<Task {self.name or getattr(self.fn, '__name__', '?')}>"


@overload
def define_task(fn: TaskFn, /) -> Task: ...
@overload
def define_task(*, name: str | None = None, description: str = "", run: TaskFn) -> Task: ...
@overload
def define_task(*, name: str | None = None, description: str = "") -> Callable[[TaskFn], Task]: ...
def define_task(
    fn: TaskFn | None = None,
    /,
    *,
    name: str | None = None,
    description: str = "",
    run: TaskFn | None = None,
) -> Task | Callable[[TaskFn], Task]:
    """Make a task: ``fn(payload, context)`` returning a value (sync or async).

    Example (``tasks/db/migrate.py`` is the task ``db:migrate``)::

        from nitro import define_task

        @define_task(description="Run database migrations")
        async def task(payload, context):
            return {"applied": 3}

    The name comes from the file's path under ``tasks/`` unless `name` is given.
    """
    if run is not None:
        return Task(run, name=name, description=description)
    if fn is None:
        return lambda f: Task(f, name=name, description=description)
    return Task(fn, name=name, description=description)


class TaskRegistry:
    """The app's tasks by name (``nitro_app.tasks``), modules imported on first run,
    and its `schedule`: ``{cron: [task, ...]}`` (a build's, as its manifest recorded
    it; else `scheduled_tasks`, checked)."""

    def __init__(
        self, *, to_thread: Callable[[], bool] = lambda: True, report: ErrorReport | None = None
    ) -> None:
        self._to_thread = to_thread  # where sync tasks run: the app's sync_to_thread
        self._report = report
        self.schedule: dict[str, list[str]] = {}
        self._specs: dict[str, Task | ModuleRef] = {}
        self._descriptions: dict[str, str] = {}
        self._running: dict[str, asyncio.Future[Any]] = {}

    def add(self, name: str, task: Task | ModuleRef, description: str = "") -> None:
        if name in self._specs:
            raise ValueError(f"[nitro] task {name!r} is defined twice")
        self._specs[name] = task
        self._descriptions[name] = description or (
            task.description if isinstance(task, Task) else ""
        )

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def describe(self) -> dict[str, dict[str, str]]:
        """``{name: {"description": ...}}`` (as ``GET /_nitro/tasks`` answers)."""
        return {name: {"description": self._descriptions[name]} for name in self.names()}

    async def run(self, name: str, payload: Any = None, context: Any = None) -> Any:
        """Run task `name` and return its value; joins the run already going, if any."""
        running = self._running.get(name)
        if running is None:
            task = self._load(name)
            running = asyncio.ensure_future(
                task(
                    {} if payload is None else payload,
                    {} if context is None else context,
                    to_thread=self._to_thread(),
                )
            )
            self._running[name] = running
            running.add_done_callback(lambda _: self._running.pop(name, None))
        # shield: a caller that gives up (timeout, disconnect) must not cancel the
        # run other callers share.
        return await asyncio.shield(running)

    def running(self) -> list[asyncio.Future[Any]]:
        return list(self._running.values())

    async def run_scheduled(
        self,
        cron: str,
        fired_at: datetime | None = None,
        *,
        late: bool = False,
        only: Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
        claim: Claim | None = None,
        event: Event | None = None,
    ) -> ScheduledRun:
        """Run the tick of `cron` that fired at `fired_at` (default: now): every task
        of it concurrently (`only`: just those), each with ``{"scheduled_time": tick}``.

        The rule for the tick, for a cron the app does not schedule
        (`UnknownScheduleError`) and for failures (each reported, then
        `ScheduledTaskError`) is `nitro.core.schedule`'s, the same on every platform.

        Example (what an adapter does with its platform's message)::

            run = await app.tasks.run_scheduled("0 3 * * *", fired_at=event_time)
            run.scheduled_time, run.results  # '2026-01-01T03:00:00+00:00', {...}
        """
        from .schedule import run_scheduled  # croniter: only apps that schedule load it

        return await run_scheduled(
            self, cron, fired_at, late=late, only=only, context=context, claim=claim, event=event
        )

    async def report(self, error: BaseException, event: Event | None = None) -> None:
        """Send a task's failure, logged already, to the app's ``error`` hooks."""
        if self._report is not None:
            await self._report(error, event, log=False)

    def _load(self, name: str) -> Task:
        spec = self._specs.get(name)
        if spec is None:
            known = ", ".join(self.names()) or "none"
            raise HTTPError(
                404, f"Task {name!r} not found; known tasks: {known}", data={"tasks": self.names()}
            )
        if isinstance(spec, ModuleRef):
            value = spec.load()
            spec = value if isinstance(value, Task) else Task(value)
            self._specs[name] = spec
        return spec


async def run_task(
    name: str, payload: Mapping[str, Any] | Any = None, context: Mapping[str, Any] | Any = None
) -> Any:
    """Run the task `name` in this process and return its value.

    Example::

        from nitro import define_handler, run_task

        @define_handler
        async def handler(event):
            return {"migrated": await run_task("db:migrate", {"dry_run": True})}

    An unknown name is an `HTTPError(404)` listing the known tasks.
    """
    from .context import use_nitro_app

    return await use_nitro_app().tasks.run(name, payload, context)
