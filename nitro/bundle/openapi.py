"""The OpenAPI document of a project, made at build time (and by `nitro openapi`).

It imports the route modules once, in this process, to read their handlers'
annotations: a production app then serves the file the build wrote and imports
nothing for it (`nitro.core.openapi.serve`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import NitroConfig
from ..core.manifest import Manifest

__all__ = ["project_document"]


def project_document(root: Path, config: NitroConfig, manifest: Manifest) -> dict[str, Any]:
    """The document of `manifest`'s routes (already the production ones).

    The app is made as for prerendering: the dev storage and database settings, and
    a ``{{VAR}}`` that is not set waits, so building needs no production secret.

    Example::

        manifest = scan_project(root)
        manifest.routes = routes_for_env(manifest.routes, "prod")
        document = project_document(root, load_config(root), manifest)
    """
    from ..core.openapi.serve import app_document
    from ..runtime.app import load_app

    app = load_app(root, manifest=manifest, prerender=True)
    return app_document(app, config.openapi)
