"""Turning failures into one clear line on stderr (and exit code 1)."""

from __future__ import annotations

import sys
import traceback


def report(exc: BaseException) -> int:
    from ..bundle.output import BuildError
    from ..config import ConfigError
    from ..core.app import StartupError
    from ..core.errors import HTTPError
    from ..core.loader import LoadError
    from ..presets.errors import DeployError
    from ..runtime.scan import ScanError

    if isinstance(exc, ScanError):
        print("[nitro] the project has files nitro cannot serve:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    elif isinstance(
        exc, (ConfigError, BuildError, StartupError, LoadError, ProjectError, DeployError)
    ):
        print(str(exc), file=sys.stderr)
    elif isinstance(exc, HTTPError):
        print(f"[nitro] {exc.message}", file=sys.stderr)
    else:
        traceback.print_exception(exc, file=sys.stderr)
    return 1


class ProjectError(Exception):
    """The project directory given on the command line cannot be used."""
