"""What a preset is: mostly data (name, output, commands) plus its build step."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import NitroConfig
from ..core.manifest import Manifest, PresetRecord, Schedule

if TYPE_CHECKING:
    from ..bundle.vendor import Target

__all__ = ["BuildContext", "Preset"]


@dataclass
class BuildContext:
    """Everything a preset's build step needs, and the steps most presets share.

    Example (the shape of a preset's build)::

        ctx.copy_project(ctx.out / "server", public=ctx.out / "server" / "public")
        schedules = [Schedule(cron, tuple(tasks)) for cron, tasks in ctx.schedule().items()]
        ctx.write_entry(ctx.out / "server", "index.py", ENTRY, preset.record(schedules))
    """

    root: Path
    config: NitroConfig
    manifest: Manifest
    out: Path
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr))
    dependencies: dict[str, Any] | None = None
    """What `requirements` found (``{"from": "uv.lock", "locked": true, ...}``); `nitro
    build` records it in nitro.json."""
    secret_store: str = "env"
    """The preset's secret store: its library is installed when the config names a
    secret (`nitro.runtime.secrets`)."""

    def requirements(
        self,
        target: Target,
        *,
        storage_defaults: dict[str, dict[str, Any]] | None = None,
        platform: list[str] | None = None,
    ) -> list[str]:
        """What the app needs where it runs, for `target`: the project's dependencies
        (the versions of its lock file when it has one) and what nitro adds for the
        features it uses; says which file it read."""
        from ..bundle.requirements import target_requirements
        from ..runtime.secrets import secret_requirements

        found = target_requirements(
            self.root,
            self.config,
            target,
            storage_defaults=storage_defaults,
            platform=[*(platform or ()), *secret_requirements(self.config, self.secret_store)],
        )
        if found.locked:
            self.log(
                f"dependencies: the versions locked in {found.source} "
                f"(for Python {target.python} on Linux {target.arch})"
            )
        else:
            self.log(
                f"dependencies: {found.source or 'none declared'} (no lock file: resolved now)"
            )
        self.dependencies = found.describe()
        return found.lines

    def copy_project(self, code_root: Path, *, public: Path) -> None:
        """The project's code to ``code_root/app``, its public assets to `public`,
        indexed in the manifest."""
        from ..bundle.output import copy_public, copy_source

        self.log("copying project code")
        copy_source(self.root, code_root / "app", self.config)
        self.log("indexing public assets")
        self.manifest.public = copy_public(self.root, self.config, public)

    def schedule(self) -> dict[str, list[str]]:
        """`scheduled_tasks` as ``{cron: [task, ...]}``, checked against the project's
        tasks: a bad cron or an unknown task is a `BuildError`."""
        from ..bundle.output import BuildError
        from ..config import ConfigError
        from ..runtime.tasks import schedule_from_config

        try:
            return schedule_from_config(
                self.config.scheduled_tasks, sorted(t.name for t in self.manifest.tasks)
            )
        except ConfigError as exc:
            raise BuildError(f"[nitro:build] {exc}") from exc

    def write_entry(self, code_root: Path, entry: str, source: str, record: PresetRecord) -> None:
        """``code_root/manifest.json`` (routes, tasks, and `record`: what the preset
        hands its entry) and the file the platform runs, ``code_root/entry``: a few
        lines that import the preset's entry module."""
        self.manifest.preset = record
        self.manifest.write(code_root / "manifest.json")
        (code_root / entry).write_text(source, encoding="utf-8")


@dataclass(frozen=True)
class Preset:
    """A deployment target.

    `build` writes the output; `preview` returns the command that serves a build
    locally (run from the project root); `deploy` is the platform's own deploy
    command, recorded in `nitro.json`. The rest is what the built app starts with
    (`record` writes it into the manifest for the entry).
    """

    name: str
    description: str
    build: Callable[[BuildContext], None]
    preview: Callable[[Path], list[str]]
    deploy: str | None = None
    storage_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Mounts this platform provides (the `data` mount on its KV), unless configured."""
    sync_to_thread: bool = True
    """Where sync user code runs by default: False where an instance serves one
    request at a time (a thread hop is then pure cost); the config's wins."""
    serverless: bool = False
    """`event.wait_until` work ends before an invocation returns (a frozen instance
    runs nothing between invocations)."""
    secret_store: str = "env"
    """Where ``{{secret:NAME}}`` values are read at start-up (`nitro.secret_stores`):
    ``aws-ssm``, ``gcp-secret-manager``, ``azure-key-vault``, or the environment."""

    def record(
        self, schedules: Iterable[Schedule] = (), options: Mapping[str, Any] | None = None
    ) -> PresetRecord:
        """What a build of this preset hands its entry: this data, the build's
        `schedules` and the preset's checked `options`."""
        return PresetRecord(
            self.name,
            tuple(schedules),
            self.storage_defaults,
            self.sync_to_thread,
            self.serverless,
            dict(options or {}),
            self.secret_store,
        )
