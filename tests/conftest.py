from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from helpers import FIXTURE, SERVERS, ServerProcess, free_port, nitro_cli, raw_asgi, raw_http

# Values the request suite expects from runtime config env overrides.
FIXTURE_ENV = {"NITRO_LIMIT": "25", "NITRO_FEATURE_ENABLED": "true"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def build_fixture_copy(root: Path, server: dict[str, object] | None = None) -> Path:
    """A copy of tests/fixture at `root`, built with the server preset (and, with
    `server`, that `server` option added to its config)."""
    shutil.copytree(FIXTURE, root)
    if server is not None:
        with (root / "nitro.config.py").open("a") as config:
            config.write(f"\nconfig = config.replace(server={server!r})\n")
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="session")
def built_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of tests/fixture, built with the server preset."""
    return build_fixture_copy(tmp_path_factory.mktemp("built") / "fixture")


@pytest.fixture(scope="session")
def built_fixture_granian(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture built with ``server={"engine": "granian"}``."""
    return build_fixture_copy(
        tmp_path_factory.mktemp("built-granian") / "fixture", {"engine": "granian"}
    )


@pytest.fixture(scope="session")
def fixture_server(
    built_fixture: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """The built fixture served by `python .output/server/index.py` (real uvicorn)."""
    log = tmp_path_factory.mktemp("logs") / "server.log"
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=built_fixture,
        port=free_port(),
        env=FIXTURE_ENV,
        log=log,
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def granian_fixture_server(
    built_fixture_granian: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """The fixture built for granian, served by its `index.py` (real granian)."""
    server = ServerProcess(
        [sys.executable, ".output/server/index.py"],
        cwd=built_fixture_granian,
        port=free_port(),
        env=FIXTURE_ENV,
        log=tmp_path_factory.mktemp("logs") / "granian.log",
    )
    try:
        server.wait_ready()
        yield server
    finally:
        assert server.stop() == 0, server.logs()


@pytest.fixture(params=["inprocess", *SERVERS])
async def client(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for the fixture project: in-process, or over HTTP to the built
    fixture's server on uvicorn or on granian."""
    if request.param == "inprocess":
        from nitro.testing import TestClient

        for key, value in FIXTURE_ENV.items():
            monkeypatch.setenv(key, value)
        async with TestClient(FIXTURE) as test_client:

            async def raw(target: bytes, method: str = "GET") -> tuple[int, bytes]:
                return await raw_asgi(test_client.app, target, method)

            test_client.raw = raw  # type: ignore[attr-defined]
            yield test_client
    else:
        server: ServerProcess = request.getfixturevalue(SERVERS[request.param])
        async with httpx.AsyncClient(base_url=server.url) as http_client:

            async def raw(target: bytes, method: str = "GET") -> tuple[int, bytes]:
                return raw_http(server.port, target, method.encode())

            http_client.raw = raw  # type: ignore[attr-defined]
            yield http_client
