"""What a preset is: mostly data (name, output, commands) plus its build step."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import NitroConfig
from ..core.manifest import Manifest

__all__ = ["BuildContext", "Preset"]


@dataclass
class BuildContext:
    """Everything a preset's build step needs."""

    root: Path
    config: NitroConfig
    manifest: Manifest
    out: Path
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr))


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
