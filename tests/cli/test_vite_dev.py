"""`nitro dev` with a Vite front-end, as a user runs it: the real Vite from npm as its
child, a real browser (headless Chromium) on nitro's port, hot reload through the
proxied WebSocket, and no Vite or node process left behind, however it stops."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from frontend_support import chromium, fullstack_project, processes_in, text_of
from helpers import ServerProcess, free_port, nitro_cli

pytestmark = pytest.mark.slow


def start_dev(root: Path, log: Path) -> ServerProcess:
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "nitro", "dev", str(root), "--port", str(port)],
        cwd=root,
        port=port,
        log=log,
    )
    server.wait_ready(timeout=90, path="/api/hello")
    return server


def wait_until(check, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout}s")


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    root = fullstack_project(tmp_path_factory.mktemp("vite-dev"))
    server = start_dev(root, root.parent / "dev.log")
    try:
        yield server, root
    finally:
        assert server.stop() == 0, server.logs()


def test_the_page_calls_the_api_and_hot_reloads_through_nitros_port(
    dev: tuple[ServerProcess, Path],
) -> None:
    server, root = dev
    with chromium() as browser:
        page = browser.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.goto(server.url + "/")
        page.wait_for_function(
            "document.querySelector('#message').textContent === 'api says: Hello from nitro'"
        )
        # Vite's client connected its hot-reload socket to nitro's port, not Vite's.
        assert sockets and all(f"127.0.0.1:{server.port}" in url for url in sockets), sockets
        page.evaluate("window.__loadedOnce = true")
        label = root / "web" / "src" / "label.js"
        label.write_text('export const label = "edited";\n')
        page.wait_for_function(
            "document.querySelector('#message').textContent === 'edited: Hello from nitro'",
            timeout=20_000,
        )
        assert page.evaluate("window.__loadedOnce") is True  # updated in place, not reloaded
        assert text_of(page, "#route") == "route: /"
    server.wait_for_log("[vite]")  # Vite's output, prefixed
    assert "Local:" not in server.logs()  # its banner would point at Vite's own port


def test_routes_and_api_come_first_and_misses_stay_nitros(
    dev: tuple[ServerProcess, Path],
) -> None:
    server, _ = dev
    assert httpx.get(server.url + "/server-page").text == "<h1>a nitro route</h1>"
    assert httpx.get(server.url + "/clash.txt").text == "from nitro public/\n"  # public/ first
    assert httpx.get(server.url + "/front.txt").text == "only in the front-end\n"  # Vite's
    missing = httpx.get(server.url + "/api/missing", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "404" in missing.text
    deep = httpx.get(server.url + "/some/client/route", headers={"accept": "text/html"})
    assert (
        deep.status_code == 200 and '<div id="app"' not in deep.text and "/src/main.js" in deep.text
    )


def test_an_app_reload_keeps_the_one_vite(dev: tuple[ServerProcess, Path]) -> None:
    server, root = dev
    web = root / "web"
    before = processes_in(web)
    assert before, "Vite is not running in web/"
    hello = root / "api" / "hello.py"
    hello.write_text(hello.read_text().replace("Hello from nitro", "Hello again"))
    wait_until(
        lambda: httpx.get(server.url + "/api/hello").json() == {"message": "Hello again"},
        what="the reloaded route",
    )
    assert processes_in(web) == before
    assert httpx.get(server.url + "/src/label.js").status_code == 200


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_stopping_nitro_dev_leaves_no_vite_or_node_behind(tmp_path: Path, how: str) -> None:
    root = fullstack_project(tmp_path)
    web = (root / "web").resolve()
    server = start_dev(root, tmp_path / "dev.log")
    assert processes_in(web), server.logs()
    workers = children_of(server.process.pid)  # uvicorn's app process (and its tracker)
    code = server.stop(getattr(signal, how))
    try:
        if how != "SIGKILL":
            assert code == 0, server.logs()
        wait_until(lambda: not processes_in(web), timeout=15, what="no process left in web/")
    finally:
        for pid in workers:  # a SIGKILLed reloader cannot stop uvicorn's worker: we do
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_a_vite_that_died_is_a_502_with_a_readable_message(tmp_path: Path) -> None:
    root = fullstack_project(tmp_path)
    server = start_dev(root, tmp_path / "dev.log")
    try:
        for pid in processes_in((root / "web").resolve()):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not processes_in((root / "web").resolve()), what="Vite gone")
        started = time.monotonic()
        response = httpx.get(server.url + "/src/main.js", timeout=10)
        assert time.monotonic() - started < 5
        assert response.status_code == 502
        assert "[nitro:vite] Vite's dev server" in response.json()["message"]
        assert httpx.get(server.url + "/api/hello").status_code == 200  # the API lives on
    finally:
        server.stop()


def test_missing_node_modules_says_what_to_run(tmp_path: Path) -> None:
    root = fullstack_project(tmp_path, node_modules=False)
    result = nitro_cli("dev", str(root), "--port", str(free_port()), timeout=60)
    assert result.returncode == 1
    assert "has no node_modules with vite: run `cd " in result.stderr
    assert "&& npm install`" in result.stderr


def test_a_vite_that_cannot_start_fails_nitro_dev_with_its_output(tmp_path: Path) -> None:
    root = fullstack_project(tmp_path)
    (root / "web" / "vite.config.js").write_text("export default {\n")  # a syntax error
    result = nitro_cli("dev", str(root), "--port", str(free_port()), timeout=90)
    assert result.returncode == 1
    assert "[vite] " in result.stderr  # Vite's own error, prefixed
    assert "[nitro:vite] Vite's dev server exited with code 1 before it answered" in result.stderr
    assert "Traceback" not in result.stderr
    assert not processes_in((root / "web").resolve())
