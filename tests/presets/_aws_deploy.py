"""Shared by the deploy tests: the project they deploy, and a CLI run's output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG = """from nitro.config import define_nitro_config

config = define_nitro_config(
    scheduled_tasks={SCHEDULE},
    aws_lambda={OPTIONS},
    storage={STORAGE},
)
"""
SCHEDULE = {"*/5 * * * *": ["cms:update"], "0 3 * * *": ["db:cleanup", "report"]}
OPTIONS = {"memory": 512, "timeout": 20, "environment": {"LOG_LEVEL": "info"}}


def write_project(
    root: Path,
    schedule: dict[str, list[str]],
    options: dict[str, Any],
    storage: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A project named "shop": one route, four tasks, `schedule`, `aws_lambda=options`,
    `storage` (none: the default `data` mount)."""
    (root / "routes").mkdir(parents=True, exist_ok=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'shop'\n")
    for task in ("cms/update", "db/cleanup", "report", "mail/digest"):
        path = root / "tasks" / f"{task}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "from nitro import define_task\n\n\n@define_task\n"
            "def task(payload, context):\n    return 'done'\n"
        )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "0.1.0"\ndependencies = []\n'
    )
    config = (
        CONFIG.replace("{SCHEDULE}", repr(schedule))
        .replace("{OPTIONS}", repr(options))
        .replace("{STORAGE}", repr(storage or {}))
    )
    (root / "nitro.config.py").write_text(config)
    return root


@dataclass
class Run:
    code: int
    lines: list[str]  # stdout
    err: str  # stderr

    @property
    def plan(self) -> list[str]:
        return [line for line in self.lines if not line.startswith(("https://", "wss://"))]

    def actions(self) -> dict[str, str]:
        """``{"TYPE NAME": action}`` from the plan lines."""
        return {" ".join(line.split()[1:3]): line.split()[0] for line in self.plan}
