"""`nitro deploy aws`, `--rollback` and `nitro undeploy aws`: read, plan, print, apply.

Every run first reads what exists, then plans one change per resource, prints the
plan on stdout (``create|update|delete|unchanged TYPE NAME``), and, unless it is
a dry run, applies it in dependency order: the artifact bucket, the table, the
role, the function, its version and alias, the URL, the rules (deleted rules
last). Progress goes to stderr; the function's URL is the last line on stdout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ....bundle.requirements import project_name
from ....config import NitroConfig
from .alias import plan_alias, plan_rollback
from .bucket import plan_bucket, plan_bucket_removal, via_s3
from .function import plan_function, plan_function_removal
from .names import Names
from .plan import Plan
from .role import plan_role, plan_role_removal
from .rules import plan_rule_removals, plan_rules
from .secrets import check_parameters
from .session import Aws, open_aws
from .spec import load_spec
from .table import plan_table, plan_table_removal
from .url import function_url, plan_url, plan_url_removal
from .websocket import plan_websocket, plan_websocket_removal, websocket_url

__all__ = ["deploy", "rollback", "undeploy"]

Output = Callable[[str], None]


def _connect(root: Path, region: str | None, stage: str, log: Output) -> tuple[Aws, Names]:
    aws = open_aws(region)
    names = Names(project_name(root), stage, aws.region, aws.account, aws.partition)
    log(f"{names.function} in {aws.region} (account {aws.account}): reading what exists")
    return aws, names


def _finish(plan: Plan, dry_run: bool, log: Output, out: Output) -> bool:
    """Print the plan; apply it unless `dry_run`. True when it was applied."""
    for line in plan.lines():
        out(line)
    if dry_run:
        log(f"dry run: {len(plan.pending)} change(s) planned, none made")
        return False
    if not plan.pending:
        log("nothing to change")
    plan.apply(log)
    return True


def _announce(
    aws: Aws, names: Names, done: str, log: Output, out: Output, websocket: bool = False
) -> None:
    """`done` and the function's URL on stderr; the URL, the last line, on stdout
    (after the WebSocket API's ``wss://`` URL, when the app has one)."""
    if websocket:
        wss = websocket_url(aws, names)
        log(f"WebSocket API: {wss}")
        if wss:
            out(wss)
    url = function_url(aws, names)
    log(f"{done}: {url}")
    if url:
        out(url)


def deploy(
    root: Path,
    config: NitroConfig,
    *,
    region: str | None,
    stage: str,
    dry_run: bool,
    url_auth: str | None,
    log: Output,
    out: Output,
) -> None:
    """Deploy the aws-lambda build in ``root/.output``."""
    aws, names = _connect(root, region, stage, log)
    spec = load_spec(root, config, names, log, url_auth)
    check_parameters(aws, spec.resources.secrets, log)
    if via_s3(spec):
        log(
            f"the zip ({spec.zip_size / 1024 / 1024:.1f} MB) is over the direct-upload limit: it goes through S3"
        )
    plan = Plan()
    plan.add(plan_bucket(aws, names, spec))
    plan.add(plan_table(aws, names, spec))
    plan.add(plan_role(aws, names, spec, log))
    function = plan_function(aws, names, spec, log)
    plan.add(function)
    alias = plan_alias(aws, names, spec, function)
    plan.add(alias)
    plan.add(plan_url(aws, names, spec, alias))
    plan.add(plan_websocket(aws, names, spec))
    plan.add(plan_rules(aws, names, spec.resources.rules, alias))
    if _finish(plan, dry_run, log, out):
        done = f"deployed {names.function} (alias {names.alias})"
        _announce(aws, names, done, log, out, websocket=spec.resources.websocket)


def rollback(
    root: Path, *, region: str | None, stage: str, dry_run: bool, log: Output, out: Output
) -> None:
    """Move the alias ``live`` back one version."""
    aws, names = _connect(root, region, stage, log)
    plan = Plan([plan_rollback(aws, names)])
    if _finish(plan, dry_run, log, out):
        _announce(aws, names, f"rolled back {names.function}:{names.alias}", log, out)


def undeploy(
    root: Path,
    *,
    region: str | None,
    stage: str,
    dry_run: bool,
    delete_data: bool,
    log: Output,
    out: Output,
) -> None:
    """Remove what `deploy` made; the data table only with `delete_data`."""
    aws, names = _connect(root, region, stage, log)
    plan = Plan()
    plan.add(plan_rule_removals(aws, names))
    plan.add(plan_url_removal(aws, names))
    plan.add(plan_websocket_removal(aws, names))
    plan.add(plan_function_removal(aws, names))
    plan.add(plan_role_removal(aws, names))
    plan.add(plan_bucket_removal(aws, names))
    plan.add(plan_table_removal(aws, names, delete_data, log))
    if not plan.changes:
        log(f"nothing of {names.function} to remove in {aws.region}")
    if _finish(plan, dry_run, log, out) and plan.pending:
        log(f"removed {names.function}")
