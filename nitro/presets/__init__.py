"""Presets: one folder per deployment target, found by name and imported on demand.

Each ``nitro/presets/<name>/`` holds the preset's data and build step
(``preset.py``), the entry module its built output runs (``entry.py``), its
``preview`` and its ``deploy``. `PRESETS` maps a preset's name (``aws-lambda``) to
its ``preset`` module; Python package names cannot hold ``-``, so the folder is
``aws_lambda``. Other packages add presets through the ``nitro.presets`` entry-point
group (``name = "package.module"``; the module defines ``preset``).

This package is imported by every built entry (``nitro.presets.<name>.entry``), so
it imports nothing at module level: `Preset` and `BuildContext` load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import BuildContext, Preset

__all__ = ["PRESETS", "BuildContext", "Preset", "get_preset", "preset_names"]

PRESETS: dict[str, str] = {
    "server": "nitro.presets.server.preset",
    "docker": "nitro.presets.docker.preset",
    "aws-lambda": "nitro.presets.aws_lambda.preset",
    "vercel": "nitro.presets.vercel.preset",
    "gcp-functions": "nitro.presets.gcp_functions.preset",
    "azure-functions": "nitro.presets.azure_functions.preset",
}


def preset_names() -> list[str]:
    """Every known preset name, sorted."""
    from ..core.registry import registered

    return sorted(registered(PRESETS, "nitro.presets"))


def get_preset(name: str) -> Preset:
    """The preset called `name` (``aws_lambda`` and ``aws-lambda`` are the same).

    Example::

        get_preset("aws-lambda").description  # 'AWS Lambda: a zip with handler ...'
    """
    from ..core.registry import registered

    registry = registered(PRESETS, "nitro.presets")
    module_name = registry.get(name) or registry.get(name.replace("_", "-"))
    if module_name is None:
        raise KeyError(
            f"[nitro] unknown preset {name!r}; known presets: {', '.join(sorted(registry))}"
        )
    preset: Preset = importlib.import_module(module_name).preset
    return preset


def __getattr__(name: str) -> Any:
    if name in ("BuildContext", "Preset"):
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
