"""What a deploy wants: read from the aws-lambda build, the config and the environment.

The build is the truth for what runs: the zip, and the options and schedules the
build recorded (``.output/nitro.json``, ``.output/server/manifest.json``), so a
deploy never mixes a new config with an old zip. From the config: whether the
`data` mount is the default (then the deploy owns a DynamoDB table), and the
storage mounts whose S3 buckets and DynamoDB tables the role may use. From the
environment: every ``NITRO_*`` variable, passed to the function.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...config import ConfigError, NitroConfig
from ...config.env import resolve_env_refs
from ..errors import DeployError
from ..external import built_info

__all__ = ["Grant", "Spec", "function_environment", "load_spec", "storage_grants"]

HANDLER = "index.handler"


@dataclass(frozen=True)
class Grant:
    """A storage resource the function's role may use: an S3 bucket or a DynamoDB table."""

    driver: str  # "s3" | "dynamodb"
    resource: str  # the bucket or table name
    create_table: bool = False


@dataclass(frozen=True)
class Spec:
    zip_path: Path
    code_sha256: str  # base64 of the zip's SHA-256, as Lambda reports CodeSha256
    zip_size: int
    runtime: str
    architecture: str
    memory: int
    timeout: int
    environment: dict[str, str]
    url_auth: str
    schedules: list[dict[str, Any]]
    default_data: bool
    grants: tuple[Grant, ...]


def code_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def built_preset(root: Path) -> str | None:
    """The preset of the build in ``.output/`` (None when there is none)."""
    info = built_info(root) or {}
    return str(info["preset"]) if "preset" in info else None


def function_environment(
    options_env: Mapping[str, str], table: str | None, environ: Mapping[str, str]
) -> dict[str, str]:
    """Every ``NITRO_*`` variable of `environ`, then `aws_lambda["environment"]`,
    then ``NITRO_DYNAMODB_TABLE`` when the deploy owns the `data` table."""
    env = {k: v for k, v in environ.items() if k.startswith("NITRO_")}
    env.update(options_env)
    if table is not None:
        env["NITRO_DYNAMODB_TABLE"] = table
    return dict(sorted(env.items()))


def storage_grants(
    storage: Mapping[str, Mapping[str, Any]],
    env: Mapping[str, str],
    log: Callable[[str], None],
) -> tuple[Grant, ...]:
    """The S3 buckets and DynamoDB tables of configured mounts, their ``{{VAR}}``
    references resolved from the function's environment (as the app will resolve
    them); one that does not resolve is logged and granted nothing."""
    grants: list[Grant] = []
    for mount, options in sorted(storage.items()):
        driver = options.get("driver")
        key = {"s3": "bucket", "dynamodb": "table"}.get(str(driver))
        if key is None or key not in options:
            continue
        try:
            resource = resolve_env_refs(options[key], env, f"storage.{mount}.{key}")
        except ConfigError as exc:
            log(
                f"{exc.args[0]}: the role gets no access to it (set it with NITRO_* or aws_lambda environment)"
            )
            continue
        grants.append(Grant(str(driver), str(resource), bool(options.get("create_table"))))
    return tuple(sorted(set(grants), key=lambda g: (g.driver, g.resource)))


def load_spec(
    root: Path,
    config: NitroConfig,
    table: str,
    log: Callable[[str], None],
    url_auth: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Spec:
    """The deploy of the aws-lambda build in ``root/.output``; `table` is the name of
    the `data` table the deploy owns (used when the `data` mount is the default)."""
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
        platform = json.loads(manifest_path.read_text())["platform"]
    except (OSError, ValueError, KeyError) as exc:
        raise DeployError(
            f"[nitro:deploy] the build in {out} is incomplete ({exc}): build again"
        ) from None
    default_data = "data" not in config.storage
    env = function_environment(
        info.get("environment", {}),
        table if default_data else None,
        os.environ if environ is None else environ,
    )
    return Spec(
        zip_path=zip_path,
        code_sha256=code_sha256(zip_path),
        zip_size=zip_path.stat().st_size,
        runtime=info["runtime"],
        architecture=info["architecture"],
        memory=int(info["memory"]),
        timeout=int(info["timeout"]),
        environment=env,
        url_auth=url_auth or info.get("url_auth", "NONE"),
        schedules=list(platform.get("schedules", [])),
        default_data=default_data,
        grants=storage_grants(config.storage, env, log),
    )
