"""Running a gcp-functions build as Cloud Functions does: functions-framework on the
target Python, in an environment holding only what `requirements.txt` installs
(the buildpack's step), serving `main.py` from the source directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from nitro.bundle.vendor import find_python

from helpers import ServerProcess, free_port, require_service

PYTHON = "3.12"  # the preset's default runtime, python312
VENV = Path.home() / ".cache" / "nitro-tests" / "gcp-functions-py312"


def runtime_python(requirements: Path) -> str:
    """A Python 3.12 venv with exactly `requirements` installed (cached; idempotent)."""
    base = find_python(PYTHON)
    require_service(base is not None, f"Python {PYTHON}", f"pyenv install {PYTHON}")
    assert base is not None
    python = VENV / "bin" / "python"
    if not python.exists():
        shutil.rmtree(VENV, ignore_errors=True)
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True, timeout=300)
    installed = VENV / "installed-requirements.txt"
    wanted = requirements.read_text()
    if not installed.exists() or installed.read_text() != wanted:
        result = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, result.stderr
        installed.write_text(wanted)
    return str(python)


def functions_framework(
    python: str, source: Path, target: str, *, env: dict[str, str], log: Path
) -> ServerProcess:
    """`functions-framework --target TARGET --source main.py` on 127.0.0.1 (started, ready)."""
    port = free_port()
    process = ServerProcess(
        [
            python,
            "-m",
            "functions_framework",
            "--target",
            target,
            "--source",
            "main.py",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=source,
        port=port,
        env={"PYTHONPATH": "", "VIRTUAL_ENV": str(VENV), **env},
        log=log,
    )
    try:
        process.wait_ready(timeout=60)  # GET / also answers (405) on a CloudEvent target
    except BaseException:
        process.stop()
        raise
    return process


def without_nitro(python: str) -> bool:
    """Whether nitro is absent from the runtime (so the build's own copy is what runs)."""
    result = subprocess.run(
        [
            python,
            "-c",
            "import importlib.util, sys; sys.exit(importlib.util.find_spec('nitro') is not None)",
        ],
        capture_output=True,
        cwd="/",  # not the repository, whose nitro/ would be found first
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        timeout=60,
    )
    return result.returncode == 0
