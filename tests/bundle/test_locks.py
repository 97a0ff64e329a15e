"""Builds install the versions of the project's lock file (issue 14, item 3).

tests/bundle/locks/locked-app holds real lock files, written by uv 0.13 for a project
that depends on a local editable nitro-py, idna (locked at an old 3.6), httpx with
its http2 extra, tomli below Python 3.12 and colorama on Windows, with a `yaml`
extra and a `dev` group: ``uv lock``, then ``uv export --no-dev`` as pylock.toml
and as requirements.txt.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from nitro.bundle.locks import find_lock
from nitro.bundle.output import BuildError
from nitro.bundle.requirements import NITRO_RUNTIME
from nitro.bundle.vendor import find_python

from helpers import nitro_cli, require_service

LOCKED_APP = Path(__file__).parent / "locks" / "locked-app"
LOCK_FILES = ("uv.lock", "pylock.toml", "requirements.txt")
# The project's runtime closure for CPython 3.12 on Linux, with nitro's runtime.
CLOSURE = {
    "anyio==4.16.0",
    "certifi==2026.10.19.post1",
    "h11==0.16.0",
    "h2==4.1.0",
    "hpack==4.2.0",
    "httpcore==1.0.9",
    "httpx==0.29.0",
    "hyperframe==6.1.0",
    "idna==3.6",
    "python-multipart==0.0.34",
    "starlette==1.10.0",
    "typing-extensions==4.16.0",
}
# What nitro-py alone needs (its dev server, pip), as the flat lock files list it.
NITRO_ONLY = {"click==8.5.1", "pip==26.3", "uvicorn==0.55.0"}


def project(tmp_path: Path, lock: str) -> Path:
    """The locked app with only `lock` of its lock files."""
    root = tmp_path / "locked-app"
    root.mkdir(parents=True)
    shutil.copy(LOCKED_APP / "pyproject.toml", root)
    shutil.copy(LOCKED_APP / lock, root)
    return root


def read(root: Path, python: str = "3.12"):
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    return find_lock(root, project="locked-app", declared=declared, python=python, arch="x86_64")


def test_uv_lock_gives_the_runtime_closure_for_the_target(tmp_path: Path) -> None:
    lock = read(project(tmp_path, "uv.lock"))
    assert lock is not None and lock.file == "uv.lock"
    # Not: tomli (Python < 3.12 only, though this machine runs 3.11), colorama (Windows),
    # pyyaml (an extra), pytest & co. (dev group), nitro-py (copied) and what only it
    # needs (uvicorn, click, pip), nor the project itself.
    assert set(lock.requirements(NITRO_RUNTIME)) == CLOSURE
    older = read(project(tmp_path / "311", "uv.lock"), python="3.11")
    assert older is not None and "tomli==2.5.0" in older.requirements(NITRO_RUNTIME)


@pytest.mark.parametrize("file", ["pylock.toml", "requirements.txt"])
def test_flat_lock_files_give_every_package_they_list_for_the_target(
    tmp_path: Path, file: str
) -> None:
    lock = read(project(tmp_path, file))
    assert lock is not None and lock.file == file
    # A flat file has no graph: all it lists for the target (no dev group: exported
    # --no-dev), so also what only nitro-py needs. The editable nitro-py is skipped.
    assert set(lock.requirements(NITRO_RUNTIME)) == CLOSURE | NITRO_ONLY


def test_nitro_additions_take_the_locked_version_or_resolve_when_not_locked(
    tmp_path: Path,
) -> None:
    lock = read(project(tmp_path, "uv.lock"))
    assert lock is not None
    wanted = lock.requirements([*NITRO_RUNTIME, "redis>=5.0", "uvicorn>=0.30"])
    assert "redis>=5.0" in wanted  # not in the lock: resolved as usual
    assert "uvicorn==0.55.0" in wanted and "click==8.5.1" in wanted  # locked, with its needs
    # A library nitro needs with an extra keeps the extra (its packages come with it).
    assert "anyio[trio]==4.16.0" in lock.requirements(["anyio[trio]>=4.4"])
    with pytest.raises(BuildError, match=r"uv.lock locks starlette 1.10.0, but nitro needs"):
        lock.requirements(["starlette>=99"])


@pytest.mark.parametrize("file", LOCK_FILES)
def test_a_lock_that_misses_a_declared_dependency_is_out_of_date(tmp_path: Path, file: str) -> None:
    root = project(tmp_path, file)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"idna>=3.0",', '"idna>=3.0", "rich",'))
    with pytest.raises(BuildError, match=rf"{file} does not lock rich, a dependency"):
        read(root)


def test_a_package_from_a_local_directory_cannot_be_installed_for_the_platform(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, "uv.lock")
    lock_file = root / "uv.lock"
    text = lock_file.read_text()
    registry = 'name = "idna"\nversion = "3.6"\nsource = { registry = "https://pypi.org/simple" }'
    assert registry in text
    lock_file.write_text(
        text.replace(registry, 'name = "idna"\nversion = "3.6"\nsource = { editable = "../idna" }')
    )
    with pytest.raises(BuildError, match=r"idna comes from a local directory \(../idna\)"):
        read(root)


def test_requirements_txt_is_a_lock_only_when_every_requirement_is_pinned(
    tmp_path: Path,
) -> None:
    (tmp_path / "requirements.txt").write_text("idna==3.6\nhttpx>=0.27\n")
    assert find_lock(tmp_path, project=None, declared=[], python="3.12", arch="x86_64") is None


def test_an_aws_lambda_build_installs_the_versions_of_uv_lock(tmp_path: Path) -> None:
    """Through `nitro build`: a fresh resolution would take the newest idna and h2."""
    require_service(find_python("3.12") is not None, "Python 3.12", "pyenv install 3.12")
    root = project(tmp_path, "uv.lock")
    (root / "routes").mkdir()
    (root / "routes" / "index.py").write_text(
        "import h2, idna\n\ndef handler(event):\n    return idna.__version__\n"
    )
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    assert "dependencies: the versions locked in uv.lock (for Python 3.12 on Linux x86_64)" in (
        result.stderr
    )
    vendored = root / ".output" / "server" / "_vendor"
    installed = {
        "==".join(p.name.removesuffix(".dist-info").lower().replace("_", "-").rsplit("-", 1))
        for p in vendored.glob("*.dist-info")
    }
    assert installed == CLOSURE
    info = json.loads((root / ".output" / "nitro.json").read_text())
    assert info["dependencies"]["from"] == "uv.lock" and info["dependencies"]["locked"] is True
    # boto3 for the default DynamoDB `data` mount: not locked, and not shipped (Lambda has it).
    assert set(info["dependencies"]["requirements"]) == CLOSURE | {"boto3>=1.34"}


def test_a_docker_build_writes_the_locked_versions_for_the_image(tmp_path: Path) -> None:
    root = project(tmp_path, "requirements.txt")
    (root / "routes").mkdir()
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    result = nitro_cli("build", str(root), "--preset", "docker")
    assert result.returncode == 0, result.stderr
    assert "the versions locked in requirements.txt" in result.stderr
    written = (root / ".output" / "server" / "requirements.txt").read_text().split()
    assert "idna==3.6" in written and "h2==4.1.0" in written
    # What the image runs, at the locked version; its extra brings its extras.
    assert "uvicorn[standard]==0.55.0" in written
    assert not [line for line in written if line.startswith(("tomli", "colorama", "nitro"))]


def test_uv_lock_brings_the_libraries_of_nitros_extras_the_project_names(tmp_path: Path) -> None:
    """``nitro-py[session]`` in a uv-locked project: nitro is copied, not installed, so
    the lock's cryptography (and what it needs) is installed instead, at its versions.
    (tests/bundle/locks/extras-app/uv.lock: written by uv 0.13 for a project depending
    on a local editable nitro-py stub with `session` and `redis` extras, and idna.)"""
    root = tmp_path / "extras-app"
    shutil.copytree(LOCKED_APP.parent / "extras-app", root)
    lock = find_lock(
        root,
        project="extras-app",
        declared=["nitro-py[session]", "idna>=3.0"],
        python="3.12",
        arch="x86_64",
    )
    assert lock is not None
    wanted = set(lock.requirements([]))
    assert {"cryptography==51.0.1", "cffi==2.1.1", "pycparser==3.12", "idna==3.21"} <= wanted
    assert not any(line.startswith(("redis", "nitro-py", "starlette")) for line in wanted)
