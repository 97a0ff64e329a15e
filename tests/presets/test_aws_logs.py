"""`nitro logs aws` against moto in server mode (CloudWatch Logs, Lambda): the events
of the function `nitro deploy aws` named ``{name}-{stage}``, one a line on stdout, or
JSON; `--follow` prints new events as they come and stops cleanly on Ctrl-C; a
function that does not exist is exit 1 naming it and the stage."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _aws_deploy import Run
from storage_drivers.backends._moto import Moto

pytestmark = pytest.mark.slow

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def now_ms() -> int:
    return int(time.time() * 1000)


def make_function(aws: Moto, name: str) -> None:
    iam, lam = aws.client("iam"), aws.client("lambda")
    try:
        role = iam.get_role(RoleName=f"{name}-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(TRUST))[
            "Role"
        ]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )


def put_events(aws: Moto, group: str, messages: list[tuple[int, str]], stream: str = "s1") -> None:
    logs = aws.client("logs")
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in messages],
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "logshop"  # the project's name: its folder's (no pyproject)
    root.mkdir()
    return root


def iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def test_prints_the_functions_events_one_a_line(
    aws_env: Moto, project: Path, cli: Callable[..., Run]
) -> None:
    make_function(aws_env, "logshop-prod")
    now = now_ms()
    put_events(
        aws_env,
        "/aws/lambda/logshop-prod",
        [
            (now - 3_600_000, "an hour ago"),
            (now - 60_000, "START RequestId: 1 Version: $LATEST\n"),
            (now - 59_000, '{"level": "INFO", "message": "hello"}'),
            (now - 58_000, "[ERROR]\tValueError: boom\rTraceback (most recent call last):\r  ..."),
        ],
    )
    run = cli("logs", "aws", str(project))
    assert run.code == 0, run.err
    assert run.lines == [
        f"{iso(now - 60_000)} START RequestId: 1 Version: $LATEST",
        f'{iso(now - 59_000)} {{"level": "INFO", "message": "hello"}}',
        f"{iso(now - 58_000)} [ERROR]\tValueError: boom\\nTraceback (most recent call last):\\n  ...",
    ]
    wider = cli("logs", "aws", str(project), "--since", "2h", "--json")
    assert wider.code == 0, wider.err
    events = [json.loads(line) for line in wider.lines]
    assert [e["message"] for e in events][:2] == [
        "an hour ago",
        "START RequestId: 1 Version: $LATEST",
    ]
    assert events[0] == {
        "time": iso(now - 3_600_000),
        "timestamp": now - 3_600_000,
        "stream": "s1",
        "message": "an hour ago",
    }
    assert events[3]["message"].endswith("\rTraceback (most recent call last):\r  ...")


def test_a_function_that_does_not_exist_is_exit_1_naming_it_and_the_stage(
    aws_env: Moto, project: Path, cli: Callable[..., Run]
) -> None:
    run = cli("logs", "aws", str(project), "--stage", "nope")
    assert run.code == 1 and run.lines == []
    assert run.err.startswith(
        "[nitro:logs] no Lambda function logshop-nope (stage nope) in us-east-1: deploy it "
        "with `nitro deploy aws --stage nope`"
    )


def test_a_function_that_never_ran_has_no_logs_yet(
    aws_env: Moto, project: Path, cli: Callable[..., Run]
) -> None:
    make_function(aws_env, "logshop-quiet")
    run = cli("logs", "aws", str(project), "--stage", "quiet")
    assert run.code == 0 and run.lines == []
    assert "no logs yet: /aws/lambda/logshop-quiet does not exist" in run.err


def test_the_log_group_the_function_is_configured_with_is_read() -> None:
    """A function may log to a group of its choosing (its LoggingConfig; moto keeps
    none, so this reads a configuration as Lambda returns it)."""
    from nitro.presets.aws_lambda.deploy.logs import _log_group
    from nitro.presets.aws_lambda.deploy.names import Names

    class Lambda:
        def get_function_configuration(self, FunctionName: str) -> dict[str, object]:
            return {"FunctionName": FunctionName, "LoggingConfig": {"LogGroup": "/shared/shop"}}

    class Aws:
        region = "us-east-1"

        def client(self, service: str) -> Lambda:
            return Lambda()

    names = Names("shop", "prod", "us-east-1", "123456789012")
    assert _log_group(Aws(), names, "prod") == "/shared/shop"


def test_a_bad_since_is_a_usage_error(
    aws_env: Moto, project: Path, cli: Callable[..., Run]
) -> None:
    run = cli("logs", "aws", str(project), "--since", "yesterday")
    assert run.code == 2
    assert "--since 'yesterday': give a duration (30s, 10m, 2h, 1d, 1w)" in run.err


@pytest.fixture
def follower(
    aws_env: Moto, project: Path
) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """`nitro logs aws --follow` of logshop-tail in a process of its own, its stdout
    lines in a queue."""
    make_function(aws_env, "logshop-tail")
    process = subprocess.Popen(
        [sys.executable, "-m", "nitro", "logs", "aws", str(project), "--stage", "tail", "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        reader.join(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_follow_prints_new_events_and_stops_cleanly_on_ctrl_c(
    aws_env: Moto, follower: tuple[subprocess.Popen[str], queue.Queue[str]]
) -> None:
    group = "/aws/lambda/logshop-tail"
    process, lines = follower
    first = now_ms() - 5000
    put_events(aws_env, group, [(first, "before")])
    assert lines.get(timeout=30).endswith(" before")
    put_events(aws_env, group, [(now_ms(), "after")])
    assert lines.get(timeout=30).endswith(" after")
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert process.stderr is not None
    errors = process.stderr.read()
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    assert lines.empty()  # each event once, though polls overlap
