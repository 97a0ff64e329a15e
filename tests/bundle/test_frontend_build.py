"""`nitro build` of a full-stack project with the real Vite, and `nitro preview` of it
in a real browser: the front-end in the public assets (public/ winning a clash),
hashed assets cached for a year, the SPA fallback for deep links, and failures that
say what went wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from adapters.builds import preview_server

from frontend_support import chromium, fullstack_project, text_of
from helpers import ServerProcess, nitro_cli

pytestmark = pytest.mark.slow
PAGE = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = fullstack_project(tmp_path_factory.mktemp("vite-build"))
    result = nitro_cli("build", str(root), timeout=300)
    assert result.returncode == 0, result.stderr
    return root, result.stderr


@pytest.fixture(scope="module")
def preview(built: tuple[Path, str]) -> Iterator[ServerProcess]:
    root, _ = built
    server = preview_server(root, root.parent / "preview.log")
    try:
        server.wait_ready(path="/api/hello")
        yield server
    finally:
        assert server.stop() == 0, server.logs()


def test_the_front_end_is_in_the_public_assets(built: tuple[Path, str]) -> None:
    root, stderr = built
    assert "[vite] " in stderr and "built in" in stderr  # Vite's output, prefixed
    public = root / ".output" / "public"
    assert "/src/main.js" not in (public / "index.html").read_text()  # built, not the source
    scripts = list((public / "assets").glob("index-*.js"))
    assert len(scripts) == 1
    assert (public / "front.txt").read_text() == "only in the front-end\n"
    assert (public / "clash.txt").read_text() == "from nitro public/\n"  # public/ wins
    manifest = json.loads((root / ".output" / "server" / "manifest.json").read_text())
    assert manifest["spa_fallback"] == "/index.html"
    asset = manifest["public"][f"/assets/{scripts[0].name}"]
    assert asset["immutable"] is True and asset["max_age"] == 31536000
    # The front-end's sources and packages are not server code.
    app = root / ".output" / "server" / "app"
    assert (app / "api" / "hello.py").is_file()
    assert not (app / "web").exists() and not list(app.rglob("node_modules"))
    assert not (root / ".output" / ".frontend").exists()  # the staging folder is gone


def test_preview_serves_the_page_and_deep_links_in_a_browser(preview: ServerProcess) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(preview.url + "/")
        page.wait_for_function(
            "document.querySelector('#message').textContent === 'api says: Hello from nitro'"
        )
        deep = page.goto(preview.url + "/some/client/route")
        assert deep is not None and deep.status == 200
        page.wait_for_function(
            "document.querySelector('#message').textContent === 'api says: Hello from nitro'"
        )
        assert text_of(page, "#route") == "route: /some/client/route"


def test_preview_caches_hashed_assets_and_keeps_404s(preview: ServerProcess) -> None:
    index = httpx.get(preview.url + "/")
    script = index.text.split('src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/assets/index-")
    asset = httpx.get(preview.url + script)
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "cache-control" not in index.headers  # index.html must be revalidated
    deep = httpx.get(preview.url + "/some/client/route", headers=PAGE)
    assert deep.status_code == 200 and deep.text == index.text
    head = httpx.head(preview.url + "/some/client/route", headers=PAGE)
    assert head.status_code == 200
    assert httpx.get(preview.url + "/server-page").text == "<h1>a nitro route</h1>"
    assert httpx.get(preview.url + "/contact", headers=PAGE).text == index.text
    for path, headers in [
        ("/some/client/route", {"accept": "*/*"}),
        ("/assets/index-missing.js", {"accept": "*/*"}),
        ("/api/missing", PAGE),
    ]:
        assert httpx.get(preview.url + path, headers=headers).status_code == 404, path
    assert httpx.get(preview.url + "/api/missing").json()["status"] == 404


def test_a_failing_vite_build_fails_the_build_with_vites_error(tmp_path: Path) -> None:
    root = fullstack_project(tmp_path)
    (root / "web" / "src" / "label.js").write_text("export const label = ;\n")
    result = nitro_cli("build", str(root), timeout=300)
    assert result.returncode == 1
    assert "[vite] " in result.stderr and "label.js" in result.stderr  # Vite's own error
    assert "[nitro:vite] `vite build` failed in" in result.stderr
    assert not (root / ".output" / "server").exists()


def test_a_vite_root_that_does_not_exist_is_a_config_error(tmp_path: Path) -> None:
    root = fullstack_project(tmp_path)
    (root / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        "config = define_nitro_config(vite={'root': 'frontend'})\n"
    )
    result = nitro_cli("build", str(root), timeout=120)
    assert result.returncode == 1
    assert "[nitro:config] vite root 'frontend' is not a directory" in result.stderr


def test_missing_node_modules_fails_the_build_saying_what_to_run(tmp_path: Path) -> None:
    root = fullstack_project(tmp_path, node_modules=False)
    result = nitro_cli("build", str(root), timeout=120)
    assert result.returncode == 1
    assert "has no node_modules with vite: run `cd " in result.stderr
    assert "&& npm install`" in result.stderr
