"""Helpers shared by sub-commands."""

from __future__ import annotations

import sys
from pathlib import Path

from ._errors import ProjectError


def project_root(value: str) -> Path:
    """The project directory argument, resolved; an error when it is not a directory."""
    root = Path(value).resolve()
    if not root.is_dir():
        raise ProjectError(f"[nitro] {value} is not a directory")
    return root


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[nitro] {message}", file=sys.stderr, flush=True)
