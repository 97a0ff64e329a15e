"""Deploying with a platform's own CLI (`nitro deploy gcp|azure|vercel`).

The build records the exact commands in ``.output/nitro.json``; a preset's
``deploy`` module turns them into `Step`s (its `Platform`), and `run_steps` runs them
when the platform's CLI is on ``PATH``. Without it, they are printed (stdout) with
what to install (stderr), and the deploy fails.

| platform | preset | CLI | steps (the preset's ``deploy.py``) |
|---|---|---|---|
| gcp | gcp-functions | gcloud | ``gcloud functions deploy`` (+ with `scheduled_tasks`: the topic, the tasks function, one Cloud Scheduler job per cron) |
| azure | azure-functions | func | ``func azure functionapp publish NAME`` in ``.output/server`` |
| vercel | vercel | vercel | ``vercel deploy --prebuilt`` |

AWS deploys with boto3 instead (`nitro.presets.aws_lambda.deploy`).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DeployError

__all__ = ["Platform", "Step", "expand", "run_steps"]


@dataclass(frozen=True)
class Platform:
    """A platform whose own CLI deploys a build: `name` (``nitro deploy NAME``), the
    `preset` it deploys, the CLI `tool` and how to `install` it, and the `steps` that
    deploy a build from its ``nitro.json``."""

    name: str
    preset: str
    tool: str
    install: str
    steps: Callable[[Path, dict[str, Any]], list[Step]]


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
