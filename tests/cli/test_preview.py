"""`nitro preview` of a platform's build says what to install when the platform's
own library is missing here, and the extra it names brings it (issue 14, item 17)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from adapters.builds import tiny_project

from helpers import REPO, nitro_cli


def extras() -> dict[str, list[str]]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["project"]["optional-dependencies"]


@pytest.mark.parametrize(
    ("preset", "module", "library"),
    [
        ("gcp-functions", "functions_framework", "functions-framework"),
        ("azure-functions", "azure.functions", "azure-functions"),
    ],
)
def test_preview_without_the_platform_library_names_the_extra_that_brings_it(
    tmp_path: Path, preset: str, module: str, library: str
) -> None:
    root = tiny_project(tmp_path / "app")
    built = nitro_cli("build", str(root), "--preset", preset, timeout=600)
    assert built.returncode == 0, built.stderr
    # A machine without the library: every Python started here finds no such module.
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "sitecustomize.py").write_text(f"import sys\nsys.modules[{module!r}] = None\n")
    result = nitro_cli("preview", str(root), env={"PYTHONPATH": str(hidden)}, timeout=120)
    assert result.returncode == 1
    assert f'pip install "nitro-py[{preset}]"' in result.stderr
    # That extra brings the library; so do `preview` and `all`.
    assert any(r.startswith(library) for r in extras()[preset])
    assert preset in extras()["preview"][0] and "preview" in extras()["all"][0]
