"""`nitro deploy aws` against moto in server mode: every resource and field read back
with boto3; a dry run creates nothing; a second deploy changes only what changed;
rollback and undeploy. (moto runs functions only in Docker: nothing is invoked.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _aws_deploy import OPTIONS, SCHEDULE, Run, write_project
from storage_drivers.backends._moto import Moto

from helpers import nitro_cli

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"  # moto's
REGION = "us-east-1"


def rule(stage: str, cron: str) -> str:
    from nitro.presets.aws_lambda.preset import rule_name

    return rule_name(f"shop-{stage}", cron)


def zip_sha(root: Path) -> str:
    from nitro.presets.aws_lambda.deploy.spec import code_sha256

    return code_sha256(root / ".output" / "aws-lambda.zip")


def statements(aws: Moto, function: str) -> dict[str, dict[str, Any]]:
    policy = aws.client("lambda").get_policy(FunctionName=function, Qualifier="live")["Policy"]
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def rules_of(aws: Moto, stage: str) -> dict[str, dict[str, Any]]:
    events = aws.client("events")
    found = events.list_rules(NamePrefix=f"shop-{stage}-cron-")["Rules"]
    return {
        r["Name"]: {**r, "Targets": events.list_targets_by_rule(Rule=r["Name"])["Targets"]}
        for r in found
    }


def missing(call: Callable[[], Any]) -> bool:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError:
        return True
    return False


def test_dry_run_prints_the_plan_and_creates_nothing(
    aws_env: Moto, shop: Path, cli: Callable[..., Run]
) -> None:
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "dry", "--dry-run")
    assert run.code == 0, run.err
    assert run.lines == [
        "create dynamodb-table shop-dry-data",
        "create iam-role shop-dry-role",
        "create lambda-function shop-dry",
        "create lambda-alias shop-dry:live",
        "create function-url shop-dry:live",
        f"create eventbridge-rule {rule('dry', '*/5 * * * *')}",
        f"create eventbridge-rule {rule('dry', '0 3 * * *')}",
    ]
    assert "dry run: 7 change(s) planned, none made" in run.err
    assert missing(lambda: aws_env.client("lambda").get_function(FunctionName="shop-dry"))
    assert missing(lambda: aws_env.client("iam").get_role(RoleName="shop-dry-role"))
    assert missing(lambda: aws_env.client("dynamodb").describe_table(TableName="shop-dry-data"))
    assert rules_of(aws_env, "dry") == {}


def test_deploy_creates_every_resource_then_changes_nothing(
    aws_env: Moto, shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NITRO_GREETING", "hello from the deploy")
    run = cli("deploy", "aws", str(shop), "--prebuilt")
    assert run.code == 0, run.err
    assert set(run.actions().values()) == {"create"} and len(run.plan) == 7
    lam, iam = aws_env.client("lambda"), aws_env.client("iam")

    # The role: trusted by Lambda only; one inline policy, nothing attached.
    role = iam.get_role(RoleName="shop-prod-role")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert iam.list_attached_role_policies(RoleName="shop-prod-role")["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName="shop-prod-role")["PolicyNames"] == ["nitro"]
    policy = iam.get_role_policy(RoleName="shop-prod-role", PolicyName="nitro")["PolicyDocument"]
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-prod"
    assert policy["Statement"] == [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [logs, f"{logs}:*"],
        },
        {
            "Sid": "Data",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:Scan",
                "dynamodb:BatchWriteItem",
            ],
            "Resource": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/shop-prod-data"],
        },
    ]

    # The function, as the build asked.
    config = lam.get_function_configuration(FunctionName="shop-prod")
    assert config["Runtime"] == "python3.12" and config["Handler"] == "index.handler"
    assert config["Role"] == role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/shop-prod-role"
    assert config["MemorySize"] == 512 and config["Timeout"] == 20
    assert config["Architectures"] == ["x86_64"] and config["PackageType"] == "Zip"
    assert config["CodeSha256"] == zip_sha(shop)
    assert config["Environment"]["Variables"] == {
        "LOG_LEVEL": "info",
        "NITRO_DYNAMODB_TABLE": "shop-prod-data",
        "NITRO_GREETING": "hello from the deploy",
    }
    tags = lam.list_tags(Resource=config["FunctionArn"])["Tags"]
    assert tags == {"nitro:project": "shop", "nitro:stage": "prod"}

    # Version 1 behind the alias, a public URL on the alias.
    alias = lam.get_alias(FunctionName="shop-prod", Name="live")
    assert alias["FunctionVersion"] == "1"
    published = lam.get_function_configuration(FunctionName="shop-prod", Qualifier="1")
    assert published["CodeSha256"] == config["CodeSha256"]
    url = lam.get_function_url_config(FunctionName="shop-prod", Qualifier="live")
    assert url["AuthType"] == "NONE"
    assert run.lines[-1] == url["FunctionUrl"]
    granted = statements(aws_env, "shop-prod")
    assert granted["nitro-url"]["Action"] == "lambda:InvokeFunctionUrl"
    assert granted["nitro-url"]["Principal"] == "*"
    assert granted["nitro-url"]["FunctionUrlAuthType"] == "NONE"
    assert granted["nitro-url-invoke"]["Action"] == "lambda:InvokeFunction"
    assert granted["nitro-url-invoke"]["InvokedViaFunctionUrl"] is True

    # One rule per cron, one target per task on the alias, each allowed to invoke it.
    rules = rules_of(aws_env, "prod")
    assert sorted(rules) == sorted(rule("prod", cron) for cron in SCHEDULE)
    for cron, tasks in SCHEDULE.items():
        found = rules[rule("prod", cron)]
        assert found["State"] == "ENABLED"
        expected = {"*/5 * * * *": "cron(0/5 * * * ? *)", "0 3 * * *": "cron(0 3 * * ? *)"}
        assert found["ScheduleExpression"] == expected[cron]
        assert [(t["Id"], t["Arn"], json.loads(t["Input"])) for t in found["Targets"]] == [
            (f"task{i}", alias["AliasArn"], {"nitro:task": task, "nitro:cron": cron})
            for i, task in enumerate(tasks)
        ]
        permission = granted[f"nitro-{found['Name']}"]
        assert permission["Principal"] == {"Service": "events.amazonaws.com"}
        assert permission["Action"] == "lambda:InvokeFunction"
        assert permission["Condition"]["ArnLike"]["AWS:SourceArn"] == found["Arn"]

    # The data table, TTL on.
    db = aws_env.client("dynamodb")
    table = db.describe_table(TableName="shop-prod-data")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = db.describe_time_to_live(TableName="shop-prod-data")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}

    # Again, nothing changed: every line unchanged, no version published. Without
    # --prebuilt, so the project is built again: the same project builds the same zip.
    done = nitro_cli("deploy", "aws", str(shop), timeout=600)
    again = Run(done.returncode, done.stdout.splitlines(), done.stderr)
    assert again.code == 0, again.err
    assert "[nitro] building shop for aws-lambda" in again.err
    assert set(again.actions().values()) == {"unchanged"} and len(again.plan) == 7
    assert "nothing to change" in again.err and again.lines[-1] == url["FunctionUrl"]
    versions = lam.list_versions_by_function(FunctionName="shop-prod")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]


def test_a_second_deploy_changes_only_what_changed(
    aws_env: Moto, fresh_shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = fresh_shop
    first = cli("deploy", "aws", str(root), "--prebuilt", "--stage", "chg")
    assert first.code == 0, first.err

    # Only an environment variable: the function's configuration and the alias.
    monkeypatch.setenv("NITRO_FEATURE", "on")
    run = cli("deploy", "aws", str(root), "--prebuilt", "--stage", "chg")
    assert run.code == 0, run.err
    assert [line for line in run.plan if not line.startswith("unchanged")] == [
        "update lambda-function shop-chg (environment)",
        "update lambda-alias shop-chg:live (version)",
    ]
    lam = aws_env.client("lambda")
    assert lam.get_alias(FunctionName="shop-chg", Name="live")["FunctionVersion"] == "2"
    variables = lam.get_function_configuration(FunctionName="shop-chg", Qualifier="2")
    assert variables["Environment"]["Variables"]["NITRO_FEATURE"] == "on"

    # Memory, a cron dropped, one added, one cron's tasks changed: `nitro deploy aws`
    # rebuilds (the schedules are in the code too), then updates just that. (In a new
    # process, as a user runs it: a process loads a project's config once.)
    schedule = {"0 3 * * *": ["db:cleanup"], "0 12 * * 1-5": ["mail:digest"]}
    write_project(root, schedule, {**OPTIONS, "memory": 1024})
    done = nitro_cli("deploy", "aws", str(root), "--stage", "chg", timeout=600)
    run = Run(done.returncode, done.stdout.splitlines(), done.stderr)
    assert run.code == 0, run.err
    assert "[nitro] building shop for aws-lambda" in run.err
    assert run.actions() == {
        "dynamodb-table shop-chg-data": "unchanged",
        "iam-role shop-chg-role": "unchanged",
        "lambda-function shop-chg": "update",
        "lambda-alias shop-chg:live": "update",
        "function-url shop-chg:live": "unchanged",
        f"eventbridge-rule {rule('chg', '0 3 * * *')}": "update",
        f"eventbridge-rule {rule('chg', '0 12 * * 1-5')}": "create",
        f"eventbridge-rule {rule('chg', '*/5 * * * *')}": "delete",
    }
    assert "update lambda-function shop-chg (code, memory)" in run.plan
    assert f"update eventbridge-rule {rule('chg', '0 3 * * *')} (description, targets)" in run.plan
    config = lam.get_function_configuration(FunctionName="shop-chg")
    assert config["MemorySize"] == 1024 and config["CodeSha256"] == zip_sha(root)
    assert lam.get_alias(FunctionName="shop-chg", Name="live")["FunctionVersion"] == "3"
    rules = rules_of(aws_env, "chg")
    assert sorted(rules) == sorted(rule("chg", cron) for cron in schedule)
    weekdays = rules[rule("chg", "0 12 * * 1-5")]
    assert weekdays["ScheduleExpression"] == "cron(0 12 ? * MON-FRI *)"
    assert [json.loads(t["Input"]) for t in weekdays["Targets"]] == [
        {"nitro:task": "mail:digest", "nitro:cron": "0 12 * * 1-5"}
    ]
    nightly = rules[rule("chg", "0 3 * * *")]["Targets"]
    assert [(t["Id"], json.loads(t["Input"])) for t in nightly] == [
        ("task0", {"nitro:task": "db:cleanup", "nitro:cron": "0 3 * * *"})
    ]
    granted = statements(aws_env, "shop-chg")
    assert f"nitro-{rule('chg', '*/5 * * * *')}" not in granted
    assert f"nitro-{rule('chg', '0 12 * * 1-5')}" in granted


def test_a_new_architecture_is_sent_with_the_code(
    aws_env: Moto, fresh_shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda changes the architecture with the code (UpdateFunctionCode). moto 5.2
    ignores that parameter, so the call itself is checked."""
    from nitro.presets.aws_lambda.deploy import session as aws_session

    assert cli("deploy", "aws", str(fresh_shop), "--prebuilt", "--stage", "arch").code == 0
    info_path = fresh_shop / ".output" / "nitro.json"
    info = json.loads(info_path.read_text())
    info["aws_lambda"]["architecture"] = "arm64"  # as an arm64 build records it
    info_path.write_text(json.dumps(info))
    sent: list[dict[str, Any]] = []
    original = aws_session.new_session

    def new_session(region: str | None) -> Any:
        session = original(region)
        session.events.register(
            "provide-client-params.lambda.UpdateFunctionCode",
            lambda params, **_: sent.append(params),
        )
        return session

    monkeypatch.setattr(aws_session, "new_session", new_session)
    run = cli("deploy", "aws", str(fresh_shop), "--prebuilt", "--stage", "arch")
    assert run.code == 0, run.err
    assert "update lambda-function shop-arch (architecture)" in run.plan
    [params] = sent
    assert params["Architectures"] == ["arm64"] and params["FunctionName"] == "shop-arch"


