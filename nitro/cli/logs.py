"""`nitro logs aws [DIR] [--stage S] [--region R] [--since 10m] [--follow] [--json]`:
the deployed function's CloudWatch log events on stdout, one a line (see
`nitro.presets.aws_lambda.deploy.logs`). A function that does not exist is exit 1, naming it."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..presets.aws_lambda.deploy.logs import parse_since, tail
    from ._project import project_root
    from .deploy import check_stage

    check_stage(args, parser)
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        parser.error(str(exc))
    root = project_root(args.dir)
    return tail(
        root, region=args.region, stage=args.stage, since=since, follow=args.follow,
        as_json=args.json, out=_out, log=_log,
    )  # fmt: skip


def _out(line: str) -> None:
    print(line, flush=True)


def _log(message: str) -> None:
    print(f"[nitro:logs] {message}", file=sys.stderr, flush=True)
