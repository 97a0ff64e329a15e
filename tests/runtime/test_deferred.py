"""Start-up secrets are not build inputs: `nitro build` imports the entry without
resolving ``{{VAR}}`` options, and its import check still fails on what the platform
would lack (issue 14, item 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nitro.bundle.output import BuildError, import_check
from nitro.bundle.requirements import NITRO_RUNTIME
from nitro.bundle.vendor import Target, copy_nitro, find_python, vendor

from helpers import nitro_cli, require_service

SECRET_CONFIG = """{
    "storage": {"data": {"driver": "redis", "url": "{{REDIS_URL}}"}},
    "database": {"default": {"connector": "postgresql", "url": "{{DATABASE_URL}}"}},
    "websocket": {"redis_url": "{{REDIS_URL}}"},
}"""


def secret_project(root: Path, config: str = SECRET_CONFIG, imports: str = "") -> Path:
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    (root / "nitro.config.py").write_text(
        f"{imports}from nitro.config import define_nitro_config\n"
        f"config = define_nitro_config(**{config})\n"
    )
    return root


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "DATABASE_URL", "KV_URL"):
        monkeypatch.delenv(name, raising=False)


def python312() -> str:
    python = find_python("3.12")
    require_service(python is not None, "Python 3.12", "pyenv install 3.12")
    assert python is not None
    return python


@pytest.mark.usefixtures("no_secrets")
def test_a_server_build_needs_no_start_up_secret_and_start_up_still_resolves_them(
    tmp_path: Path,
) -> None:
    root = secret_project(tmp_path / "app")
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    assert "import-checking" in result.stderr
    # The secret is still required where it belongs: when the built server starts.
    started = subprocess.run(
        [sys.executable, str(root / ".output" / "server" / "index.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "storage['data'].url uses {{REDIS_URL}}, but REDIS_URL is not set" in started.stderr


@pytest.mark.usefixtures("no_secrets")
def test_an_isolated_lambda_build_needs_no_start_up_secret(tmp_path: Path) -> None:
    python312()
    root = secret_project(tmp_path / "app")
    result = nitro_cli("build", str(root), "--preset", "aws-lambda")
    assert result.returncode == 0, result.stderr
    assert "import-checking index.py with Python 3.12" in result.stderr


@pytest.mark.usefixtures("no_secrets")
def test_the_import_check_still_fails_on_a_library_the_build_did_not_ship(
    tmp_path: Path,
) -> None:
    """The config imports PyYAML (installed here, not a project dependency): Lambda
    would not have it, so the build fails before saying done."""
    python312()
    root = secret_project(tmp_path / "app", imports="import yaml  # noqa: F401\n")
    result = nitro_cli("build", str(root), "--preset", "aws-lambda")
    assert result.returncode == 1
    assert "the built entry index.py failed to import" in result.stderr
    assert "No module named 'yaml'" in result.stderr


@pytest.mark.usefixtures("no_secrets")
def test_a_waiting_mount_still_needs_its_driver_library_where_the_app_runs(
    tmp_path: Path,
) -> None:
    """A mount waiting for REDIS_URL is not made, but the redis library it will need at
    start-up must ship: without it the check fails as start-up would."""
    python = python312()
    root = secret_project(tmp_path / "app")
    shipped = tmp_path / "vendor"
    vendor(NITRO_RUNTIME, shipped, Target(python="3.12"))  # nitro's runtime, not redis
    copy_nitro(shipped)
    entry = tmp_path / "entry.py"
    entry.write_text(f"from nitro.runtime.app import load_app\napp = load_app({str(root)!r})\n")
    with pytest.raises(BuildError, match=r"\[nitro:storage:redis\] needs 'redis'"):
        import_check(tmp_path, "entry.py", python=python, paths=[shipped])


@pytest.mark.usefixtures("no_secrets")
def test_prerendering_needs_no_start_up_secret_unless_a_page_uses_it(tmp_path: Path) -> None:
    config = SECRET_CONFIG.replace("{\n", '{\n    "prerender": {"routes": ["/", "/kv"]},\n', 1)
    root = secret_project(tmp_path / "app", config)
    (root / "routes" / "index.py").write_text(
        "from nitro import html\n\ndef handler(event):\n    return html('<p>hi</p>')\n"
    )
    (root / "routes" / "kv.py").write_text(
        "from nitro import use_storage\n\n"
        "async def handler(event):\n"
        "    return await use_storage('data').get_item('x')\n"
    )
    result = nitro_cli("build", str(root))
    assert result.returncode == 1
    # The page that reads the waiting mount fails (as a 500) ...
    assert "/kv: status 500" in result.stderr and "  /: " not in result.stderr
    # ... and without it the build passes.
    (root / "routes" / "kv.py").unlink()
    config = config.replace('"/kv"', '"/"')
    (root / "nitro.config.py").write_text(
        f"from nitro.config import define_nitro_config\nconfig = define_nitro_config(**{config})\n"
    )
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    assert (root / ".output" / "public" / "index.html").is_file()
