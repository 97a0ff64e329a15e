from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from helpers import FIXTURE, SERVERS, ServerProcess, free_port, nitro_cli, raw_asgi, raw_http

# Values the request suite expects from runtime config env overrides.
FIXTURE_ENV = {"NITRO_LIMIT": "25", "NITRO_FEATURE_ENABLED": "true"}


# --- no thread outlives the run ---
# A non-daemon thread still alive when pytest ends keeps the interpreter from exiting:
# the run prints its summary and then hangs until CI's time runs out. So the session
# notes after which test each such thread was first seen, gives them a moment to end,
# and fails the run naming those that do not (then exits, rather than hang).

_first_seen: dict[int, str] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    yield
    for thread in threading.enumerate():
        if not thread.daemon and thread.ident is not None:
            _first_seen.setdefault(thread.ident, item.nodeid)


def _ends_at_exit(thread: threading.Thread) -> bool:
    """A `concurrent.futures` worker (asyncio's default executor too): its module tells it
    to end when the interpreter exits, so an idle one cannot hang the exit."""
    target = getattr(thread, "_target", None)
    return getattr(target, "__module__", None) == "concurrent.futures.thread"


def _leaked_threads(grace: float = 10.0) -> list[threading.Thread]:
    deadline = time.monotonic() + grace
    alive = []
    for thread in threading.enumerate():
        if thread.daemon or thread is threading.main_thread() or _ends_at_exit(thread):
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            alive.append(thread)
    return alive


def pytest_sessionfinish(session: pytest.Session) -> None:
    leaked = _leaked_threads()
    if not leaked:
        return
    report = session.config.get_terminal_writer()
    report.line()
    for thread in leaked:
        seen = _first_seen.get(thread.ident or 0, "before the first test ended")
        report.line(
            f"LEAKED THREAD {thread.name!r} (not a daemon), first seen after {seen}", red=True
        )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    session.config.stash[_LEAKED] = True


_LEAKED = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_LEAKED, False):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(pytest.ExitCode.TESTS_FAILED))  # a leaked thread would hang the exit


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
