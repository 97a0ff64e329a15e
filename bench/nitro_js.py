"""Nitro itself (the JavaScript framework nitro ports), as a row beside the Python apps:
the same two routes, built with nitropack 2 and served by `node .output/server/index.mjs`
(its node-server preset, one process).

nitropack is installed once from npm into ``~/.cache/nitro-bench/nitro-js`` (about 90 MB);
without `node` and `npm`, or when npm cannot install it, the row is left out and says why.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CACHE = Path.home() / ".cache" / "nitro-bench" / "nitro-js"
NITROPACK = "nitropack@2.13"
ROUTES = {
    "routes/index.ts": 'export default defineEventHandler(() => ({ hello: "world" }));\n',
    "routes/users/[id].ts": (
        'export default defineEventHandler((event) => ({ id: getRouterParam(event, "id") }));\n'
    ),
    "nitro.config.ts": "export default defineNitroConfig({});\n",
}


def build() -> tuple[Path | None, str]:
    """The built project's folder (holding .output), or None and the reason."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None, "node and npm are needed"
    CACHE.mkdir(parents=True, exist_ok=True)
    tool = CACHE / "node_modules" / ".bin" / "nitropack"
    if not tool.exists():
        (CACHE / "package.json").write_text('{"private": true}\n')
        installed = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", NITROPACK],
            cwd=CACHE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if installed.returncode != 0 or not tool.exists():
            return None, f"npm could not install {NITROPACK}: {installed.stderr.strip()[-300:]}"
    for relative, text in ROUTES.items():
        path = CACHE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    built = subprocess.run(
        [str(tool), "build"], cwd=CACHE, capture_output=True, text=True, timeout=300
    )
    if built.returncode != 0:
        return None, f"nitropack build failed: {built.stderr.strip()[-300:]}"
    return CACHE, ""


def command() -> list[str]:
    return [shutil.which("node") or "node", ".output/server/index.mjs"]


def version() -> str:
    found = CACHE / "node_modules" / "nitropack" / "package.json"
    if not found.exists():
        return "?"
    import json

    return str(json.loads(found.read_text()).get("version", "?"))
