"""The azure-functions preset's entry: the function app of a build's ``function_app.py``.

The Functions host imports ``function_app.py`` from the app root and indexes the one
function app among its globals, `app`. The built file puts ``_vendor`` (nitro) on
the path and calls this module::

    from nitro.presets.azure_functions import entry

    nitro_app = entry.create_app(HERE)
    app = entry.function_app_for(nitro_app)

`app` has one HTTP function for every route and one timer function per cron the
build recorded, with the recorded ``auth_level``. The NitroApp is loaded from the
build's manifest, ``serverless`` as the preset recorded it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nitro.adapters.azure_functions import function_app
from nitro.core.app import NitroApp
from nitro.runtime.app import load_app, preset_record

if TYPE_CHECKING:
    import azure.functions as func

__all__ = ["create_app", "function_app_for"]


def create_app(root: Path) -> NitroApp:
    """The NitroApp of the build whose function app root is `root`."""
    return load_app(root / "app", manifest=root / "manifest.json", public_dir=root / "public")


def function_app_for(nitro_app: NitroApp) -> func.AsgiFunctionApp:
    """The function app the host indexes: `nitro_app` over HTTP, plus its timers."""
    record = preset_record(nitro_app)
    timers = [
        {"name": s.trigger, "cron": s.cron, "schedule": s.expression} for s in record.schedules
    ]
    return function_app(nitro_app, timers=timers, auth_level=record.options["auth_level"])
