"""`nitro build [DIR] --preset P`: scan, then write the preset's output and check it."""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import NitroConfig
    from ..presets import Preset


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..config import load_config
    from ..presets import get_preset, preset_names
    from ._project import project_root

    root = project_root(args.dir)
    config = load_config(root)
    name = args.preset or config.preset or os.environ.get("NITRO_PRESET") or "server"
    try:
        preset = get_preset(name)
    except KeyError:
        parser.error(f"unknown preset {name!r} (choose from {', '.join(preset_names())})")
    build_project(root, config, preset)
    return 0


def build_project(root: Path, config: NitroConfig, preset: Preset) -> Path:
    """Build `root` with `preset` into ``root/.output`` (also what `nitro deploy` runs)."""
    from ..bundle.frontend import FRONTEND_DIR, SPA_DOCUMENT, build_frontend
    from ..bundle.output import reset_dir
    from ..bundle.prerender import PRERENDER_DIR, prerender_project, wants_prerender
    from ..presets import BuildContext
    from ..runtime.scan import routes_for_env, scan_project
    from ._project import log

    started = time.perf_counter()
    log(f"building {root.name} for {preset.name}")
    manifest = scan_project(root)
    manifest.routes = routes_for_env(manifest.routes, "prod")
    log(
        f"{len(manifest.routes)} routes, {len(manifest.middleware)} middleware, {len(manifest.plugins)} plugins, {len(manifest.tasks)} tasks"
    )
    if config.openapi.get("production"):
        from ..bundle.openapi import project_document

        log("documenting the routes (openapi production)")
        manifest.openapi = project_document(root, config, manifest)
    out = root / ".output"
    reset_dir(out)
    staged = out / PRERENDER_DIR
    frontend_out = out / FRONTEND_DIR
    try:
        frontend = build_frontend(root, config, frontend_out, log)
        if frontend is not None and frontend.spa_fallback:
            if (frontend_out / SPA_DOCUMENT.lstrip("/")).is_file():
                manifest.spa_fallback = SPA_DOCUMENT
        if wants_prerender(config):
            log("prerendering")
            result = prerender_project(root, config, manifest, staged, log)
            log(f"prerendered {len(result.written)} paths")
        ctx = BuildContext(
            root=root,
            config=config,
            manifest=manifest,
            out=out,
            log=log,
            secret_store=preset.secret_store,
        )
        preset.build(ctx)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(frontend_out, ignore_errors=True)
    if ctx.dependencies is not None and (out / "nitro.json").is_file():
        _record(out / "nitro.json", "dependencies", ctx.dependencies)
    log(f"done in {time.perf_counter() - started:.1f}s: {out.relative_to(root)}/")
    return out


def _record(info_path: Path, key: str, value: object) -> None:
    """Add `key` to the build's nitro.json (what a preset's build found on the way)."""
    import json

    info = json.loads(info_path.read_text(encoding="utf-8"))
    info[key] = value
    info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
