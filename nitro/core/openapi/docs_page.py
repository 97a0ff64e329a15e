"""The interactive docs page: Swagger UI, served by the app itself (no CDN).

Swagger UI's built files come from the `swagger-ui-py` package (the extra
``nitro-py[openapi]``), which ships the swagger-ui-dist files (Swagger UI 5,
which reads OpenAPI 3.1). Only its ``static/`` folder is read: the package itself
(and its Jinja2 and PyYAML imports) is never imported.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import json
from pathlib import Path

from ..errors import HTTPError

__all__ = ["ASSETS", "asset", "docs_html", "init_script"]

EXTRA_HINT = 'pip install "nitro-py[openapi]"'
ASSETS = {
    "swagger-ui.css": b"text/css; charset=utf-8",
    "swagger-ui-bundle.js": b"text/javascript; charset=utf-8",
}


def docs_html(base: str) -> str:
    """The page at ``{base}/_docs``; `base` is the app's base URL without its trailing slash."""
    prefix = html.escape(base, quote=True)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>API docs</title>\n"
        f'<link rel="stylesheet" href="{prefix}/_docs/swagger-ui.css">\n'
        '</head>\n<body>\n<div id="swagger-ui"></div>\n'
        f'<script src="{prefix}/_docs/swagger-ui-bundle.js"></script>\n'
        f'<script src="{prefix}/_docs/init.js"></script>\n'
        "</body>\n</html>\n"
    )


def init_script(base: str) -> str:
    """Starts Swagger UI on the app's document. `validatorUrl: null`: no badge fetched
    from swagger.io, so the page works offline."""
    options = {
        "url": f"{base}/_openapi.json",
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "validatorUrl": None,
    }
    return (
        f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, "
        '{presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"}));\n'
    )


@functools.cache
def asset(name: str) -> bytes:
    """A Swagger UI file's bytes (read once); an error naming the extra without it."""
    return (_static_dir() / name).read_bytes()


def _static_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui")  # finds it without running it
    locations = spec.submodule_search_locations if spec is not None else None
    static = Path(next(iter(locations))) / "static" if locations else None
    if static is None or not (static / "swagger-ui-bundle.js").is_file():
        raise HTTPError(
            500,
            f"[nitro:openapi] the docs page needs Swagger UI's files: {EXTRA_HINT} "
            "(the document itself is at /_openapi.json)",
        )
    return static
