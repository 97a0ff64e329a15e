"""`nitro deploy azure`: ``func azure functionapp publish NAME`` in ``.output/server``.

The function app must exist (see docs/platforms/azure-functions.md); `func` uploads
the code and Azure's remote build installs ``requirements.txt``.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from ..platform_cli import Platform, Step

__all__ = ["PLATFORM", "steps"]


def steps(root: Path, info: dict[str, Any]) -> list[Step]:
    """Publishing the build `info` (``.output/nitro.json``) to its function app."""
    argv = ["func", "azure", "functionapp", "publish", str(info["azure_functions"]["app_name"])]
    return [Step(argv, root / ".output" / "server", f"cd .output/server && {shlex.join(argv)}")]


PLATFORM = Platform(
    "azure", "azure-functions", "func",
    "Azure Functions Core Tools 4 (`npm install -g azure-functions-core-tools@4`) and the "
    "Azure CLI (`az login`); create the function app first (see docs/platforms/azure-functions.md)",
    steps,
)  # fmt: skip
