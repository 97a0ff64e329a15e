"""gcp-functions options and the gcloud commands that deploy a build.

Deploying is three steps, all recorded in `.output/nitro.json` (``commands`` and
``gcp_functions.schedules``):

1. the HTTP function (entry point `handler`);
2. when `scheduled_tasks` is set: the Pub/Sub topic and the CloudEvent function
   (entry point `tasks`) it triggers;
3. one Cloud Scheduler job per cron (5-field unix cron, time zone UTC) publishing
   ``{"nitro:cron": "<cron>"}`` to that topic. One job per cron, not per task: the
   job count stays the cron count (Cloud Scheduler bills per job), the function
   runs every task of the tick, each to its end, and which tasks a cron runs
   changes with a redeploy of the function, never of the jobs.

https://cloud.google.com/sdk/gcloud/reference/functions/deploy,
https://cloud.google.com/sdk/gcloud/reference/scheduler/jobs/create/pubsub
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...bundle.output import BuildError, check_options
from ...bundle.requirements import project_name
from ...config import NitroConfig
from ..cron import CronError, to_unix

__all__ = ["OPTIONS", "GcpOptions", "deploy_commands", "options", "schedule_jobs", "topic"]

OPTIONS = ("runtime", "name", "region", "memory", "timeout")
EVENT_TIMEOUT_LIMIT = 540  # https://cloud.google.com/functions/docs/configuring/timeout


@dataclass(frozen=True)
class GcpOptions:
    """The `gcp_functions` config, checked, with defaults."""

    runtime: str
    name: str
    region: str
    memory: str
    timeout: int

    @property
    def python(self) -> str:
        """The runtime's Python version: ``python312`` -> ``3.12``."""
        return f"3.{self.runtime.removeprefix('python3')}"


def options(root: Path, config: NitroConfig) -> GcpOptions:
    """`gcp_functions={...}` from the config; a bad value is a `BuildError`."""
    raw = dict(config.gcp_functions)
    check_options("gcp_functions", raw, OPTIONS)
    runtime = str(raw.get("runtime", "python312"))
    if not re.fullmatch(r"python3\d{1,2}", runtime):
        raise BuildError(
            f"[nitro:build] gcp_functions: runtime {runtime!r} is not a Python runtime id such as 'python312'"
        )
    name = str(raw.get("name") or _function_name(root))
    if not re.fullmatch(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?", name):
        raise BuildError(
            f"[nitro:build] gcp_functions: function name {name!r}: use lower-case letters, digits "
            "and hyphens, starting with a letter (set gcp_functions={'name': ...})"
        )
    timeout = raw.get("timeout", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 3600:
        raise BuildError("[nitro:build] gcp_functions: timeout must be 1-3600 seconds")
    return GcpOptions(
        runtime,
        name,
        str(raw.get("region", "us-central1")),
        str(raw.get("memory", "512Mi")),
        timeout,
    )


def _function_name(root: Path) -> str:
    """The project's name as a Cloud Functions name: lower-case letters, digits, dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", project_name(root).lower()).strip("-")
    return slug if slug[:1].isalpha() else f"nitro-{slug}".rstrip("-")


def schedule_jobs(schedule: dict[str, list[str]], opts: GcpOptions) -> list[dict[str, Any]]:
    """One Cloud Scheduler job per cron, publishing ``{"nitro:cron": cron}`` to the topic."""
    jobs = []
    for cron, tasks in schedule.items():
        try:
            unix = to_unix(cron, "Cloud Scheduler")
        except CronError as exc:
            raise BuildError(f"[nitro:build] scheduled_tasks: {exc}") from None
        digest = hashlib.sha1(cron.encode()).hexdigest()[:8]
        job = f"{opts.name}-cron-{digest}"
        message = json.dumps({"nitro:cron": cron})
        command = shlex.join(
            [
                "gcloud", "scheduler", "jobs", "create", "pubsub", job,
                f"--location={opts.region}", f"--schedule={unix}", "--time-zone=UTC",
                f"--topic={topic(opts)}", f"--message-body={message}",
            ]
        )  # fmt: skip
        jobs.append(
            {
                "job": job,
                "cron": cron,
                "schedule": unix,
                "time_zone": "UTC",
                "tasks": tasks,
                "message": {"nitro:cron": cron},
                "command": command,
            }
        )
    return jobs


def topic(opts: GcpOptions) -> str:
    return f"{opts.name}-tasks"


def deploy_commands(
    opts: GcpOptions, env: dict[str, str], jobs: list[dict[str, Any]]
) -> dict[str, str | None]:
    common = [
        "--gen2", f"--runtime={opts.runtime}", f"--region={opts.region}",
        "--source=.output/server", f"--memory={opts.memory}",
    ]  # fmt: skip
    env_flag = [f"--set-env-vars={','.join(f'{k}={v}' for k, v in env.items())}"] if env else []
    http = ["gcloud", "functions", "deploy", opts.name, *common, f"--timeout={opts.timeout}s",
            "--entry-point=handler", "--trigger-http", "--allow-unauthenticated", *env_flag]  # fmt: skip
    commands: dict[str, str | None] = {
        "preview": "functions-framework --target handler --source .output/server/main.py "
        "--host 127.0.0.1 --port 8080",
        "deploy": _shell(http),
        "topic": None,
        "deploy_tasks": None,
        "schedule": None,
    }
    if jobs:
        # Event-driven functions run at most 540 s (HTTP ones 3600 s).
        timeout = min(opts.timeout, EVENT_TIMEOUT_LIMIT)
        events = ["gcloud", "functions", "deploy", f"{opts.name}-tasks", *common,
                  f"--timeout={timeout}s", "--entry-point=tasks", f"--trigger-topic={topic(opts)}",
                  *env_flag]  # fmt: skip
        commands["topic"] = shlex.join(["gcloud", "pubsub", "topics", "create", topic(opts)])
        commands["deploy_tasks"] = _shell(events)
        commands["schedule"] = " && ".join(job["command"] for job in jobs)
    return commands


def _shell(args: list[str]) -> str:
    # `$VAR` stays expandable: the deploy command reads the bucket from the shell.
    return " ".join(a if "$" in a and "'" not in a else shlex.quote(a) for a in args)
