"""The document checked by real tools: openapi-spec-validator for every fixture
project, schemathesis against `nitro dev` (no server error, no answer the schema
contradicts), and the docs page rendered by a headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from helpers import FIXTURE, REPO, ServerProcess, free_port, nitro_cli
from typed_project import write_project

FIXTURE_ENV = {"NITRO_LIMIT": "25", "NITRO_FEATURE_ENABLED": "true"}
PROJECTS = {
    "fixture": FIXTURE,
    "examples": REPO / "examples",
    "websocket_fixture": REPO / "tests" / "websocket_fixture",
}
# The checks that compare answers with the document (schemathesis's others probe
# an API's semantics: e.g. that invalid input is refused, which nitro cannot know
# of an untyped handler).
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_every_fixture_project_validates(name: str) -> None:
    result = nitro_cli("openapi", str(PROJECTS[name]), env=FIXTURE_ENV)
    assert result.returncode == 0, result.stderr
    validate(json.loads(result.stdout))


def test_the_typed_project_validates(tmp_path: Path) -> None:
    result = nitro_cli("openapi", str(write_project(tmp_path)))
    assert result.returncode == 0, result.stderr
    validate(json.loads(result.stdout))


@pytest.fixture(scope="module")
def fixture_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _started(FIXTURE, tmp_path_factory.mktemp("fixture-dev"))


@pytest.fixture(scope="module")
def examples_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _started(REPO / "examples", tmp_path_factory.mktemp("examples-dev"))


def _started(source: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    port = free_port()
    root = tmp_path / source.name
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".data", "__pycache__"))
    server = ServerProcess(
        [sys.executable, "-m", "nitro", "dev", str(root), "--port", str(port)],
        cwd=root,
        port=port,
        env=FIXTURE_ENV,
        log=tmp_path / "dev.log",
    )
    try:
        server.wait_ready(path="/_openapi.json")
        yield server
    finally:
        server.stop()


def schemathesis(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """`st run` on the server's document: 20 examples per operation, a fixed seed,
    positive and negative data."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{server.url}/_openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            "20",
            "--seed",
            "1",
            "--workers",
            "1",
            "--mode",
            "all",
            "--generation-database",
            "none",
            "--no-color",
            "--report-dir",
            str(server.log_path.parent / "schemathesis"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=server.log_path.parent,
    )


@pytest.mark.slow
def test_schemathesis_finds_nothing_in_the_fixture(fixture_dev: ServerProcess) -> None:
    result = schemathesis(
        fixture_dev,
        # a route that always crashes, on purpose (the error-page tests use it)
        "--exclude-path",
        "/errors/crash",
        # the credentials the fixture's guarded folders ask for
        "-H",
        "x-admin: yes",
        "-H",
        "Authorization: Basic YWRhOmxvdmVsYWNlOjE4MTU=",  # ada:lovelace:1815
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


@pytest.mark.slow
def test_schemathesis_finds_nothing_in_the_example_app(examples_dev: ServerProcess) -> None:
    result = schemathesis(examples_dev)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (./scripts/test installs it with apt-get)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@pytest.mark.slow
def test_the_docs_page_renders_the_routes_in_a_headless_browser(
    examples_dev: ServerProcess, tmp_path: Path
) -> None:
    # --virtual-time-budget lets the page fetch the document and render it before
    # the DOM is dumped. The page needs nothing but the app (no network here).
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{examples_dev.url}/_docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    for path in ("/api/notes", "/api/notes/{id}", "/login", "/account"):
        assert f'data-path="{path}"' in dom, f"{path} not rendered:\n{dom[-3000:]}"
    assert "Add a note." in dom  # a docstring's first line, as the summary
