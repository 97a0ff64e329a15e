"""`nitro deploy aws|gcp|azure|vercel [DIR]`: build, then deploy.

``aws`` deploys with boto3 (`nitro.presets.aws_lambda.deploy`): ``--region``,
``--stage`` (default prod), ``--dry-run`` (print the plan, change nothing),
``--rollback`` (move the alias ``live`` back one version), ``--url-auth NONE|AWS_IAM``.
The others run the platform's CLI (each preset's ``deploy`` module, run by
`nitro.presets.platform_cli`). ``--prebuilt`` deploys the build already in
``.output/`` when it is of the platform's preset.
stdout: plan lines and the URL (or the commands to run); progress: stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

# `nitro deploy NAME` -> the preset folder it builds and deploys (nitro/presets/<folder>/).
TARGETS = {
    "aws": "aws_lambda",
    "gcp": "gcp_functions",
    "azure": "azure_functions",
    "vercel": "vercel",
}


def log(message: str) -> None:
    print(f"[nitro:deploy] {message}", file=sys.stderr, flush=True)


def out(line: str) -> None:
    print(line, flush=True)


def check_stage(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from ..presets.aws_lambda.deploy.names import STAGE_PATTERN

    if not re.fullmatch(STAGE_PATTERN, args.stage):
        parser.error(
            f"--stage {args.stage!r}: use 1-20 letters, digits, '-' or '_', starting with a "
            "letter or digit"
        )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..bundle.output import built_info, built_preset
    from ..config import load_config
    from ..presets import get_preset
    from ..presets.platform_cli import Platform, run_steps
    from ._project import project_root
    from .build import build_project

    if args.platform == "aws":
        check_stage(args, parser)
        if args.rollback and (args.prebuilt or args.url_auth):
            parser.error("--rollback moves the alias back: it takes no --prebuilt or --url-auth")
    root = project_root(args.dir)
    if args.platform == "aws" and args.rollback:
        from ..presets.aws_lambda.deploy import rollback

        rollback(root, region=args.region, stage=args.stage, dry_run=args.dry_run, log=log, out=out)
        return 0
    config = load_config(root)
    platform: Platform | None = None
    if args.platform != "aws":
        module = importlib.import_module(f"nitro.presets.{TARGETS[args.platform]}.deploy")
        platform = module.PLATFORM
    preset = "aws-lambda" if platform is None else platform.preset
    if args.prebuilt and built_preset(root) == preset:
        log(f"deploying the {preset} build in .output/ (--prebuilt)")
    else:
        if args.prebuilt:
            log(f"no {preset} build in .output/: building it")
        build_project(root, config, get_preset(preset))
    if platform is None:
        from ..presets.aws_lambda.deploy import deploy

        deploy(
            root, config, region=args.region, stage=args.stage, dry_run=args.dry_run,
            url_auth=args.url_auth, log=log, out=out,
        )  # fmt: skip
        return 0
    info = built_info(root) or {}
    run_steps(platform, platform.steps(root, info), os.environ, log, out)
    return 0
