"""`nitro undeploy aws [DIR] --region R --stage S [--delete-data] [--dry-run]`:
remove what `nitro deploy aws` made (the data table only with ``--delete-data``)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..presets.aws_lambda.deploy import undeploy
    from ._project import project_root
    from .deploy import check_stage, log, out

    check_stage(args, parser)
    root = project_root(args.dir)
    undeploy(
        root, region=args.region, stage=args.stage, dry_run=args.dry_run,
        delete_data=args.delete_data, log=log, out=out,
    )  # fmt: skip
    return 0
