"""The vercel preset's entry: the `app` Vercel's launcher serves.

Vercel's launcher (``vercel_runtime.vc_init``) imports the function's entry file by
path and serves its `app` with uvicorn. The built ``nitro_entry.py`` only calls
this module (the trampoline, ``vc__handler__python.py``, has put ``_vendor`` on the
path first)::

    from nitro.presets.vercel import entry

    app = entry.create_app(HERE)

The app is loaded from the build's manifest with what the preset recorded (the
Upstash `data` mount, ``serverless``, sync code inline: one request at a time per
instance), plus the cron route ``/_vercel/cron``, which claims each tick through
shared storage so that a cron Vercel delivers twice runs once.
"""

from __future__ import annotations

from pathlib import Path

from nitro.adapters.vercel import vercel_app
from nitro.core.app import NitroApp
from nitro.runtime.app import load_app
from nitro.runtime.tasks import task_claim

__all__ = ["create_app"]


def create_app(function: Path) -> NitroApp:
    """The app of the build whose function directory (``__nitro.func``) is `function`."""
    app = load_app(
        function / "app",
        manifest=function / "manifest.json",
        public_dir=function / "public",  # an empty index: Vercel's CDN serves public assets
    )
    claim = task_claim(app.storage) if app.tasks.schedule else None
    return vercel_app(app, claim=claim)
