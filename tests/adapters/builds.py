"""What the preset tests build and start: tests/fixture built with a preset, a
tiny project, and `nitro preview` of a build."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import FIXTURE, ServerProcess, free_port, nitro_cli


def build_fixture(
    tmp_path_factory: pytest.TempPathFactory,
    preset: str,
    *,
    prepare: Callable[[Path], object] | None = None,
    timeout: float = 180,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A copy of tests/fixture (changed by `prepare`), built with `preset`; the build
    must succeed. Returns the project root and the build's output."""
    root = tmp_path_factory.mktemp(preset) / "fixture"
    shutil.copytree(FIXTURE, root)
    if prepare is not None:
        prepare(root)
    result = nitro_cli("build", str(root), "--preset", preset, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return root, result


def tiny_project(root: Path, dependencies: list[str] | None = None, config: str = "") -> Path:
    """One route answering "hi"; with `dependencies`, a pyproject.toml (project "tiny")
    that lists them; ``define_nitro_config(<config>)`` in nitro.config.py."""
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    if dependencies is not None:
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "tiny"\nversion = "0"\ndependencies = {json.dumps(dependencies)}\n'
        )
    (root / "nitro.config.py").write_text(
        f"from nitro.config import define_nitro_config\nconfig = define_nitro_config({config})\n"
    )
    return root


def preview_server(built: Path, log: Path, env: dict[str, str] | None = None) -> ServerProcess:
    """`nitro preview` of the build in `built`, on a free port (not yet ready)."""
    port = free_port()
    return ServerProcess(
        [sys.executable, "-m", "nitro", "preview", str(built), "--port", str(port)],
        cwd=built,
        port=port,
        env=env,
        log=log,
    )
