"""The `nitro` command. Each sub-command lives in its own module, imported when run.

stdout carries only a command's result; progress and logs go to stderr; errors
exit 1, bad arguments exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nitro", description="File-routed Python servers for every platform."
    )
    parser.add_argument("--version", action="store_true", help="print the nitro version")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help)

    def project_dir(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("dir", nargs="?", default=".", help="project directory (default: .)")

    init = command("init", "create a new project")
    init.add_argument("dir", help="directory to create")
    init.add_argument("--force", action="store_true", help="write into a non-empty directory")
    init.add_argument(
        "--template",
        choices=["default", "vite"],
        default="default",
        help="default: API routes and pages; vite: a Vite front-end calling an API route",
    )

    dev = command("dev", "run the dev server (reloads on change)")
    project_dir(dev)
    dev.add_argument("--port", type=int, help="port (default: $NITRO_PORT, $PORT or 3000)")
    dev.add_argument("--host", help="host (default: 127.0.0.1)")

    build = command("build", "build the project for a platform")
    project_dir(build)
    build.add_argument(
        "--preset", help="target platform (default: config `preset`, $NITRO_PRESET or server)"
    )

    preview = command("preview", "serve the built output locally through its platform entry")
    project_dir(preview)
    preview.add_argument("--port", type=int, help="port (default: $NITRO_PORT, $PORT or 3000)")
    preview.add_argument("--host", help="host (default: 127.0.0.1)")

    routes = command("routes", "print the route table")
    project_dir(routes)

    openapi = command("openapi", "print the OpenAPI document of the project's routes")
    project_dir(openapi)

    deploy = command("deploy", "build and deploy: aws (boto3), or gcp, azure, vercel (their CLI)")
    platforms = deploy.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    for name, what in (
        ("aws", "AWS Lambda with boto3: role, function, alias, URL, rules, table"),
        ("gcp", "Google Cloud Functions with gcloud"),
        ("azure", "Azure Functions with func (Core Tools)"),
        ("vercel", "Vercel with the vercel CLI"),
    ):
        platform = platforms.add_parser(name, help=what, description=what)
        project_dir(platform)
        platform.add_argument("--prebuilt", action="store_true", help="deploy .output/ as built")
    aws = platforms.choices["aws"]
    undeploy = command("undeploy", "remove what `nitro deploy` made")
    undeploy_platforms = undeploy.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    undeploy_aws = undeploy_platforms.add_parser("aws", help="function, role, URL, rules, bucket")
    project_dir(undeploy_aws)
    undeploy_aws.add_argument("--delete-data", action="store_true", help="delete the data table")
    for sub in (aws, undeploy_aws):
        sub.add_argument("--region", help="AWS region (default: $AWS_REGION, the profile's)")
        sub.add_argument("--stage", default="prod", help="names {project}-{stage} (default: prod)")
        sub.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    aws.add_argument("--rollback", action="store_true", help="move alias live back a version")
    aws.add_argument("--url-auth", choices=["NONE", "AWS_IAM"], help="Function URL auth")

    logs = command("logs", "print a deployed function's logs")
    logs_platforms = logs.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    logs_aws = logs_platforms.add_parser(
        "aws", help="CloudWatch Logs of the function nitro deploy aws made"
    )
    project_dir(logs_aws)
    logs_aws.add_argument("--region", help="AWS region (default: $AWS_REGION, the profile's)")
    logs_aws.add_argument("--stage", default="prod", help="the deploy's --stage (default: prod)")
    logs_aws.add_argument(
        "--since", default="10m", help="from when: 30s, 10m, 2h, 1d, or an ISO time (default: 10m)"
    )
    logs_aws.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    logs_aws.add_argument("--json", action="store_true", help="one JSON object per event")

    task = command("task", "list or run tasks, in-process")
    task_commands = task.add_subparsers(dest="task_command", metavar="SUBCOMMAND", required=True)
    task_list = task_commands.add_parser("list", help="the tasks and their schedules")
    project_dir(task_list)
    task_run = task_commands.add_parser("run", help='run one task and print {"result": ...}')
    task_run.add_argument("name", help="task name, e.g. db:migrate")
    project_dir(task_run)
    task_run.add_argument(
        "--payload", default="{}", help="the payload, a JSON object (default: {})"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `nitro` command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    module = importlib.import_module(f"nitro.cli.{args.command}")
    try:
        return int(module.run(args, parser) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from ._errors import report

        return report(exc)
