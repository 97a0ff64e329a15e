"""`nitro deploy aws` when things go wrong, against moto: a call refused mid-deploy
(injected with a botocore event hook) is named with its AWS error code, and the next
run completes what is missing; a role IAM has not propagated yet is waited for (a
bounded time); a zip over the direct-upload limit goes through S3; the CLI's
stdout/stderr and exit codes."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _aws_deploy import Run
from storage_drivers.backends._moto import Moto

from helpers import nitro_cli

pytestmark = pytest.mark.slow

LINE = re.compile(r"(create|update|delete|unchanged) [a-z0-9-]+ \S+( \(.+\))?")


@dataclass
class Refusal:
    calls: list[str] = field(default_factory=list)
    active: bool = True

    def stop(self) -> None:
        self.active = False


def refuse(
    monkeypatch: pytest.MonkeyPatch,
    event: str,
    code: str = "AccessDeniedException",
    message: str = "refused by the test",
    times: int | None = None,
) -> Refusal:
    """Make the call `event` ("lambda.CreateFunctionUrlConfig") fail with `code`, the
    first `times` times (always: None), in every session a deploy opens, until
    `.stop()`."""
    from botocore.exceptions import ClientError

    from nitro.presets.aws_lambda.deploy import session as aws_session

    original = aws_session.new_session
    refusal = Refusal()

    def handler(model: object, **_: object) -> None:
        if refusal.active and (times is None or len(refusal.calls) < times):
            refusal.calls.append(event)
            error = {"Error": {"Code": code, "Message": message}}
            raise ClientError(error, event.split(".")[1])  # type: ignore[arg-type]

    def new_session(region: str | None) -> object:
        session = original(region)
        session.events.register(f"before-call.{event}", handler)
        return session

    monkeypatch.setattr(aws_session, "new_session", new_session)
    return refusal


def test_a_refused_call_is_named_and_the_next_run_completes(
    aws_env: Moto, shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = refuse(monkeypatch, "lambda.CreateFunctionUrlConfig")
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "f1")
    assert run.code == 1 and refused.calls
    assert (
        "[nitro:deploy] create function URL shop-f1:live: AccessDeniedException: "
        "refused by the test"
    ) in run.err
    assert len(run.plan) == 7 and not any(line.startswith("https://") for line in run.lines)
    lam, events = aws_env.client("lambda"), aws_env.client("events")
    assert lam.get_alias(FunctionName="shop-f1", Name="live")["FunctionVersion"] == "1"
    assert events.list_rules(NamePrefix="shop-f1-cron-")["Rules"] == []

    refused.stop()
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "f1")
    assert run.code == 0, run.err
    assert [line.split()[0] for line in run.plan] == [
        "unchanged",  # table
        "unchanged",  # role
        "unchanged",  # function
        "unchanged",  # alias: version 1 has this code and configuration
        "create",  # function URL
        "create",  # rules
        "create",
    ]
    url = lam.get_function_url_config(FunctionName="shop-f1", Qualifier="live")["FunctionUrl"]
    assert run.lines[-1] == url
    assert len(events.list_rules(NamePrefix="shop-f1-cron-")["Rules"]) == 2
    versions = lam.list_versions_by_function(FunctionName="shop-f1")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]


def test_a_stop_between_update_and_publish_is_completed(
    aws_env: Moto, shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "f2").code == 0
    monkeypatch.setenv("NITRO_RELEASE", "2")
    refused = refuse(monkeypatch, "lambda.PublishVersion", code="TooManyRequestsException")
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "f2")
    assert run.code == 1
    assert "[nitro:deploy] publish Lambda alias shop-f2:live: TooManyRequestsException" in run.err
    lam = aws_env.client("lambda")
    assert lam.get_function_configuration(FunctionName="shop-f2")["Environment"]["Variables"][
        "NITRO_RELEASE"
    ] == ("2")
    assert lam.get_alias(FunctionName="shop-f2", Name="live")["FunctionVersion"] == "1"

    refused.stop()
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "f2")
    assert run.code == 0, run.err
    assert [line for line in run.plan if not line.startswith("unchanged")] == [
        "update lambda-alias shop-f2:live (version)"
    ]
    assert lam.get_alias(FunctionName="shop-f2", Name="live")["FunctionVersion"] == "2"


def test_a_role_not_yet_assumable_is_waited_for_a_bounded_time(
    aws_env: Moto, shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nitro.presets.aws_lambda.deploy import function

    monkeypatch.setattr(function, "ROLE_RETRY_DELAYS", (0.01, 0.01, 0.01))
    message = "The role defined for the function cannot be assumed by Lambda."
    code = "InvalidParameterValueException"
    refused = refuse(monkeypatch, "lambda.CreateFunction", code, message, times=2)
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "f3")
    assert run.code == 0, run.err
    assert len(refused.calls) == 2
    assert run.err.count("Lambda cannot assume shop-f3-role yet (IAM is propagating it)") == 2

    refused.stop()
    refused = refuse(monkeypatch, "lambda.CreateFunction", code, message)
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "f4")
    assert run.code == 1
    assert len(refused.calls) == 4  # the first try and three more, then it gives up
    assert f"[nitro:deploy] create Lambda function shop-f4: {code}: {message}" in run.err


def test_a_zip_over_the_direct_upload_limit_goes_through_s3(
    aws_env: Moto, shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nitro.presets.aws_lambda.deploy import bucket
    from nitro.presets.aws_lambda.deploy.spec import code_sha256

    monkeypatch.setattr(bucket, "DIRECT_UPLOAD_LIMIT", 1000)
    name = "shop-s3-deploy-123456789012-us-east-1"
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "s3")
    assert run.code == 0, run.err
    assert run.plan[0] == f"create s3-bucket {name}"
    assert "is over the direct-upload limit: it goes through S3" in run.err
    s3 = aws_env.client("s3")
    sha = code_sha256(shop / ".output" / "aws-lambda.zip")
    key = f"shop-s3/{base64.b64decode(sha).hex()}.zip"
    stored = s3.get_object(Bucket=name, Key=key)["Body"].read()
    assert stored == (shop / ".output" / "aws-lambda.zip").read_bytes()
    blocked = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    lam = aws_env.client("lambda")
    assert lam.get_function_configuration(FunctionName="shop-s3")["CodeSha256"] == sha

    again = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "s3")
    assert again.plan[0] == f"unchanged s3-bucket {name}"
    gone = cli("undeploy", "aws", str(shop), "--stage", "s3", "--delete-data")
    assert gone.code == 0, gone.err
    assert f"delete s3-bucket {name}" in gone.lines
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_the_cli_keeps_stdout_for_results(aws_env: Moto, shop: Path) -> None:
    done = nitro_cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "cli", "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 7 and all(LINE.fullmatch(line) for line in lines), lines
    assert "[nitro:deploy] shop-cli in us-east-1 (account 123456789012)" in done.stderr

    done = nitro_cli("deploy", "aws", str(shop), "--stage", "no/slash", "--dry-run")
    assert done.returncode == 2 and "--stage 'no/slash'" in done.stderr
    done = nitro_cli("deploy", "gcp", str(shop), "--region", "us-east-1")
    assert done.returncode == 2 and "unrecognized arguments: --region" in done.stderr
    done = nitro_cli("deploy", "aws", str(shop), "--rollback", "--url-auth", "AWS_IAM")
    assert done.returncode == 2
    done = nitro_cli("deploy", "aws", str(shop), "--rollback", "--stage", "never")
    assert done.returncode == 1 and done.stdout == ""
    assert "[nitro:deploy] rollback: no Lambda alias shop-never:live: deploy first" in done.stderr


def test_missing_region_and_credentials_are_clear_errors(
    aws_env: Moto, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    done = nitro_cli("deploy", "aws", str(shop), "--prebuilt", "--dry-run")
    assert done.returncode == 1
    assert "[nitro:deploy] no AWS region: pass --region" in done.stderr
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    done = nitro_cli("deploy", "aws", str(shop), "--prebuilt", "--dry-run", "--region", "eu-west-1")
    assert done.returncode == 1 and done.stdout == ""
    assert "NoCredentialsError: Unable to locate credentials" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("[nitro:deploy] read account")


def test_aws_profile_gives_the_credentials_and_the_region(
    aws_env: Moto, shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config").write_text("[profile shop]\nregion = eu-central-1\n")
    (tmp_path / "credentials").write_text(
        "[shop]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n"
    )
    for name in ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "shop")
    done = nitro_cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "prof", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "shop-prof in eu-central-1 (account 123456789012)" in done.stderr
    assert done.stdout.splitlines()[0] == "create dynamodb-table shop-prof-data"