def test_url_auth_aws_iam_removes_public_access(
    aws_env: Moto, shop: Path, cli: Callable[..., Run]
) -> None:
    assert cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "iam").code == 0
    run = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "iam", "--url-auth", "AWS_IAM")
    assert run.code == 0, run.err
    assert "update function-url shop-iam:live (auth, permission)" in run.plan
    lam = aws_env.client("lambda")
    assert lam.get_function_url_config(FunctionName="shop-iam", Qualifier="live")["AuthType"] == (
        "AWS_IAM"
    )
    assert not {"nitro-url", "nitro-url-invoke"} & set(statements(aws_env, "shop-iam"))


def test_rollback_moves_live_back_and_deploy_moves_it_forward(
    aws_env: Moto, shop: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    lam = aws_env.client("lambda")
    assert cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "rb").code == 0
    monkeypatch.setenv("NITRO_RELEASE", "2")
    assert cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "rb").code == 0
    assert lam.get_alias(FunctionName="shop-rb", Name="live")["FunctionVersion"] == "2"

    dry = cli("deploy", "aws", str(shop), "--rollback", "--stage", "rb", "--dry-run")
    assert dry.lines == ["update lambda-alias shop-rb:live (version 2 -> 1)"]
    assert lam.get_alias(FunctionName="shop-rb", Name="live")["FunctionVersion"] == "2"
    run = cli("deploy", "aws", str(shop), "--rollback", "--stage", "rb")
    assert run.code == 0, run.err
    assert run.lines[0] == "update lambda-alias shop-rb:live (version 2 -> 1)"
    url = lam.get_function_url_config(FunctionName="shop-rb", Qualifier="live")["FunctionUrl"]
    assert run.lines[1] == url
    assert lam.get_alias(FunctionName="shop-rb", Name="live")["FunctionVersion"] == "1"

    again = cli("deploy", "aws", str(shop), "--rollback", "--stage", "rb")
    assert again.code == 1
    assert "rollback: shop-rb:live runs version 1, the oldest there is" in again.err

    # Deploying the same build again moves live to the version that has it: no new one.
    forward = cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "rb")
    assert forward.code == 0, forward.err
    assert "update lambda-alias shop-rb:live (version)" in forward.plan
    assert "unchanged lambda-function shop-rb" in forward.plan
    assert lam.get_alias(FunctionName="shop-rb", Name="live")["FunctionVersion"] == "2"
    versions = lam.list_versions_by_function(FunctionName="shop-rb")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]


