"""`nitro init DIR`: a small project that runs (`nitro dev DIR`) and has a passing test;
`--template vite`: a full-stack one (`init_vite.py`)."""

from __future__ import annotations

import argparse
from pathlib import Path

FILES = {
    "nitro.config.py": """from nitro.config import define_nitro_config

config = define_nitro_config(
    runtime_config={"greeting": "Hello"},
)
""",
    "routes/index.py": """from nitro import define_handler, html


@define_handler
async def handler(event):
    return html("<h1>It works</h1><p>Try <a href=\\"/api/hello?name=you\\">/api/hello</a>.</p>")
""",
    "api/hello.py": """from nitro import define_handler, get_query, use_runtime_config


@define_handler
async def handler(event):
    name = get_query(event).get("name", "world")
    return {"message": f"{use_runtime_config().greeting}, {name}!"}
""",
    "api/users/[id].get.py": """from nitro import HTTPError, define_handler


@define_handler
async def handler(event, id: int):
    if id < 1:
        raise HTTPError(404, "No such user")
    return {"id": id}
""",
    "middleware/01.request-id.py": """import uuid

from nitro import define_middleware, set_response_header


@define_middleware
async def handler(event):
    event.context.request_id = str(uuid.uuid4())
    set_response_header(event, "x-request-id", event.context.request_id)
""",
    "tests/test_app.py": '''"""The app's tests: in-process requests through nitro.testing (`python -m pytest`)."""

from pathlib import Path

import pytest

from nitro.testing import TestClient

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.anyio
async def test_hello():
    async with TestClient(PROJECT) as client:  # runs plugins, then close hooks
        response = await client.get("/api/hello", params={"name": "you"})
        assert response.status_code == 200
        assert response.json() == {"message": "Hello, you!"}
        assert (await client.get("/api/users/0")).status_code == 404
''',
    "public/robots.txt": "User-agent: *\nAllow: /\n",
    ".gitignore": ".output/\n.data/\n.env\n__pycache__/\n",
}

PYPROJECT = """[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["nitro-py"]

[project.optional-dependencies]
test = ["pytest>=8.2"]

[tool.pytest.ini_options]
testpaths = ["tests"]  # not the copy of the project that `nitro build` writes to .output/
"""

README = """# {name}

A nitro project: file routes in `routes/` and `api/`, middleware in `middleware/`,
static files in `public/`, configuration in `nitro.config.py`.

- `nitro dev` serves it on http://127.0.0.1:3000 and reloads on every change.
- `python -m pytest` runs its tests in `tests/` (in-process, with `nitro.testing`; it needs
  pytest in the same environment as nitro: `pip install pytest`).
- `nitro build` builds it for production into `.output/`; `nitro preview` serves that build.
"""


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ._errors import ProjectError
    from ._project import log

    target = Path(args.dir)
    if target.exists() and any(target.iterdir()) and not args.force:
        raise ProjectError(f"[nitro] {target} is not empty (use --force to write into it)")
    name = target.resolve().name
    if args.template == "vite":
        from . import init_vite

        files = dict(init_vite.FILES)
        files["README.md"] = init_vite.README.format(name=name)
    else:
        files = dict(FILES)
        files["README.md"] = README.format(name=name)
    files["pyproject.toml"] = PYPROJECT.format(name=name)
    for rel, text in files.items():
        path = target / rel
        if path.exists() and not args.force:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if args.template == "vite":
        log(f"install the front-end's packages once: cd {args.dir}/web && npm install")
    log(f"created {target}; run it with: nitro dev {args.dir}")
    log(f"test it with: cd {args.dir} && python -m pytest")
    return 0
