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
async def handler(event):
    return {payload}
"""
HELLO = '{"hello": "world"}'
ECHO_ID = '{"id": event.params["id"]}'


def write_route(root: Path, relative: str, payload: str) -> None:
    path = root / "routes" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HANDLER.format(payload=payload))


def copy_project(name: str, dest: Path) -> Path:
    """A hand-written project of bench/apps (`nitro_project`: `/` and `/users/[id]`;
    `nitro_ws_project`: the WebSocket broadcast route)."""
    shutil.copytree(
        APPS_DIR / name, dest, ignore=shutil.ignore_patterns("__pycache__", ".output", ".data")
    )
    return dest


def make_project(dest: Path, routes: int) -> Path:
    """A project with `routes` routes: `/`, then one in ten `/pNNNN/[id]`, the rest static `/rNNNN`.

    Every project has `/`, so the cold-start request is the same for all sizes.
    """
    write_route(dest, "index.py", HELLO)
    params = (routes - 1) // 10
    for i in range(params):
        write_route(dest, f"p{i:04d}/[id].py", ECHO_ID)
    for i in range(routes - 1 - params):
        write_route(dest, f"r{i:04d}.py", HELLO)
    return dest


def build(project: Path, expected_routes: int) -> Path:
    """Run `python -m nitro build` and return the server dir (holding `index.py`)."""
    result = subprocess.run(
        [sys.executable, "-m", "nitro", "build", str(project)],
        capture_output=True,
        text=True,
        cwd=project,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise BenchError(f"nitro build {project} failed:\n{output}")
    # Check the build saw every route, so "1,000 routes" really is 1,000.
    found = re.search(r"\[nitro\] (\d+) routes", output)
    if found is None or int(found.group(1)) != expected_routes:
        raise BenchError(f"expected {expected_routes} routes in the build of {project}:\n{output}")
    return project / ".output" / "server"
