from __future__ import annotations

import re
from pathlib import Path

import pytest

from nitro.core.app import StartupError
from nitro.core.server_app import as_asgi, is_asgi_app
from nitro.runtime.app import load_app
from nitro.testing import TestClient

pytestmark = pytest.mark.anyio


def project(tmp_path: Path, server: str) -> Path:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "hello.py").write_text("def handler(event):\n    return 'from nitro'\n")
    (tmp_path / "server.py").write_text(server)
    return tmp_path


async def test_a_wsgi_app_is_wrapped_and_serves_the_rest(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n"
        "@app.route('/flask/<name>', methods=['GET', 'POST'])\n"
        "def hello(name):\n"
        "    return {'flask': name, 'body': request.get_data(as_text=True)}\n",
    )
    async with TestClient(load_app(root)) as client:
        assert (await client.get("/hello")).text == "from nitro"
        assert (await client.post("/flask/ada", content=b"payload")).json() == {
            "flask": "ada",
            "body": "payload",
        }
        assert (await client.get("/nothing")).status_code == 404


async def test_a_plain_handler_function_runs_before_routes(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "def handler(event):\n    if event.pathname == '/hello':\n        return 'intercepted'\n",
    )
    async with TestClient(load_app(root)) as client:
        assert (await client.get("/hello")).text == "intercepted"


async def test_something_that_is_not_an_app_fails_startup(tmp_path: Path) -> None:
    root = project(tmp_path, "app = 42\n")
    with pytest.raises(
        StartupError,
        match=re.escape("server.py: `app` must be an ASGI or WSGI application, got int"),
    ):
        await load_app(root).startup()


async def test_a_server_py_that_fails_to_import_names_the_file(tmp_path: Path) -> None:
    root = project(tmp_path, "import missing_framework\napp = None\n")
    with pytest.raises(
        StartupError, match=re.escape("server.py failed to import: ModuleNotFoundError")
    ):
        await load_app(root).startup()


def test_asgi_detection() -> None:
    async def asgi(scope, receive, send): ...

    class AsgiObject:
        async def __call__(self, scope, receive, send): ...

    def wsgi(environ, start_response): ...

    assert is_asgi_app(asgi) and is_asgi_app(AsgiObject())
    assert not is_asgi_app(wsgi)
    assert as_asgi(asgi) is asgi
    assert as_asgi(wsgi) is not wsgi
    with pytest.raises(TypeError, match="ASGI or WSGI"):
        as_asgi(lambda: None)
