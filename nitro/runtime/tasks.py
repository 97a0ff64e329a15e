"""Tasks for an app: the registry from the manifest, the schedule (a build's record,
else `scheduled_tasks` checked), runs claimed through shared storage, and the task
endpoints."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..config import ConfigError, NitroConfig
from ..core.app import NitroApp
from ..core.loader import ModuleRef
from ..core.manifest import Manifest
from ..core.storage import Storage
from ..core.tasks import Task

if TYPE_CHECKING:
    from ..core.schedule import Claim

__all__ = ["configure_tasks", "schedule_from_config", "task_claim"]

logger = logging.getLogger("nitro")


def schedule_from_config(
    scheduled: Mapping[str, str | list[str]], known: list[str]
) -> dict[str, list[str]]:
    """`scheduled_tasks` as ``{cron: [task, ...]}``; a bad cron or unknown task is a ConfigError."""
    if not scheduled:
        return {}
    from ..core.schedule import cron_error  # only apps with scheduled tasks need it

    schedule: dict[str, list[str]] = {}
    for cron, tasks in scheduled.items():
        problem = cron_error(cron)
        if problem:
            raise ConfigError(f"[nitro:config] scheduled_tasks: {problem}")
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        for name in names:
            if name not in known:
                raise ConfigError(
                    f"[nitro:config] scheduled_tasks[{cron!r}] names task {name!r}, which does not exist; "
                    f"known tasks: {', '.join(known) or 'none (add files under tasks/)'}"
                )
        schedule[cron.strip()] = names
    return schedule


def task_claim(storage: Storage) -> Claim | None:
    """A claim on the `tasks` mount (else `data`), so each tick runs once across processes."""
    base = "tasks" if "tasks" in storage.mounts() else "data"
    view = storage.view(base)
    if not view.supports_atomic("nitro:tasks"):
        logger.warning(
            "[nitro:tasks] the %r mount cannot create keys atomically: scheduled tasks will run in "
            "every process that schedules them",
            base,
        )
        return None
    owner = {"host": socket.gethostname(), "pid": os.getpid()}

    async def claim(task: str, tick: str, ttl: float) -> bool:
        stamp = tick.replace(":", "").replace("-", "")  # a key segment, not a key path
        return await view.set_item_if_absent(f"nitro:tasks:{task}:{stamp}", owner, ttl=ttl)

    return claim


def configure_tasks(
    app: NitroApp, manifest: Manifest, config: NitroConfig, *, dev: bool, scheduler: bool
) -> None:
    for entry in manifest.tasks:
        app.tasks.add(
            entry.name, ModuleRef(app.root, entry.file, entry.export, (Task,)), entry.description
        )
    if manifest.preset is not None:  # a build: the preset recorded the checked schedule
        schedule = manifest.preset.schedule()
    else:
        schedule = schedule_from_config(config.scheduled_tasks, app.tasks.names())
    app.tasks.schedule = schedule
    if scheduler and schedule:
        from ..core.scheduler import Scheduler

        app.scheduler = Scheduler(app.tasks, claim=task_claim(app.storage))
    secret = os.environ.get("NITRO_TASKS_SECRET") or None
    if dev or secret:  # a production build without the secret has no endpoints: no import
        from ..core.tasks_endpoints import register_task_endpoints

        register_task_endpoints(app, dev=dev, secret=secret)