def test_undeploy_removes_everything_but_the_data_unless_asked(
    aws_env: Moto, shop: Path, cli: Callable[..., Run]
) -> None:
    assert cli("deploy", "aws", str(shop), "--prebuilt", "--stage", "gone").code == 0
    dry = cli("undeploy", "aws", str(shop), "--stage", "gone", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.lines == [
        f"delete eventbridge-rule {rule('gone', '*/5 * * * *')}",
        f"delete eventbridge-rule {rule('gone', '0 3 * * *')}",
        "delete function-url shop-gone:live",
        "delete lambda-function shop-gone",
        "delete iam-role shop-gone-role",
        "unchanged dynamodb-table shop-gone-data",
    ]
    lam, iam, db = (aws_env.client(s) for s in ("lambda", "iam", "dynamodb"))
    assert lam.get_function(FunctionName="shop-gone")["Configuration"]["FunctionName"]

    run = cli("undeploy", "aws", str(shop), "--stage", "gone")
    assert run.code == 0, run.err
    assert run.lines == dry.lines
    assert "keeping DynamoDB table shop-gone-data" in run.err
    assert missing(lambda: lam.get_function(FunctionName="shop-gone"))
    assert missing(lambda: iam.get_role(RoleName="shop-gone-role"))
    assert rules_of(aws_env, "gone") == {}
    assert db.describe_table(TableName="shop-gone-data")["Table"]["TableStatus"] == "ACTIVE"

    run = cli("undeploy", "aws", str(shop), "--stage", "gone", "--delete-data")
    assert run.lines == ["delete dynamodb-table shop-gone-data"]
    assert missing(lambda: db.describe_table(TableName="shop-gone-data"))
    run = cli("undeploy", "aws", str(shop), "--stage", "gone", "--delete-data")
    assert run.code == 0 and run.lines == []
    assert "nothing of shop-gone to remove" in run.err
