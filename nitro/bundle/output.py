"""The steps every preset's build shares: copy the project, index public assets,
write the manifest and `nitro.json`, and import-check the entry in a clean interpreter."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..config import NitroConfig
from ..core.manifest import PublicAsset
from ..core.utils.static import PublicDir, scan_public
from ..runtime.app import IMPORT_CHECK_ENV, public_dirs
from .compress import compress_public

__all__ = [
    "PRERENDER_DIR",
    "BuildError",
    "built_frontend_dirs",
    "built_info",
    "built_preset",
    "check_options",
    "copy_public",
    "copy_source",
    "import_check",
    "reset_dir",
    "write_nitro_json",
]

# Never shipped: build output, environments, VCS, caches, local data and secrets.
SOURCE_IGNORE = (
    ".output",
    ".vercel",
    ".venv",
    "venv",
    ".git",
    ".hg",
    "node_modules",
    "__pycache__",
    "*.pyc",
    ".data",
    ".env",
    ".env.*",
    "local.settings.json",  # Azure Functions' local secrets
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "public",
)


PRERENDER_DIR = ".prerender"
"""Where `nitro build` stages prerendered pages (under ``.output``) for `copy_public`."""


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def check_options(section: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """A `BuildError` for the first option of a preset's `section` it does not know.

    Example::

        check_options("docker", {"pyhton": "3.12"}, ["python"])
        # BuildError: [nitro:build] docker: unknown option 'pyhton' (options: python)
    """
    known = list(known)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise BuildError(
            f"[nitro:build] {section}: unknown option {unknown[0]!r} (options: {', '.join(known)})"
        )


def reset_dir(path: Path) -> None:
    """Empty `path` (creating it), refusing anything that is not a build directory."""
    if path.exists():
        if not (path / "nitro.json").exists() and any(path.iterdir()) and path.name != ".output":
            raise BuildError(
                f"[nitro:build] refusing to empty {path}: it is not a nitro build output"
            )
        shutil.rmtree(path)
    path.mkdir(parents=True)


def copy_source(root: Path, dest: Path, config: NitroConfig | None = None) -> None:
    """Copy the project's code (routes, config, helpers, assets) to `dest`; public
    asset directories (`public/` and `config.public_assets`) ship separately."""
    ignore_root = shutil.ignore_patterns(*SOURCE_IGNORE)
    public = {d.dir.resolve() for d in public_dirs(root, config)} if config else set()
    if config is not None:
        # A front-end in its own folder is built into the public assets: its sources
        # (and their node_modules) have no business on the server.
        from ..config.frontend import find_frontend

        frontend = find_frontend(root, config)
        if frontend is not None and frontend.root != root.resolve():
            public.add(frontend.root)

    def ignore(directory: str, names: list[str]) -> set[str]:
        # node_modules anywhere: JavaScript packages never run on the Python server.
        ignored = set(
            shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")(directory, names)
        )
        if Path(directory) == root:
            ignored |= set(ignore_root(directory, names))
        if public:
            ignored |= {n for n in names if (Path(directory) / n).resolve() in public}
        return ignored

    shutil.copytree(root, dest, ignore=ignore, dirs_exist_ok=True)


def copy_public(root: Path, config: NitroConfig, dest: Path) -> dict[str, PublicAsset]:
    """Copy every public directory to `dest` (under its base URL), with the pages
    `nitro build` prerendered and, with `compress_public_assets`, ``.br``/``.gz``
    twins; return the asset index."""
    dest.mkdir(parents=True, exist_ok=True)
    dirs = public_dirs(root, config)
    prerendered = root / ".output" / PRERENDER_DIR
    if prerendered.is_dir():
        dirs.append(PublicDir(prerendered))  # after public/: a real file wins, as at runtime
    dirs += built_frontend_dirs(root, config)  # after public/: its files win on a clash
    copied: list[PublicDir] = []
    for public in dirs:
        if public.dir.is_dir():
            target = dest / public.base_url.strip("/")
            shutil.copytree(public.dir, target, dirs_exist_ok=True, copy_function=_copy_new)
            copied.append(public._replace(dir=target))
    if config.compress_public_assets:
        compress_public(dest)
    # Directories copied into one another are indexed once, first listed first: the
    # hashed front-end assets before the directory that now also holds them.
    copied.sort(key=lambda public: not public.immutable)
    return scan_public(copied)


def built_frontend_dirs(root: Path, config: NitroConfig) -> list[PublicDir]:
    """The public directories of the front-end `nitro build` staged (none without one)."""
    from ..config.frontend import find_frontend
    from .frontend import FRONTEND_DIR, frontend_public_dirs

    staged = root / ".output" / FRONTEND_DIR
    frontend = find_frontend(root, config) if staged.is_dir() else None
    return frontend_public_dirs(staged, frontend) if frontend is not None else []


def _copy_new(source: str, dest: str) -> None:
    # Where public directories overlap, the first one's file is the one served.
    if not os.path.exists(dest):
        shutil.copy2(source, dest)


def write_nitro_json(
    out: Path, preset: str, commands: dict[str, str | None], extra: dict[str, Any] | None = None
) -> None:
    """`nitro.json`: what was built, when, with which versions, and how to run it."""
    from .. import __version__

    info: dict[str, Any] = {
        "preset": preset,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": {"nitro": __version__, "python": platform.python_version()},
        "commands": commands,
    }
    if extra:
        info.update(extra)
    (out / "nitro.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def import_check(
    directory: Path,
    entry: str,
    *,
    python: str | None = None,
    attribute: str = "app",
    paths: list[Path] | None = None,
    also: Iterable[str] = (),
) -> list[Path]:
    """Import `entry` in a fresh interpreter (cwd `directory`) and check it defines `attribute`;
    then import the modules `also` names (ones the deployed app imports at start but
    the check may not, such as the driver of a mount that waits for a deployed setting).

    With `paths`, the interpreter is isolated (``-I -S``: no site-packages, no env)
    and sees only those directories, as the platform will: a dependency the build
    did not ship fails here, not at the first request on the platform.

    The entry is imported, not started: `IMPORT_CHECK_ENV` tells `load_app` that
    mounts and connections whose ``{{VAR}}`` is not set wait for start-up (only
    their drivers and libraries are checked), so no production secret is needed.

    Returns the source files under `directory` that importing the entry loaded
    (what a cold start imports).
    """
    prelude = (
        f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n" if paths is not None else ""
    )
    code = (
        prelude + "import json, runpy, sys\n"
        f"ns = runpy.run_path({entry!r}, run_name='nitro_import_check')\n"
        f"assert {attribute!r} in ns, 'the entry defines no {attribute}'\n"
        f"for name in {list(also)!r}: __import__(name)\n"
        "files = [getattr(m, '__file__', None) for m in list(sys.modules.values())]\n"
        "print(json.dumps([f for f in files if f and f.endswith('.py')]))\n"
    )
    # -B: the isolated check may see files outside the output (what a platform
    # provides, linked from this environment); it writes no bytecode anywhere.
    flags = ["-I", "-S", "-B"] if paths is not None else []
    result = subprocess.run(
        [python or sys.executable, *flags, "-c", code],
        cwd=directory,
        env={**os.environ, IMPORT_CHECK_ENV: "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        tail = "\n".join(detail[-12:])
        raise BuildError(f"[nitro:build] the built entry {entry} failed to import:\n{tail}")
    root = directory.resolve()
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    return [Path(f) for f in loaded if Path(f).resolve().is_relative_to(root)]


def built_info(root: Path) -> dict[str, Any] | None:
    """The build's ``.output/nitro.json``, or None when there is no readable one."""
    try:
        info = json.loads((root / ".output" / "nitro.json").read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def built_preset(root: Path) -> str | None:
    """The preset of the build in ``.output/`` (None when there is none)."""
    info = built_info(root) or {}
    return str(info["preset"]) if "preset" in info else None
