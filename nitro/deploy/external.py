"""`nitro deploy gcp|azure|vercel`: the platform's own CLI runs the deploy.

The build records the exact commands in ``.output/nitro.json``; this turns them
into argument lists and runs them when the CLI is on ``PATH``. Without it, they
are printed (stdout) with what to install (stderr), and the deploy fails.

| platform | preset | CLI | commands |
|---|---|---|---|
| gcp | gcp-functions | gcloud | ``gcloud functions deploy`` (+ with `scheduled_tasks`: the topic, the tasks function, one Cloud Scheduler job per cron) |
| azure | azure-functions | func | ``func azure functionapp publish NAME`` in ``.output/server`` |
| vercel | vercel | vercel | ``vercel deploy --prebuilt`` |

The Pub/Sub topic and the scheduler jobs are created only when ``describe`` says
they are not there (jobs that are, are updated), so a second run succeeds too.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DeployError

__all__ = ["PLATFORMS", "Platform", "Step", "built_info", "expand", "run_steps", "steps"]


@dataclass(frozen=True)
class Platform:
    name: str
    preset: str
    tool: str
    install: str


PLATFORMS = {
    "gcp": Platform(
        "gcp", "gcp-functions", "gcloud",
        "the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then `gcloud auth login`",
    ),
    "azure": Platform(
        "azure", "azure-functions", "func",
        "Azure Functions Core Tools 4 (`npm install -g azure-functions-core-tools@4`) and the "
        "Azure CLI (`az login`); create the function app first (see docs/platforms/azure-functions.md)",
    ),
    "vercel": Platform(
        "vercel", "vercel", "vercel",
        "the Vercel CLI (`npm install -g vercel`), then `vercel login` and `vercel link`",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One command: `argv` (``$VAR`` expanded when run) in `cwd`, printed as `display`
    (the shell line recorded in nitro.json). With `unless`, skipped when that command
    succeeds, or, with `otherwise`, replaced by `otherwise` then."""

    argv: list[str]
    cwd: Path
    display: str
    unless: list[str] | None = None
    otherwise: list[str] | None = field(default=None)


_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def expand(argv: list[str], environ: Mapping[str, str]) -> list[str]:
    """`argv` with its ``$VAR``s taken from `environ` (as the recorded shell line would)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise DeployError(
                f"[nitro:deploy] `{shlex.join(argv[:3])} ...` needs ${name}: set {name} and deploy again"
            )
        return environ[name]

    return [_VAR.sub(value, part) for part in argv]


def steps(platform: Platform, root: Path, info: dict[str, Any]) -> list[Step]:
    """The commands that deploy the build `info` (``.output/nitro.json``)."""
    commands = info.get("commands", {})
    if platform.name == "vercel":
        return [Step(["vercel", "deploy", "--prebuilt"], root, "vercel deploy --prebuilt")]
    if platform.name == "azure":
        argv = ["func", "azure", "functionapp", "publish", str(info["azure_functions"]["app_name"])]
        return [Step(argv, root / ".output" / "server", f"cd .output/server && {shlex.join(argv)}")]
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


def run_steps(
    platform: Platform,
    plan: list[Step],
    environ: Mapping[str, str],
    log: Callable[[str], None],
    out: Callable[[str], None],
) -> None:
    """Run the steps with the platform's CLI, or print them when it is not installed."""
    if shutil.which(platform.tool, path=environ.get("PATH")) is None:
        for step in plan:
            out(step.display)
        raise DeployError(
            f"[nitro:deploy] {platform.tool} is not installed (not on PATH): install "
            f"{platform.install}; then run the command(s) above from the project root"
        )
    runnable = [(step, expand(step.argv, environ)) for step in plan]
    for number, (step, argv) in enumerate(runnable, 1):
        if step.unless is not None:
            found = subprocess.run(step.unless, cwd=step.cwd, capture_output=True, check=False)
            if found.returncode == 0:
                if step.otherwise is None:
                    log(f"[{number}/{len(plan)}] already there: {shlex.join(step.unless)}")
                    continue
                argv = expand(step.otherwise, environ)
        log(f"[{number}/{len(plan)}] {shlex.join(argv)}")
        # The CLI's stdout (the deployment's URL) stays ours; its progress is on stderr.
        result = subprocess.run(argv, cwd=step.cwd, check=False)
        if result.returncode != 0:
            raise DeployError(
                f"[nitro:deploy] `{shlex.join(argv)}` failed (exit {result.returncode})"
            )


def built_info(root: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((root / ".output" / "nitro.json").read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None
