"""`nitro init DIR`: a small project that runs (`nitro dev DIR`)."""

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
    "public/robots.txt": "User-agent: *\nAllow: /\n",
    ".gitignore": ".output/\n.data/\n.env\n__pycache__/\n",
}


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ._errors import ProjectError
    from ._project import log

    target = Path(args.dir)
    if target.exists() and any(target.iterdir()) and not args.force:
        raise ProjectError(f"[nitro] {target} is not empty (use --force to write into it)")
    name = target.resolve().name
    files = dict(FILES)
    files["pyproject.toml"] = (
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["nitro-py"]\n'
    )
    for rel, text in files.items():
        path = target / rel
        if path.exists() and not args.force:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    log(f"created {target}; run it with: nitro dev {args.dir}")
    return 0
