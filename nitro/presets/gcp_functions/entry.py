"""The gcp-functions preset's entry: the targets of a build's ``main.py``.

The built ``main.py`` puts ``_vendor`` (nitro) on the path and binds the two
targets functions-framework serves by name::

    from nitro.presets.gcp_functions import entry

    handler, tasks = entry.create_targets(HERE)

`handler` (HTTP, ``--entry-point handler``) serves the app; `tasks` (CloudEvent,
``--entry-point tasks``) runs the tasks a Pub/Sub message names. The app is loaded
from the build's manifest, ``serverless`` as the preset recorded it (`wait_until`
work ends before the invocation returns).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nitro.adapters.gcp_functions import cloud_event_function, http_function
from nitro.runtime.app import load_app

__all__ = ["create_targets"]


def create_targets(source: Path) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(`handler`, `tasks`): the HTTP and CloudEvent targets of the build whose source
    directory is `source`. ``main.py`` must bind them to those names."""
    app = load_app(source / "app", manifest=source / "manifest.json", public_dir=source / "public")
    return http_function(app, "handler"), cloud_event_function(app, "tasks")
