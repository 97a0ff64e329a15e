"""`nitro init | routes | build | preview` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from adapters.builds import preview_server

from nitro.bundle.output import BuildError, import_check

from helpers import FIXTURE, ServerProcess, free_port, nitro_cli


def test_version_help_and_bad_arguments() -> None:
    assert nitro_cli("--version").stdout.strip() == __import__("nitro").__version__
    assert nitro_cli().returncode == 2
    bad = nitro_cli("build", ".", "--nope")
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr


def test_init_creates_a_project_that_runs(tmp_path: Path) -> None:
    result = nitro_cli("init", str(tmp_path / "app"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    routes = nitro_cli("routes", str(tmp_path / "app"))
    assert routes.stdout.splitlines() == [
        "*       /              routes/index.py",
        "*       /api/hello     api/hello.py",
        "GET     /api/users/:id api/users/[id].get.py",
    ]
    again = nitro_cli("init", str(tmp_path / "app"))
    assert again.returncode == 1 and "is not empty" in again.stderr


def test_the_scaffold_comes_with_a_passing_test(tmp_path: Path) -> None:
    assert nitro_cli("init", str(tmp_path / "app")).returncode == 0
    readme = (tmp_path / "app" / "README.md").read_text()
    assert "`python -m pytest` runs its tests" in readme
    # As its README says: pytest, run in the project, with its own configuration.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path / "app",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "nitro.testing" in (tmp_path / "app" / "tests" / "test_app.py").read_text()


@pytest.mark.anyio
async def test_the_scaffold_answers_requests(tmp_path: Path) -> None:
    assert nitro_cli("init", str(tmp_path / "app")).returncode == 0
    from nitro.testing import TestClient

    async with TestClient(tmp_path / "app", dev=True) as client:
        assert (await client.get("/api/hello?name=you")).json() == {"message": "Hello, you!"}
        assert (await client.get("/api/users/3")).json() == {"id": 3}
        assert (await client.get("/")).headers["x-request-id"]
        assert (await client.get("/robots.txt")).text.startswith("User-agent")


def test_routes_prints_the_table_on_stdout(tmp_path: Path) -> None:
    for rel in ("routes/[...].py", "routes/opt/[[id]].get.py", "routes/blog/[...slug].py"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("def handler(event):\n    return 1\n")
    (tmp_path / "routes" / "ws.py").write_text(
        "from nitro import define_websocket_handler\nws = define_websocket_handler()\n"
    )
    result = nitro_cli("routes", str(tmp_path))
    assert result.returncode == 0
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["*", "/**", "routes/[...].py"],
        ["*", "/blog/**:slug", "routes/blog/[...slug].py"],
        ["GET", "/opt/:id?", "routes/opt/[[id]].get.py"],
        ["WS", "/ws", "routes/ws.py"],
    ]


def test_routes_on_a_broken_project_names_the_files(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "bad.py").write_text("x = 1\n")
    result = nitro_cli("routes", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "routes/bad.py: has no `handler`" in result.stderr
    assert nitro_cli("routes", str(tmp_path / "missing")).returncode == 1


def test_routes_with_a_broken_config_exits_1_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "index.py").write_text("def handler(event):\n    return 1\n")
    config = tmp_path / "nitro.config.py"
    config.write_text(
        "from nitro import define_nitro_config\nconfig = define_nitro_config(rout_rules={})\n"
    )
    result = nitro_cli("routes", str(tmp_path))
    assert (result.returncode, result.stdout) == (1, "")
    assert "unknown option 'rout_rules'; did you mean 'route_rules'?" in result.stderr
    config.write_text("import missing_module\n")
    result = nitro_cli("routes", str(tmp_path))
    assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr
    # The table shows where the routes answer: under `base_url`.
    config.write_text("config = {'base_url': '/app/'}\n")
    result = nitro_cli("routes", str(tmp_path))
    assert result.stdout.split() == ["*", "/app", "routes/index.py"]


def test_build_writes_the_server_output(built_fixture: Path) -> None:
    out = built_fixture / ".output"
    assert (out / "server" / "index.py").is_file()
    assert (out / "server" / "app" / "routes" / "users" / "[id].get.py").is_file()
    assert (out / "server" / "app" / "nitro.config.py").is_file()
    assert not (out / "server" / "app" / ".env").exists()
    assert not (out / "server" / "app" / "public").exists()
    assert (out / "public" / "style.css.br").is_file()
    info = json.loads((out / "nitro.json").read_text())
    assert info["preset"] == "server"
    assert info["commands"]["preview"] == "python .output/server/index.py"
    assert set(info["versions"]) == {"nitro", "python"}
    manifest = json.loads((out / "server" / "manifest.json").read_text())
    assert manifest["public"]["/style.css"]["encodings"] == {
        "br": "style.css.br",
        "gzip": "style.css.gz",
    }
    assert manifest["public"]["/hello.txt"]["max_age"] == 60
    assert "/.secret" not in manifest["public"]
    files = {r["route"]: r["file"] for r in manifest["routes"]}
    assert files["/users/:id"] == "routes/users/[id].get.py"
    assert files["/mode"] == "routes/mode.prod.py"  # a build keeps production routes only
    assert "/dev-only" not in files


def test_build_reports_bad_files_and_unknown_presets(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "a.py").write_text(
        "from nitro import define_handler\nx = define_handler(print)\ny = define_handler(print)\n"
    )
    result = nitro_cli("build", str(tmp_path))
    assert result.returncode == 1
    assert "routes/a.py: defines several handlers (x, y)" in result.stderr
    assert not (tmp_path / ".output").exists()
    unknown = nitro_cli("build", str(tmp_path), "--preset", "mainframe")
    assert unknown.returncode == 2
    assert "unknown preset 'mainframe' (choose from " in unknown.stderr
    assert "aws-lambda" in unknown.stderr and "server" in unknown.stderr


def test_import_check_fails_on_a_broken_entry(tmp_path: Path) -> None:
    (tmp_path / "index.py").write_text("import not_installed_anywhere\napp = object()\n")
    with pytest.raises(
        BuildError, match="ModuleNotFoundError: No module named 'not_installed_anywhere'"
    ):
        import_check(tmp_path, "index.py")
    (tmp_path / "ok.py").write_text("value = 1\n")
    with pytest.raises(BuildError, match="defines no app"):
        import_check(tmp_path, "ok.py")


def test_preview_serves_the_build_and_stops_cleanly_on_sigterm(
    built_fixture: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "closed"
    server = preview_server(
        built_fixture, tmp_path / "preview.log", env={"FIXTURE_CLOSE_MARKER": str(marker)}
    )
    try:
        server.wait_ready()
        config = httpx.get(server.url + "/config").json()
        assert config["dotenv"] == "from-dotenv"  # preview loads .env
        assert httpx.get(server.url + "/mode").json() == {"mode": "prod"}
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.logs()
    assert marker.read_text() == "closed"  # close hooks ran on shutdown
    assert "loaded .env: FIXTURE_DOTENV" in server.logs()


def test_preview_without_a_build_says_so(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / "routes", tmp_path / "routes")
    result = nitro_cli("preview", str(tmp_path))
    assert result.returncode == 1
    assert "run `nitro build` first" in result.stderr


def test_server_entry_honours_port_env(built_fixture: Path, tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=built_fixture,
        port=port,
        env={"NITRO_PORT": "", "PORT": str(port)},
        log=tmp_path / "server.log",
    )
    try:
        server.wait_ready()
        assert httpx.get(server.url + "/api/hello").json() == {"hello": "world"}
    finally:
        assert server.stop() == 0
