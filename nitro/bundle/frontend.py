"""Building the Vite front-end into the output's public assets.

`nitro build` runs ``npx vite build`` in the front-end's root, into a staging
directory under ``.output/`` (`FRONTEND_DIR`); `copy_public` then adds it to the
public assets after ``public/``, so a file of ``public/`` wins on a clash. Files in
Vite's hashed assets folder are served ``public, max-age=31536000, immutable``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ..config import NitroConfig
from ..config.frontend import Frontend, MissingToolError, find_frontend, vite_base_args
from ..core.utils.static import PublicDir
from .output import BuildError

__all__ = [
    "FRONTEND_DIR",
    "IMMUTABLE_MAX_AGE",
    "SPA_DOCUMENT",
    "build_frontend",
    "frontend_public_dirs",
]

FRONTEND_DIR = ".frontend"
"""Where `nitro build` stages Vite's output (under ``.output``) for `copy_public`."""
IMMUTABLE_MAX_AGE = 31_536_000  # one year: the longest max-age caches honour
SPA_DOCUMENT = "/index.html"


def build_frontend(
    root: Path, config: NitroConfig, staged: Path, log: Callable[[str], None]
) -> Frontend | None:
    """Run ``vite build`` for the project's front-end into `staged` (None without one).

    Vite's output goes to stderr line by line, prefixed ``[vite]``; a failed build
    is a `BuildError` (`nitro build` exits 1).
    """
    frontend = find_frontend(root, config)
    if frontend is None:
        return None
    try:
        frontend.check_installed()
    except MissingToolError as exc:
        raise BuildError(str(exc)) from None
    args = ["build", "--outDir", str(staged), "--emptyOutDir", *vite_base_args(config.base_url)]
    command = frontend.command(*args, *frontend.build_args)
    log(f"building the front-end in {frontend.shown_from(root)}: {' '.join(command)}")
    code = run_prefixed(command, cwd=frontend.root)
    if code != 0:
        raise BuildError(
            f"[nitro:vite] `vite build` failed in {frontend.root} (exit {code}): "
            "its output is above"
        )
    if not (staged / SPA_DOCUMENT.lstrip("/")).is_file() and frontend.spa_fallback:
        log("the front-end build has no index.html: no SPA fallback")
    return frontend


def frontend_public_dirs(staged: Path, frontend: Frontend) -> list[PublicDir]:
    """The staged build as public directories: its hashed assets folder first (immutable),
    then the rest (``index.html``, files Vite copied from its own ``public/``)."""
    if not staged.is_dir():
        return []
    assets = frontend.assets_dir
    return [
        PublicDir(staged / assets, "/" + assets, IMMUTABLE_MAX_AGE, immutable=True),
        PublicDir(staged),
    ]


def run_prefixed(command: list[str], *, cwd: Path, prefix: str = "[vite] ") -> int:
    """Run `command`, copying its output (stdout and stderr) to our stderr line by
    line with `prefix`; returns its exit code."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    for line in iter(process.stdout.readline, b""):
        text = line.decode("utf-8", "replace").rstrip()
        if text:
            print(prefix + text, file=sys.stderr, flush=True)
    return process.wait()
