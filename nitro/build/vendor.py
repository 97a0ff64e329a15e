"""Vendoring dependencies for a platform, and measuring what ships.

Serverless platforms run what the build hands them, on their own Linux and
Python, so dependencies are installed *for the target*: pip with ``--platform``,
``--python-version`` and ``--only-binary=:all:``. A dependency without a wheel for
the target fails the build, naming it, instead of failing on the platform.
nitro itself is copied from this installation (it need not be on an index).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .output import BuildError

__all__ = [
    "NITRO_RUNTIME",
    "Target",
    "copy_nitro",
    "dir_size",
    "find_python",
    "project_requirements",
    "vendor",
    "zip_dir",
]

# What nitro needs at run time on a platform (the CLI's dev server, file watcher,
# .env loader and in-process scheduler stay home).
NITRO_RUNTIME = ["starlette>=1.0", "anyio>=4.4", "python-multipart>=0.0.18", "httpx>=0.27"]
_SELF = {"nitro-py", "nitro_py", "nitro"}


@dataclass(frozen=True)
class Target:
    """Where the code will run: `python` is "3.12"; `arch` is "x86_64" or "aarch64"."""

    python: str = "3.12"
    arch: str = "x86_64"

    def platforms(self) -> list[str]:
        # glibc 2.17 (manylinux2014) up to 2.34 (Amazon Linux 2023, Debian 12): wheels
        # tagged for any of these load on the platforms' current Linux images.
        return [f"manylinux_2_{minor}_{self.arch}" for minor in (17, 24, 28, 31, 34)] + [
            f"manylinux2014_{self.arch}"
        ]


def project_requirements(root: Path) -> list[str]:
    """The project's dependencies: `[project].dependencies` of `pyproject.toml`, else
    `requirements.txt`; nitro itself is left out (it is copied, not installed)."""
    pyproject = root / "pyproject.toml"
    requirements: list[str] = []
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        requirements = list(data.get("project", {}).get("dependencies", []))
    elif (root / "requirements.txt").is_file():
        for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                requirements.append(line)
    return [r for r in requirements if _name(r) not in _SELF]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def vendor(
    requirements: Iterable[str],
    directory: Path,
    target: Target,
    *,
    exclude: Iterable[str] = (),
) -> None:
    """Install `requirements` into `directory` for `target`; remove `exclude`d packages."""
    wanted = sorted(set(requirements))
    directory.mkdir(parents=True, exist_ok=True)
    if wanted:
        command = [
            sys.executable, "-m", "pip", "install",
            "--target", str(directory),
            "--only-binary=:all:",
            "--implementation", "cp",
            "--python-version", target.python,
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]  # fmt: skip
        for platform in target.platforms():
            command += ["--platform", platform]
        result = subprocess.run([*command, *wanted], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise BuildError(_pip_failure(result.stderr + result.stdout, target))
    excluded = {e.lower().replace("-", "_") for e in exclude}
    for path in list(directory.iterdir()):
        stem = (
            path.name.split("-", 1)[0].lower().replace("-", "_")
            if path.name.endswith(".dist-info")
            else path.name.lower()
        )
        if stem in excluded:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for cache in directory.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(directory / "bin", ignore_errors=True)  # console scripts are of no use there


def _pip_failure(output: str, target: Target) -> str:
    missing = re.findall(r"No matching distribution found for ([^\s]+)", output)
    if missing:
        names = ", ".join(sorted(set(missing)))
        return (
            f"[nitro:build] no wheel of {names} for Python {target.python} on Linux {target.arch}: "
            "it cannot run on the platform. Pin a version that ships such wheels, or replace it"
        )
    tail = "\n".join(line for line in output.strip().splitlines()[-8:])
    return f"[nitro:build] installing dependencies for Python {target.python} ({target.arch}) failed:\n{tail}"


def copy_nitro(directory: Path) -> None:
    """Copy this nitro package (source only) into `directory`/nitro."""
    source = Path(__file__).resolve().parent.parent
    shutil.copytree(
        source,
        directory / "nitro",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def zip_dir(directory: Path, archive: Path) -> int:
    """Zip `directory`'s contents (deterministic order and timestamps); returns the size."""
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(
                    path.relative_to(directory).as_posix(), date_time=(1980, 1, 1, 0, 0, 0)
                )
                info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return archive.stat().st_size


def find_python(version: str) -> str | None:
    """An interpreter of `version` ("3.12") on this machine: this one, pyenv's, or PATH's.

    Each candidate is run once to confirm its version: a pyenv shim on PATH exists
    even when that version is not the active one, and then refuses to start.
    """
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        str(p / "bin" / "python")
        for p in sorted((pyenv_root / "versions").glob(f"{version}.*"), reverse=True)
    ]
    found = shutil.which(f"python{version}")
    if found:
        candidates.append(found)
    for candidate in candidates:
        try:
            printed = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if printed == version:
            return candidate
    return None


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
