"""`nitro deploy aws|gcp|azure|vercel [DIR]`: build, then deploy.

``aws`` deploys with boto3 (`nitro.deploy.aws`): ``--region``, ``--stage`` (default
prod), ``--dry-run`` (print the plan, change nothing), ``--rollback`` (move the
alias ``live`` back one version), ``--url-auth NONE|AWS_IAM``. The others run the
platform's CLI (`nitro.deploy.external`). ``--prebuilt`` deploys the build already
in ``.output/`` when it is of the platform's preset.
stdout: plan lines and the URL (or the commands to run); progress: stderr.
"""

from __future__ import annotations

import argparse
import os
import re
import sys


def log(message: str) -> None:
    print(f"[nitro:deploy] {message}", file=sys.stderr, flush=True)


def out(line: str) -> None:
    print(line, flush=True)


def check_stage(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from ..deploy.aws.names import STAGE_PATTERN

    if not re.fullmatch(STAGE_PATTERN, args.stage):
        parser.error(
            f"--stage {args.stage!r}: use 1-20 letters, digits, '-' or '_', starting with a "
            "letter or digit"
        )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..config import load_config
    from ..deploy import get_preset
    from ..deploy.aws.spec import built_preset
    from ..deploy.external import PLATFORMS, built_info, run_steps, steps
    from ._project import project_root
    from .build import build_project

    if args.platform == "aws":
        check_stage(args, parser)
        if args.rollback and (args.prebuilt or args.url_auth):
            parser.error("--rollback moves the alias back: it takes no --prebuilt or --url-auth")
    root = project_root(args.dir)
    if args.platform == "aws" and args.rollback:
        from ..deploy.aws import rollback

        rollback(root, region=args.region, stage=args.stage, dry_run=args.dry_run, log=log, out=out)
        return 0
    config = load_config(root)
    preset = "aws-lambda" if args.platform == "aws" else PLATFORMS[args.platform].preset
    if args.prebuilt and built_preset(root) == preset:
        log(f"deploying the {preset} build in .output/ (--prebuilt)")
    else:
        if args.prebuilt:
            log(f"no {preset} build in .output/: building it")
        build_project(root, config, get_preset(preset))
    if args.platform == "aws":
        from ..deploy.aws import deploy

        deploy(
            root, config, region=args.region, stage=args.stage, dry_run=args.dry_run,
            url_auth=args.url_auth, log=log, out=out,
        )  # fmt: skip
        return 0
    platform = PLATFORMS[args.platform]
    info = built_info(root) or {}
    run_steps(platform, steps(platform, root, info), os.environ, log, out)
    return 0
