"""What a platform provides to the code it runs, for the checks that run that code here.

Lambda's Python runtimes come with boto3 (and botocore, s3transfer, jmespath and
what they need), so an aws-lambda build does not ship them. The build's import
check and `nitro preview` run the built code on this machine, isolated from this
environment; to behave as on Lambda they must still find boto3. `link_provided`
makes a directory holding exactly those distributions (and the ones they require),
linked from the environment that runs nitro, to go on the path after the code
root: nothing else of this environment becomes importable, so a dependency the
build did not ship still fails the check.

This environment's boto3 stands in for the runtime's (its version may differ;
boto3 keeps its API stable across versions). It is here with nitro's `aws` extra,
which any project using S3 or DynamoDB needs for `nitro dev` anyway.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from importlib.metadata import Distribution
from pathlib import Path

__all__ = ["link_provided"]


def link_provided(distributions: Iterable[str], directory: Path) -> list[str]:
    """Link the installed `distributions` of this environment, with every distribution
    they require, into `directory` (emptied first). Returns the names (of those and
    their requirements) that are not installed here.

    Example::

        missing = link_provided(["boto3"], Path(".output/.preview/provided"))
        # directory now holds boto3/, botocore/, jmespath/, ... and their .dist-info
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    todo = [_normalize(name) for name in distributions]
    seen: set[str] = set()
    missing: list[str] = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            missing.append(name)
            continue
        if not _link_files(dist, directory):
            missing.append(name)
            continue
        for line in dist.requires or ():
            requirement = Requirement(line)
            # Only what the distribution needs without extras, as pip installs it.
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_normalize(requirement.name))
    return sorted(missing)


def _link_files(dist: Distribution, directory: Path) -> bool:
    """Link each top-level file or package of `dist` (its .dist-info included)."""
    files = dist.files
    if not files:
        return False
    site = Path(str(dist.locate_file("")))
    tops = {Path(f).parts[0] for f in files if Path(f).parts and Path(f).parts[0] != ".."}
    for top in sorted(tops - {"__pycache__"}):
        source = site / top
        target = directory / top
        if source.exists() and not target.exists():
            try:
                os.symlink(source, target, target_is_directory=source.is_dir())
            except OSError:  # no symlinks here (Windows without the privilege): copy
                if source.is_dir():
                    shutil.copytree(source, target)
                else:
                    shutil.copy2(source, target)
    return True


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
