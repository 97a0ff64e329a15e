"""The error every deploy step raises: one line naming what failed and why."""

from __future__ import annotations

__all__ = ["DeployError"]


class DeployError(Exception):
    """A deploy that cannot go on, e.g. ``[nitro:deploy] create Lambda function
    shop-prod: AccessDeniedException: ...``. The CLI prints it and exits 1."""
