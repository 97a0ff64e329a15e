"""When /_openapi.json and /_docs exist, what a build writes, `nitro openapi`, the
docs page's files, and a project without pydantic."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from nitro.core.openapi import docs_page
from nitro.runtime.app import load_app
from nitro.testing import TestClient

from helpers import FIXTURE, nitro_cli
from typed_project import write_project

pytestmark = pytest.mark.anyio

SMALL = {
    "routes/users/[id].get.py": "def handler(id: int):\n    '''One user.'''\n    return {'id': id}\n",
}


def config(text: str) -> dict[str, str]:
    return {"nitro.config.py": f"from nitro import define_nitro_config\nconfig = {text}\n"}


async def test_production_has_no_docs_unless_asked(tmp_path: Path) -> None:
    root = write_project(tmp_path, SMALL)
    async with TestClient(root) as client:
        assert (await client.get("/_openapi.json")).status_code == 404
        assert (await client.get("/_docs")).status_code == 404
    assert "/_openapi.json" not in [route for route, _, _ in load_app(root).router.entries()]


async def test_production_serves_them_with_openapi_production(tmp_path: Path) -> None:
    root = write_project(
        tmp_path, {**SMALL, **config("define_nitro_config(openapi={'production': True})")}
    )
    async with TestClient(root) as client:
        document = (await client.get("/_openapi.json")).json()
        assert (await client.get("/_docs")).status_code == 200
    assert document["paths"]["/users/{id}"]["get"]["summary"] == "One user."


def test_the_build_writes_the_document_and_the_built_app_serves_that_file(
    tmp_path: Path,
) -> None:
    root = write_project(
        tmp_path / "project",
        {**SMALL, **config("define_nitro_config(openapi={'production': True, 'title': 'Small'})")},
    )
    result = nitro_cli("build", str(root))
    assert result.returncode == 0, result.stderr
    server = root / ".output" / "server"
    built = json.loads((server / "openapi.json").read_text())
    validate(built)
    assert built["info"]["title"] == "Small"
    assert "openapi" not in json.loads((server / "manifest.json").read_text())
    # The built app answers with the build's file (made once, at build time): mark it.
    built["info"]["title"] = "from the build"
    (server / "openapi.json").write_text(json.dumps(built))
    code = (
        "import asyncio, json, httpx\n"
        "from pathlib import Path\n"
        "from nitro.runtime.app import load_app\n"
        f"server = Path({str(server)!r})\n"
        "app = load_app(server / 'app', manifest=server / 'manifest.json')\n"
        "async def main():\n"
        "    transport = httpx.ASGITransport(app=app)\n"
        "    async with httpx.AsyncClient(transport=transport, base_url='http://x') as c:\n"
        "        print((await c.get('/_openapi.json')).json()['info']['title'])\n"
        "asyncio.run(main())\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "from the build"


def test_a_build_without_openapi_production_writes_no_document(built_fixture: Path) -> None:
    assert not (built_fixture / ".output" / "server" / "openapi.json").exists()


def test_nitro_openapi_prints_the_document(tmp_path: Path) -> None:
    result = nitro_cli("openapi", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    validate(document)
    assert "/api/items/{id}" in document["paths"]
    assert "/dev-only" not in document["paths"]  # the production routes, as built
    broken = write_project(tmp_path, {"routes/[bad.py": "def handler(event):\n    return 1\n"})
    result = nitro_cli("openapi", str(broken))
    assert result.returncode == 1 and "routes/[bad.py" in result.stderr


def test_without_pydantic_paths_methods_and_params_are_still_documented(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "routes/points/[id].get.py": "import dataclasses\n\n"
            "@dataclasses.dataclass\nclass Point:\n    x: int\n\n"
            "def handler(id: int) -> Point:\n    return Point(id)\n",
            "routes/points/index.post.py": "def handler(event) -> list[int]:\n    return []\n",
        },
    )
    code = (
        "import sys\n"
        "sys.modules['pydantic'] = None  # as if it were not installed\n"
        "from nitro.cli import main\n"
        f"sys.exit(main(['openapi', {str(root)!r}]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    validate(document)
    get = document["paths"]["/points/{id}"]["get"]
    assert get["parameters"][0]["schema"] == {"type": "integer"}
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {"type": "object"}
    post = document["paths"]["/points"]["post"]["responses"]["200"]["content"]
    assert post["application/json"]["schema"] == {"type": "array", "items": {"type": "integer"}}


async def test_the_docs_page_and_its_files_are_served_by_the_app(tmp_path: Path) -> None:
    root = write_project(tmp_path, SMALL)
    async with TestClient(root, dev=True) as client:
        page = await client.get("/_docs")
        css = await client.get("/_docs/swagger-ui.css")
        script = await client.get("/_docs/swagger-ui-bundle.js")
        init = await client.get("/_docs/init.js")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN, nothing remote
    assert '<script src="/_docs/swagger-ui-bundle.js">' in page.text
    assert css.headers["content-type"].startswith("text/css") and len(css.content) > 10_000
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in script.content
    assert '"validatorUrl": null' in init.text  # no badge fetched from swagger.io


async def test_without_the_extra_the_docs_page_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec

    def without_swagger_ui(name: str, *args: Any) -> Any:
        return None if name == "swagger_ui" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_swagger_ui)
    docs_page.asset.cache_clear()
    try:
        root = write_project(tmp_path, SMALL)
        async with TestClient(root, dev=True) as client:
            response = await client.get("/_docs/swagger-ui-bundle.js")
            document = await client.get("/_openapi.json")
    finally:
        docs_page.asset.cache_clear()
    assert response.status_code == 500
    assert 'pip install "nitro-py[openapi]"' in response.json()["message"]
    assert document.status_code == 200  # the document needs no extra
