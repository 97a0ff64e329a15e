"""Packaging an `aws-lambda` code root: dependencies for the target, bytecode,
the import check, and the zip measured against Lambda's limits."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ...bundle.output import BuildError, import_check
from ...bundle.vendor import (
    Target,
    compile_bytecode,
    copy_nitro,
    dir_size,
    find_python,
    machine_arch,
    vendor,
    zip_dir,
)

__all__ = ["PROVIDED_BY_RUNTIME", "UNZIPPED_LIMIT", "ZIP_LIMIT", "package"]

# In every Lambda Python runtime already (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html).
PROVIDED_BY_RUNTIME = ["boto3", "botocore", "s3transfer", "jmespath"]
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
ZIP_LIMIT = 50 * 1024 * 1024  # a .zip uploaded directly (through S3: up to UNZIPPED_LIMIT)
UNZIPPED_LIMIT = 250 * 1024 * 1024  # the code root, layers included
# What nitro imports on a request's first need rather than at start (Starlette's
# responses for hooks, streams and files; its requests for forms and `event.request`):
# compiled with the start-up set, so that request does not compile them on a
# read-only code root.
LOADED_ON_FIRST_USE = ("starlette.responses", "starlette.requests")


def package(
    server: Path,
    archive: Path,
    target: Target,
    requirements: Iterable[str],
    log: Callable[[str], None],
    *,
    preload: Iterable[str] = (),
) -> tuple[int, int]:
    """Vendor `requirements` and nitro into ``server/_vendor``, compile and import-check
    with the target Python when this machine has it, zip `server` into `archive`.
    `preload` names modules the deployed app imports at start that the check may not
    (the drivers of its mounts): they are checked and get bytecode too, as do the
    modules nitro loads on first use (`LOADED_ON_FIRST_USE`).
    Returns (zipped, unzipped) sizes; a package over Lambda's limits is a BuildError."""
    wanted = sorted(set(requirements))
    log(f"vendoring {len(wanted)} requirements for Python {target.python} ({target.arch})")
    vendor(wanted, server / "_vendor", target, exclude=PROVIDED_BY_RUNTIME)
    copy_nitro(server / "_vendor", adapter="aws_lambda", preset="aws_lambda")
    python = find_python(target.python)
    if python is None:
        log(
            f"no Python {target.python} here: bytecode not precompiled (cold starts compile it) "
            "and the entry not import-checked"
        )
    elif _machine_arch() == target.arch:
        log(f"import-checking index.py with Python {target.python}")
        with tempfile.TemporaryDirectory(prefix="nitro-lambda-runtime-") as runtime:
            provided = runtime_packages(Path(runtime), log)
            loaded = import_check(
                server,
                "index.py",
                python=python,
                attribute="handler",
                paths=[server, server / "_vendor", provided],
                also=[*LOADED_ON_FIRST_USE, *preload],
            )
        # Timestamp-based .pyc files (the check writes none, -B; a project may ship
        # some) would make every build's zip differ (so every deploy would update
        # the code) and never match on Lambda, where the zip's times are fixed.
        for cache in sorted(server.rglob("__pycache__"), reverse=True):
            shutil.rmtree(cache)
        # Bytecode for what a cold start imports, plus the project's own code (routes
        # load on first use): the rest of the dependencies, mostly never imported,
        # ship as source, which keeps the zip about a third smaller.
        files = {*loaded, server / "index.py", *(server / "app").rglob("*.py")}
        log(f"compiling bytecode for Python {target.python} ({len(files)} modules)")
        compile_bytecode(server, python, sorted(files))
    else:
        log(f"not import-checked: this machine is not {target.arch}")
        log(f"compiling bytecode for Python {target.python}")
        compile_bytecode(server, python)
    unzipped = dir_size(server)
    zipped = zip_dir(server, archive)
    sizes = (
        f"{_mb(zipped)} zipped (limit {_mb(ZIP_LIMIT)}), "
        f"{_mb(unzipped)} unzipped (limit {_mb(UNZIPPED_LIMIT)})"
    )
    log(f"{archive.name}: {sizes}")
    if unzipped > UNZIPPED_LIMIT:
        raise BuildError(
            f"[nitro:build] the function is too big for Lambda: {sizes}; drop dependencies, "
            "or ship it as a container image"
        )
    if zipped > ZIP_LIMIT:
        # Only a direct upload has this limit: from S3, Lambda takes the zip up to the
        # unzipped limit. `nitro deploy aws` (and `sam deploy`) upload through S3.
        log(f"over {_mb(ZIP_LIMIT)} zipped: deploy through S3 (nitro deploy aws does)")
    return zipped, unzipped


def runtime_packages(directory: Path, log: Callable[[str], None]) -> Path:
    """`directory` holding what Lambda's runtime provides (`PROVIDED_BY_RUNTIME`),
    linked from this environment (see `nitro.bundle.provided`): the import check and
    `nitro preview` put it on the path after the code root, as Lambda has it."""
    from ...bundle.provided import link_provided

    provided = directory / "provided"
    missing = link_provided(PROVIDED_BY_RUNTIME, provided)
    if missing:
        log(
            f"Lambda provides {', '.join(missing)}, not installed here: code that imports "
            'them cannot run in the check or preview: pip install "nitro-py[aws]"'
        )
    return provided


def _mb(size: int) -> str:
    """Lambda's limits are in MiB (50 MB = 52,428,800 bytes), so sizes are too."""
    return f"{size / 1024 / 1024:.1f} MB"


def _machine_arch() -> str:
    return machine_arch()
