"""`nitro deploy gcp`: the gcloud commands the build recorded, run in order.

The HTTP function; with `scheduled_tasks`, the Pub/Sub topic (made only when
``describe`` does not find it), the tasks function, and one Cloud Scheduler job per
cron (``create``, or ``update`` when ``describe`` finds it), so a second run
succeeds too. The commands come from `gcloud.deploy_commands`, via ``nitro.json``.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from ..platform_cli import Platform, Step

__all__ = ["PLATFORM", "steps"]


def steps(root: Path, info: dict[str, Any]) -> list[Step]:
    """The commands that deploy the build `info` (``.output/nitro.json``)."""
    commands = info.get("commands", {})
    out = [Step(shlex.split(commands["deploy"]), root, commands["deploy"])]
    gcp = info.get("gcp_functions", {})
    if commands.get("topic"):
        describe = ["gcloud", "pubsub", "topics", "describe", str(gcp["topic"])]
        out.append(Step(shlex.split(commands["topic"]), root, commands["topic"], unless=describe))
        out.append(Step(shlex.split(commands["deploy_tasks"]), root, commands["deploy_tasks"]))
    for job in gcp.get("schedules", []):
        create = shlex.split(job["command"])
        location = [a for a in create if a.startswith("--location=")]
        describe = ["gcloud", "scheduler", "jobs", "describe", job["job"], *location]
        update = [("update" if a == "create" else a) for a in create]
        out.append(Step(create, root, job["command"], unless=describe, otherwise=update))
    return out


PLATFORM = Platform(
    "gcp", "gcp-functions", "gcloud",
    "the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then `gcloud auth login`",
    steps,
)  # fmt: skip
