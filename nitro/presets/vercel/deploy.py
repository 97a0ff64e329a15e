"""`nitro deploy vercel`: ``vercel deploy --prebuilt`` of ``.vercel/output``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..platform_cli import Platform, Step

__all__ = ["PLATFORM", "steps"]


def steps(root: Path, info: dict[str, Any]) -> list[Step]:
    """Vercel uploads the Build Output API directory as built."""
    return [Step(["vercel", "deploy", "--prebuilt"], root, "vercel deploy --prebuilt")]


PLATFORM = Platform(
    "vercel", "vercel", "vercel",
    "the Vercel CLI (`npm install -g vercel`), then `vercel login` and `vercel link`",
    steps,
)  # fmt: skip
