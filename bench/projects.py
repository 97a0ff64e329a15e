"""Nitro projects for the benchmark: written into a temp dir and built with `nitro build`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from common import APPS_DIR, BenchError

HANDLER = """\
from nitro import define_handler


@define_handler
{kind}handler(event):
    return {payload}
"""
KINDS = {"async": "async def ", "def": "def "}  # what users write, both
HELLO = '{"hello": "world"}'
ECHO_ID = '{"id": event.params["id"]}'


def write_route(root: Path, relative: str, payload: str, kind: str = "async") -> None:
    path = root / "routes" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HANDLER.format(payload=payload, kind=KINDS[kind]))


def copy_project(name: str, dest: Path) -> Path:
    """A hand-written project of bench/apps (`nitro_project`: `/` and `/users/[id]`;
    `nitro_ws_project`: the WebSocket broadcast route)."""
    shutil.copytree(
        APPS_DIR / name, dest, ignore=shutil.ignore_patterns("__pycache__", ".output", ".data")
    )
    return dest


def make_project(dest: Path, routes: int, kind: str = "async") -> Path:
    """A project with `routes` routes: `/`, then one in ten `/pNNNN/[id]`, the rest static `/rNNNN`.

    Every project has `/`, so the cold-start request is the same for all sizes. `kind`:
    the handlers are ``async def`` or plain ``def`` functions.
    """
    write_route(dest, "index.py", HELLO, kind)
    params = (routes - 1) // 10
    for i in range(params):
        write_route(dest, f"p{i:04d}/[id].py", ECHO_ID, kind)
    for i in range(routes - 1 - params):
        write_route(dest, f"r{i:04d}.py", HELLO, kind)
    return dest


def throughput_project(dest: Path, kind: str, sync_to_thread: bool | None = None) -> Path:
    """`/` and `/users/[id]` as in apps/nitro_project, with `kind` handlers, and
    `sync_to_thread` in the config when given."""
    write_route(dest, "index.py", HELLO, kind)
    write_route(dest, "users/[id].py", ECHO_ID, kind)
    if sync_to_thread is not None:
        (dest / "nitro.config.py").write_text(
            "from nitro.config import define_nitro_config\n\n"
            f"config = define_nitro_config(sync_to_thread={sync_to_thread})\n"
        )
    return dest


def build(project: Path, expected_routes: int | None = None, preset: str | None = None) -> Path:
    """Run `python -m nitro build` (for `preset`, else the server) and return the server
    dir (holding the entry); with `expected_routes`, check the build saw that many."""
    extra = ["--preset", preset] if preset else []
    result = subprocess.run(
        [sys.executable, "-m", "nitro", "build", str(project), *extra],
        capture_output=True,
        text=True,
        cwd=project,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise BenchError(f"nitro build {' '.join(extra)} {project} failed:\n{output}")
    if expected_routes is None:
        return project / ".output" / "server"
    # Check the build saw every route, so "1,000 routes" really is 1,000.
    found = re.search(r"\[nitro\] (\d+) routes", output)
    if found is None or int(found.group(1)) != expected_routes:
        raise BenchError(f"expected {expected_routes} routes in the build of {project}:\n{output}")
    return project / ".output" / "server"
