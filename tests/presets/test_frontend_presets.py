"""The built front-end on every cloud preset: the hashed assets and the SPA fallback
(deep links get index.html, other misses keep their 404) through each platform's
built function, and on Vercel through the CDN's routes (`nitro preview`)."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from adapters.builds import preview_server

from frontend_support import fullstack_project
from helpers import nitro_cli

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
PAGE = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture(autouse=True)
def _keep_sys_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_app puts the project on it
    yield


def build(tmp_path: Path, preset: str) -> Path:
    root = fullstack_project(tmp_path)
    result = nitro_cli("build", str(root), "--preset", preset, timeout=600)
    assert result.returncode == 0, result.stderr
    return root


def lambda_event(path: str, accept: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "accept": accept},
        "requestContext": {"http": {"method": "GET", "path": path, "sourceIp": "1.2.3.4"}},
    }


def test_aws_lambda_function_serves_the_front_end(tmp_path: Path) -> None:
    from nitro.presets.aws_lambda import entry

    root = build(tmp_path, "aws-lambda")
    handler = entry.create_handler(root / ".output" / "server")
    try:

        def body(answer: dict[str, Any]) -> str:
            raw = answer.get("body", "")
            return base64.b64decode(raw).decode() if answer.get("isBase64Encoded") else raw

        index = handler(lambda_event("/", PAGE), None)
        assert index["statusCode"] == 200 and "/assets/index-" in body(index)
        deep = handler(lambda_event("/some/client/route", PAGE), None)
        assert deep["statusCode"] == 200 and body(deep) == body(index)
        assert handler(lambda_event("/some/client/route", "*/*"), None)["statusCode"] == 404
        assert handler(lambda_event("/api/missing", PAGE), None)["statusCode"] == 404
        script = body(index).split('src="', 1)[1].split('"', 1)[0]
        asset = handler(lambda_event(script, "*/*"), None)
        assert asset["headers"]["cache-control"] == "public, max-age=31536000, immutable"
    finally:
        handler.close()


@pytest.mark.parametrize("preset", ["gcp-functions", "azure-functions"])
async def test_functions_serve_the_front_end(tmp_path: Path, preset: str) -> None:
    from nitro.testing import TestClient

    root = build(tmp_path, preset)
    server = root / ".output" / "server"
    if preset == "gcp-functions":
        from nitro.runtime.app import load_app

        app = load_app(
            server / "app", manifest=server / "manifest.json", public_dir=server / "public"
        )
    else:
        from nitro.presets.azure_functions import entry

        app = entry.create_app(server)
    async with TestClient(app) as client:
        index = await client.get("/", headers={"accept": PAGE})
        deep = await client.get("/some/client/route", headers={"accept": PAGE})
        assert deep.status_code == 200 and deep.text == index.text
        assert (await client.get("/some/client/route")).status_code == 404
        assert (await client.get("/api/missing", headers={"accept": PAGE})).status_code == 404


def test_vercel_serves_assets_from_the_cdn_and_deep_links_from_the_function(
    tmp_path: Path,
) -> None:
    from adapters.vercel_support import python312

    python312()  # the build import-checks the function with it
    root = build(tmp_path, "vercel")
    output = root / ".vercel" / "output"
    assert (output / "static" / "index.html").is_file()
    function = output / "functions" / "__nitro.func"
    assert (function / "public" / "index.html").is_file()  # the fallback's own copy
    assert not (function / "public" / "assets").exists()  # the rest is the CDN's
    server = preview_server(root, tmp_path / "preview.log")
    try:
        server.wait_ready(timeout=60, path="/api/hello")
        index = httpx.get(server.url + "/")
        script = index.text.split('src="', 1)[1].split('"', 1)[0]
        asset = httpx.get(server.url + script)
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        deep = httpx.get(server.url + "/some/client/route", headers={"accept": PAGE})
        assert deep.status_code == 200 and deep.text == index.text
        assert httpx.get(server.url + "/some/client/route").status_code == 404
        assert httpx.get(server.url + "/api/missing", headers={"accept": PAGE}).status_code == 404
        assert httpx.get(server.url + "/api/hello").json() == {"message": "Hello from nitro"}
    finally:
        assert server.stop() == 0, server.logs()
