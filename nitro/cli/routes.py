"""`nitro routes [DIR]`: the route table, one route a line: METHOD PATH FILE."""

from __future__ import annotations

import argparse

from ..core.manifest import RouteEntry


def format_routes(entries: list[RouteEntry], base_url: str = "/") -> list[str]:
    """Aligned ``METHOD PATH FILE`` lines, sorted by path (`*` any method, `WS` WebSocket).

    Paths are where the app answers: under the config's `base_url`.
    """
    prefix = "/" + base_url.strip("/") if base_url.strip("/") else ""
    rows = sorted(
        (
            ("WS" if e.kind == "websocket" else (e.method or "*").upper()),
            (prefix + e.route).rstrip("/") or "/",
            e.file,
        )
        for e in entries
    )
    rows.sort(key=lambda row: row[1])
    width = max((len(path) for _, path, _ in rows), default=0)
    return [f"{method:<7} {path:<{width}} {file}" for method, path, file in rows]


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..config import load_config
    from ..runtime.scan import scan_project
    from ._project import project_root

    root = project_root(args.dir)
    # A config that does not load is an error here as in `nitro build` and `nitro dev`,
    # not a table that looks fine; it also gives `base_url`.
    config = load_config(root)
    manifest = scan_project(root)
    for line in format_routes(manifest.routes, config.base_url):
        print(line)
    return 0
