"""What a deploy wants: read from the aws-lambda build, the config and the environment.

The build is the truth for what runs: the zip, and the options and schedules the
build recorded (``.output/nitro.json``, ``.output/server/manifest.json``), so a
deploy never mixes a new config with an old zip. From the config: the storage mounts
(whether `data` is the default, then the deploy owns a DynamoDB table, and the S3
buckets and DynamoDB tables the role may use) and the SSM parameters its
``{{secret:NAME}}`` values name (the role may read those). From the environment: every
``NITRO_*`` variable, passed to the function. What that makes on AWS is
`resources.describe`, the description the SAM template is written from too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ....bundle.output import built_preset
from ....config import NitroConfig
from ....core.manifest import Manifest
from ....runtime.secrets import production_secrets
from ...errors import DeployError
from .names import Names
from .resources import Resources, describe

__all__ = ["Spec", "function_environment", "load_spec"]


@dataclass(frozen=True)
class Spec:
    zip_path: Path
    code_sha256: str  # base64 of the zip's SHA-256, as Lambda reports CodeSha256
    zip_size: int
    resources: Resources


def code_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def function_environment(
    options_env: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Every ``NITRO_*`` variable of `environ`, then `aws_lambda["environment"]`
    (`describe` adds ``NITRO_DYNAMODB_TABLE`` when the deploy owns the `data` table)."""
    env = {k: v for k, v in environ.items() if k.startswith("NITRO_")}
    env.update(options_env)
    return dict(sorted(env.items()))


def load_spec(
    root: Path,
    config: NitroConfig,
    names: Names,
    log: Callable[[str], None],
    url_auth: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Spec:
    """The deploy of the aws-lambda build in ``root/.output`` as `names`."""
    out = root / ".output"
    info_path, manifest_path, zip_path = (
        out / "nitro.json",
        out / "server" / "manifest.json",
        out / "aws-lambda.zip",
    )
    if built_preset(root) != "aws-lambda" or not zip_path.is_file():
        raise DeployError(
            f"[nitro:deploy] no aws-lambda build in {out}: run `nitro build --preset aws-lambda`"
        )
    try:
        info = json.loads(info_path.read_text())["aws_lambda"]
        record = Manifest.read(manifest_path).preset
        if record is None:
            raise KeyError("preset")
    except (OSError, ValueError, KeyError) as exc:
        raise DeployError(
            f"[nitro:deploy] the build in {out} is incomplete ({exc}): build again"
        ) from None
    options = {**info, "url_auth": url_auth or info.get("url_auth", "NONE")}
    env = function_environment(
        info.get("environment", {}), os.environ if environ is None else environ
    )
    secrets = production_secrets(config, record.storage_defaults)
    if secrets:
        listed = ", ".join(f"{name!r} ({option})" for name, option in sorted(secrets.items()))
        log(f"secrets: the role may read the SSM parameters {listed}, and decrypt only them")
    return Spec(
        zip_path=zip_path,
        code_sha256=code_sha256(zip_path),
        zip_size=zip_path.stat().st_size,
        resources=describe(
            names, options, record.schedules, config.storage, env, log, sorted(secrets)
        ),
    )
