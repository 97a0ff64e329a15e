"""`nitro openapi [DIR]`: print the project's OpenAPI document (for client
generators and CI checks): its production routes, as `nitro build` documents them."""

from __future__ import annotations

import argparse
import json


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..bundle.openapi import project_document
    from ..config import load_config
    from ..runtime.scan import routes_for_env, scan_project
    from ._project import project_root

    root = project_root(args.dir)
    config = load_config(root)
    manifest = scan_project(root)
    manifest.routes = routes_for_env(manifest.routes, "prod")
    print(json.dumps(project_document(root, config, manifest), indent=2))
    return 0
