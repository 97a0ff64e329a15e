"""`nitro dev`: a real dev server with reload, run as a user runs it."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers import FIXTURE, ServerProcess, free_port

HANDLER = "from nitro import define_handler\n\n@define_handler\nasync def handler(event):\n    return {{'route': '{name}'}}\n"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    root = tmp_path_factory.mktemp("dev") / "project"
    shutil.copytree(FIXTURE, root)
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "nitro", "dev", str(root), "--port", str(port)],
        cwd=root,
        port=port,
        log=root.parent / "dev.log",
    )
    try:
        server.wait_ready()
        yield server, root
    finally:
        code = server.stop()
        assert code == 0, server.logs()


def poll(url: str, check, timeout: float = 20.0) -> httpx.Response:
    """GET `url` until `check(response)` holds (the dev server reloads in the background)."""
    deadline = time.monotonic() + timeout
    response = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if check(response):
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(
        f"{url} never satisfied the check; last response: {response and response.text[:500]}"
    )


def test_dev_routes_env_and_request_log(dev: tuple[ServerProcess, Path]) -> None:
    server, _ = dev
    assert httpx.get(server.url + "/dev-only").json() == {"dev": True}
    assert httpx.get(server.url + "/mode").json() == {"mode": "default"}
    assert httpx.get(server.url + "/config").json()["dotenv"] == "from-dotenv"
    server.wait_for_log("GET /dev-only 200")


def test_dev_error_page_shows_the_stack(dev: tuple[ServerProcess, Path]) -> None:
    server, _ = dev
    body = httpx.get(server.url + "/errors/crash").json()
    assert body["message"] == "RuntimeError: database password is hunter2"
    assert any("routes/errors/crash.py" in line for line in body["stack"])
    page = httpx.get(server.url + "/errors/crash", headers={"accept": "text/html"})
    assert "Traceback" in page.text and "crash.py" in page.text


def test_new_route_files_are_served_after_reload(dev: tuple[ServerProcess, Path]) -> None:
    server, root = dev
    (root / "routes" / "fresh.py").write_text(HANDLER.format(name="fresh"))
    assert poll(server.url + "/fresh", lambda r: r.status_code == 200).json() == {"route": "fresh"}


def test_a_broken_route_answers_with_the_error_page_until_fixed(
    dev: tuple[ServerProcess, Path],
) -> None:
    server, root = dev
    bad = root / "routes" / "broken.py"
    bad.write_text(
        "from nitro import define_handler\na = define_handler(print)\nb = define_handler(print)\n"
    )
    response = poll(server.url + "/broken", lambda r: r.status_code == 500)
    assert "routes/broken.py: defines several handlers (a, b)" in response.json()["message"]
    assert httpx.get(server.url + "/api/hello").json() == {
        "hello": "world"
    }  # the rest keeps working
    bad.write_text(HANDLER.format(name="fixed"))
    assert poll(server.url + "/broken", lambda r: r.status_code == 200).json() == {"route": "fixed"}


def test_a_broken_config_shows_the_error_and_recovers(dev: tuple[ServerProcess, Path]) -> None:
    server, root = dev
    config = root / "nitro.config.py"
    original = config.read_text()
    config.write_text(original.replace("max_body_size=", "max_body_sise="))
    response = poll(server.url + "/api/hello", lambda r: r.status_code == 500)
    assert (
        "unknown option 'max_body_sise'; did you mean 'max_body_size'" in response.json()["message"]
    )
    config.write_text(original)
    assert poll(server.url + "/api/hello", lambda r: r.status_code == 200).json() == {
        "hello": "world"
    }
