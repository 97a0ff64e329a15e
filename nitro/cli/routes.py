"""`nitro routes [DIR]`: the route table, one route a line: METHOD PATH FILE."""

from __future__ import annotations

import argparse

from ..core.manifest import RouteEntry


def format_routes(entries: list[RouteEntry]) -> list[str]:
    """Aligned ``METHOD PATH FILE`` lines, sorted by path (`*` any method, `WS` WebSocket)."""
    rows = sorted(
        (("WS" if e.kind == "websocket" else (e.method or "*").upper()), e.route, e.file)
        for e in entries
    )
    rows.sort(key=lambda row: row[1])
    width = max((len(path) for _, path, _ in rows), default=0)
    return [f"{method:<7} {path:<{width}} {file}" for method, path, file in rows]


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..build.scan import scan_project
    from ._project import project_root

    manifest = scan_project(project_root(args.dir))
    for line in format_routes(manifest.routes):
        print(line)
    return 0
