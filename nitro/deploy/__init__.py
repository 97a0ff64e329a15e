"""Presets: one module per deployment target, found by name and imported on demand.

Other packages add presets through the ``nitro.presets`` entry-point group
(``name = "package.module"``; the module defines ``preset``).
"""

from __future__ import annotations

import importlib

from ..core.registry import registered
from .base import BuildContext as BuildContext
from .base import Preset as Preset

__all__ = ["PRESETS", "BuildContext", "Preset", "get_preset", "preset_names"]

PRESETS: dict[str, str] = {
    "server": "nitro.deploy.server",
    "docker": "nitro.deploy.docker",
    "aws-lambda": "nitro.deploy.aws_lambda",
    "vercel": "nitro.deploy.vercel",
    "gcp-functions": "nitro.deploy.gcp_functions",
    "azure-functions": "nitro.deploy.azure_functions",
}


def preset_names() -> list[str]:
    """Every known preset name, sorted."""
    return sorted(registered(PRESETS, "nitro.presets"))


def get_preset(name: str) -> Preset:
    """The preset called `name` (``aws_lambda`` and ``aws-lambda`` are the same)."""
    registry = registered(PRESETS, "nitro.presets")
    module_name = registry.get(name) or registry.get(name.replace("_", "-"))
    if module_name is None:
        raise KeyError(
            f"[nitro] unknown preset {name!r}; known presets: {', '.join(sorted(registry))}"
        )
    return importlib.import_module(module_name).preset
