"""What a preset is: mostly data (name, output, commands) plus its build step."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import NitroConfig
from ..core.manifest import Manifest

if TYPE_CHECKING:
    from ..bundle.vendor import Target

__all__ = ["BuildContext", "Preset"]


@dataclass
class BuildContext:
    """Everything a preset's build step needs, and the steps most presets share.

    Example (the shape of a preset's build)::

        ctx.copy_project(ctx.out / "server", public=ctx.out / "server" / "public")
        ctx.manifest.platform = {"storage_defaults": STORAGE_DEFAULTS}
        ctx.write_entry(ctx.out / "server", "index.py", ENTRY)
    """

    root: Path
    config: NitroConfig
    manifest: Manifest
    out: Path
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr))
    dependencies: dict[str, Any] | None = None
    """What `requirements` found (``{"from": "uv.lock", "locked": true, ...}``); `nitro
    build` records it in nitro.json."""

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
        from ..bundle.vendor import target_requirements

        found = target_requirements(
            self.root,
            self.config,
            target,
            storage_defaults=storage_defaults,
            platform=platform or (),
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

    def write_entry(self, code_root: Path, entry: str, source: str) -> None:
        """``code_root/manifest.json`` (routes, tasks, `platform`) and the entry module
        the platform runs, ``code_root/entry``."""
        self.manifest.write(code_root / "manifest.json")
        (code_root / entry).write_text(source, encoding="utf-8")


@dataclass(frozen=True)
class Preset:
    """A deployment target.

    `build` writes the output; `preview` returns the command that serves a build
    locally (run from the project root); `deploy` is the platform's own deploy
    command, recorded in `nitro.json`.
    """

    name: str
    description: str
    build: Callable[[BuildContext], None]
    preview: Callable[[Path], list[str]]
    deploy: str | None = None
    storage_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Mounts this platform provides (the `data` mount on its KV), unless configured."""
