"""Vendoring for a target platform (talks to the package index, as builds do)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nitro.bundle.output import BuildError, import_check
from nitro.bundle.requirements import NITRO_RUNTIME, project_requirements, runtime_requirements
from nitro.bundle.vendor import Target, copy_nitro, dir_size, find_python, vendor, zip_dir
from nitro.config import NitroConfig

from helpers import FIXTURE, require_service


def test_project_requirements_from_pyproject_or_requirements_txt(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "httpx>=0.27  # client\n-r other.txt\n\nnitro-py\nPyYAML==6.0.2\n"
    )
    assert project_requirements(tmp_path) == ["httpx>=0.27", "PyYAML==6.0.2"]
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["nitro_py>=0.1", "orjson"]\n'
    )
    assert project_requirements(tmp_path) == ["orjson"]


def test_the_extras_a_project_asks_of_nitro_are_vendored(tmp_path: Path) -> None:
    # nitro is copied into a build, not installed: the libraries of the extras the
    # project names must be vendored by name, or their imports fail on the platform.
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n'
        'dependencies = ["nitro_py[Pydantic, redis]>=0.1; python_version >= \'3.11\'", "orjson"]\n'
    )
    wanted = project_requirements(tmp_path)
    assert wanted[0] == "orjson"
    assert sorted(wanted[1:]) == ["pydantic>=2.7", "redis>=5.0"]


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


def test_nitro_is_copied_without_bytecode_or_build_only_code(tmp_path: Path) -> None:
    copy_nitro(tmp_path / "vendor", adapter="aws_lambda", preset="aws_lambda")
    shipped = tmp_path / "vendor" / "nitro"
    assert (shipped / "core" / "app.py").is_file()
    assert (shipped / "runtime" / "app.py").is_file()
    assert (shipped / "runtime" / "scan.py").is_file()
    assert not list((tmp_path / "vendor").rglob("__pycache__"))
    for build_only in ("cli", "bundle", "testing.py"):
        assert not (shipped / build_only).exists(), build_only
    # Of the presets, only the entry module the build runs (and its packages).
    presets = sorted(p.relative_to(shipped).as_posix() for p in (shipped / "presets").rglob("*"))
    assert presets == [
        "presets/__init__.py",
        "presets/aws_lambda",
        "presets/aws_lambda/__init__.py",
        "presets/aws_lambda/entry.py",
    ]
    assert sorted(p.name for p in (shipped / "adapters").iterdir()) == [
        "__init__.py",
        "aws_lambda.py",
        "aws_lambda_asgi.py",
        "aws_lambda_http.py",
        "aws_lambda_runtime.py",
        "aws_lambda_source.py",
        "aws_lambda_stream.py",
        "aws_lambda_tasks.py",
        "aws_lambda_websocket.py",
        "aws_lambda_websocket_topics.py",
    ]


def test_the_trimmed_copy_runs_an_app(tmp_path: Path) -> None:
    """What ships must be enough: load the fixture with only the copied nitro importable."""
    copy_nitro(tmp_path / "vendor", adapter="uvicorn")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import nitro, nitro.runtime.app, nitro.adapters.uvicorn\n"
        "assert nitro.__file__.startswith(sys.argv[1]), nitro.__file__\n"
        "app = nitro.runtime.app.load_app(sys.argv[2])\n"
        "assert app.router.match('GET', '/') is not None"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "vendor"), str(FIXTURE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_runtime_requirements_follow_what_the_project_uses(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pillow>=10\nnitro-py\n")
    plain = runtime_requirements(tmp_path, NitroConfig())
    assert plain == sorted([*NITRO_RUNTIME, "pillow>=10"])  # nitro itself is copied, not installed
    used = NitroConfig(
        storage={"data": {"driver": "redis", "url": "redis://x"}},
        database={"default": {"connector": "postgresql", "url": "postgresql://x"}},
        scheduled_tasks={"* * * * *": ["a"]},
        route_rules={"/api/**": {"proxy": {"to": "https://up.example/**"}}, "/x": {"proxy": "/y"}},
    )
    wanted = runtime_requirements(
        tmp_path,
        used,
        storage_defaults={"data": {"driver": "gcs"}, "cache": {"driver": "upstash"}},
        platform=["functions-framework>=3.10"],
    )
    for requirement in ("redis>=5.0", "psycopg[binary]>=3.1", "croniter>=2.0", "httpx>=0.27"):
        assert requirement in wanted, requirement
    assert "functions-framework>=3.10" in wanted
    assert "google-cloud-storage>=2.14" not in wanted  # the project's data mount replaced it
    assert len(wanted) == len(set(wanted))
    # An internal proxy needs no HTTP client.
    assert "httpx>=0.27" not in runtime_requirements(
        tmp_path, NitroConfig(route_rules={"/x": {"proxy": "/y"}})
    )


def test_the_isolated_import_check_sees_only_what_ships(tmp_path: Path) -> None:
    python = find_python("3.12")
    require_service(python is not None, "Python 3.12", "pyenv install 3.12")
    assert python is not None
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


def test_an_old_pip_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pip < 24.2 checks Requires-Python against the running Python, not the target's.
    monkeypatch.setattr("importlib.metadata.version", lambda name: "23.2.1")
    with pytest.raises(BuildError, match=r"needs pip >= 24.2 \(this environment has 23.2.1\)"):
        vendor(["anyio"], tmp_path / "vendor", Target(python="3.12"))
