"""Vendoring dependencies for a platform, and measuring what ships (which
requirements ship is `nitro.bundle.requirements`).

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
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .output import BuildError
from .requirements import requirement_name

__all__ = [
    "Target",
    "compile_bytecode",
    "copy_nitro",
    "dir_size",
    "find_python",
    "machine_arch",
    "vendor",
    "zip_dir",
]


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


def compile_bytecode(
    directory: Path, python: str, files: list[Path] | None = None, *, strict: bool = True
) -> None:
    """Compile `files` (default: every module under `directory`) for the target Python,
    as a serverless platform will find them (read-only there: a module without
    bytecode is compiled again on every cold start that imports it). With `strict`,
    a module that does not compile is a BuildError; otherwise it ships as source.

    ``unchecked-hash``: the .pyc is used without comparing the source's mtime (a
    deployment's file times are fixed or rewritten, so mtimes would never match).
    """
    flags = ["-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    targets = ["-i", "-"] if files is not None else [str(directory)]
    result = subprocess.run(
        [python, "-m", "compileall", *flags, *targets],
        input="".join(f"{f}\n" for f in files or ()),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if strict and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-12:])
        raise BuildError(f"[nitro:build] compiling the code root failed:\n{tail}")


def vendor(
    requirements: Iterable[str],
    directory: Path,
    target: Target,
    *,
    exclude: Iterable[str] = (),
) -> None:
    """Install `requirements` into `directory` for `target`.

    `exclude` names packages the platform provides (boto3 on Lambda): they are not
    installed when asked for directly (nor is what only they depend on), and are
    removed when another package pulls them in.
    """
    excluded = {e.lower().replace("-", "_") for e in exclude}
    wanted = sorted(
        {r for r in requirements if requirement_name(r).replace("-", "_") not in excluded}
    )
    directory.mkdir(parents=True, exist_ok=True)
    if wanted:
        _check_pip()
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


MIN_PIP = (24, 2)


def _check_pip() -> None:
    """pip before 24.2 checks a package's Requires-Python against the running Python,
    not `--python-version`, so a 3.12-only package cannot be vendored from 3.11."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("pip")
    except PackageNotFoundError:
        raise BuildError(
            "[nitro:build] vendoring needs pip in this environment: python -m ensurepip"
        ) from None
    parts = tuple(int(p) for p in re.findall(r"\d+", found)[:2])
    if parts < MIN_PIP:
        raise BuildError(
            f"[nitro:build] vendoring for a platform needs pip >= 24.2 (this environment has "
            f"{found}): python -m pip install --upgrade pip"
        )


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


# Never imported where the app runs: the CLI, bundling (build-time only), the test
# client, and of the presets all but the one entry module a build runs (about half
# of nitro's size).
_BUILD_ONLY = {
    "cli",
    "bundle",
    "testing.py",
    "__main__.py",
}


def copy_nitro(
    directory: Path, *, adapter: str | tuple[str, ...] | None = None, preset: str | None = None
) -> None:
    """Copy this nitro package (source only, no build-only code) into `directory`/nitro.

    With `adapter` (``"aws_lambda"``), only that platform's adapter modules are
    copied (``adapters/aws_lambda*.py``; a tuple names several), not every platform's. Of the presets only
    the entry module of `preset` (a folder: ``"aws_lambda"``) ships, with the
    packages around it: ``presets/aws_lambda/entry.py``.
    """
    source = Path(__file__).resolve().parent.parent

    def ignore(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).relative_to(source).as_posix()
        prefix = "" if rel == "." else rel + "/"
        skipped = {n for n in names if n == "__pycache__" or n.endswith(".pyc")}
        skipped |= {n for n in names if prefix + n in _BUILD_ONLY}
        if adapter is not None and rel == "adapters":
            skipped |= {n for n in names if n != "__init__.py" and not n.startswith(adapter)}
        if rel == "presets":
            skipped |= {n for n in names if n not in ("__init__.py", preset)}
        elif rel == f"presets/{preset}":
            skipped |= {n for n in names if n not in ("__init__.py", "entry.py")}
        return skipped

    shutil.copytree(source, directory / "nitro", ignore=ignore, dirs_exist_ok=True)


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


def machine_arch() -> str:
    """This machine's architecture as wheels name it: "x86_64" or "aarch64"."""
    import platform

    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
