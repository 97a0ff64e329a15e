"""Tasks: `define_task`, `run_task`, and the app's registry of them.

A task is ``fn(payload, context)``, sync or async, and returns a value; a sync one
runs inline or on a worker thread as the app's `sync_to_thread` says. One task name runs once at a time per process: a call made while it
runs shares that run and its result (Nitro's rule).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from .errors import HTTPError
from .loader import ModuleRef
from .sync import run_user_code

if TYPE_CHECKING:
    from .app import NitroApp
    from .event import Event

__all__ = ["Task", "TaskRegistry", "define_task", "run_task", "run_tick"]

logger = logging.getLogger("nitro")

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
    """The app's tasks by name (``nitro_app.tasks``); modules are imported on first run."""

    def __init__(self, *, to_thread: Callable[[], bool] = lambda: True) -> None:
        self._to_thread = to_thread  # where sync tasks run: the app's sync_to_thread
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


async def run_tick(
    app: NitroApp,
    names: Sequence[str],
    payload: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
    *,
    label: str,
    run: Callable[[str], Awaitable[Any]] | None = None,
    event: Event | None = None,
) -> tuple[dict[str, Any], dict[str, Exception]]:
    """Run the tasks of one scheduled tick (what platform schedulers call) concurrently,
    each to its end: one failing never cancels the others. `run(name)` replaces
    ``app.tasks.run(name, payload, context)`` (to claim the tick first, say). A failure
    is logged with `label` and goes to the app's `error` hooks; cancellation propagates.
    Returns (results, failures) by task name.
    """

    async def run_one(name: str) -> Any:
        return await app.tasks.run(name, dict(payload), dict(context or {}))

    outcomes = await asyncio.gather(*((run or run_one)(n) for n in names), return_exceptions=True)
    results: dict[str, Any] = {}
    failures: dict[str, Exception] = {}
    for name, outcome in zip(names, outcomes, strict=True):
        if not isinstance(outcome, BaseException):
            results[name] = outcome
        elif isinstance(outcome, Exception):
            logger.error("[nitro:tasks] task %s (%s) failed", name, label, exc_info=outcome)
            await app.capture_error(outcome, event, log=False)
            failures[name] = outcome
        else:
            raise outcome  # cancelled: the platform is stopping the invocation
    return results, failures
