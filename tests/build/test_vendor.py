"""Vendoring for a target platform (talks to the package index, as builds do)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nitro.build.output import BuildError, import_check
from nitro.build.vendor import (
    Target,
    copy_nitro,
    dir_size,
    find_python,
    project_requirements,
    vendor,
    zip_dir,
)


def test_project_requirements_from_pyproject_or_requirements_txt(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "httpx>=0.27  # client\n-r other.txt\n\nnitro-py\nPyYAML==6.0.2\n"
    )
    assert project_requirements(tmp_path) == ["httpx>=0.27", "PyYAML==6.0.2"]
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["nitro_py[redis]>=0.1", "orjson"]\n'
    )
    assert project_requirements(tmp_path) == ["orjson"]


def test_vendoring_installs_wheels_for_the_target_and_strips_excluded_packages(
    tmp_path: Path,
) -> None:
    target = tmp_path / "vendor"
    vendor(
        ["six==1.16.0", "jmespath"],
        target,
        Target(python="3.12", arch="aarch64"),
        exclude=["jmespath"],
    )
    assert (target / "six.py").is_file()
    assert not (target / "jmespath").exists()
    assert not list(target.glob("jmespath-*.dist-info"))
    assert list(target.glob("six-1.16.0.dist-info"))


def test_a_dependency_without_a_wheel_for_the_target_fails_naming_it(tmp_path: Path) -> None:
    with pytest.raises(
        BuildError, match=r"no wheel of nitro-no-such-package-9f2c for Python 3\.12 on Linux x86_64"
    ):
        vendor(["nitro-no-such-package-9f2c"], tmp_path / "v", Target())


def test_nitro_is_copied_without_bytecode(tmp_path: Path) -> None:
    copy_nitro(tmp_path / "vendor")
    assert (tmp_path / "vendor" / "nitro" / "core" / "app.py").is_file()
    assert not list((tmp_path / "vendor").rglob("__pycache__"))


def test_the_isolated_import_check_sees_only_what_ships(tmp_path: Path) -> None:
    python = find_python("3.12")
    if python is None:
        pytest.skip("no Python 3.12 on this machine")
    shipped = tmp_path / "vendor"
    (shipped / "shipped_pkg").mkdir(parents=True)
    (shipped / "shipped_pkg" / "__init__.py").write_text("VALUE = 1\n")
    (tmp_path / "ok.py").write_text("import shipped_pkg\napp = shipped_pkg.VALUE\n")
    import_check(tmp_path, "ok.py", python=python, paths=[shipped])
    # starlette is installed on this machine but not shipped: the platform would not have it.
    (tmp_path / "bad.py").write_text("import starlette\napp = 1\n")
    with pytest.raises(BuildError, match="No module named 'starlette'"):
        import_check(tmp_path, "bad.py", python=python, paths=[shipped])


def test_zip_is_deterministic(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("x" * 1000)
    first = zip_dir(tmp_path / "src", tmp_path / "one.zip")
    second = zip_dir(tmp_path / "src", tmp_path / "two.zip")
    assert (
        first == second
        and (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    )
    assert dir_size(tmp_path / "src") == 1000
