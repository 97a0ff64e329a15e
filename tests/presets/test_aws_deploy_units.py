"""The pieces of `nitro deploy aws` that need no AWS: names, the function's
environment, the resources' description (the role's policy), comparing
configurations, error lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from nitro.presets.aws_lambda.deploy.function import differences
from nitro.presets.aws_lambda.deploy.names import STAGE_PATTERN, Names, rule_name, rule_suffix
from nitro.presets.aws_lambda.deploy.plan import Change
from nitro.presets.aws_lambda.deploy.resources import (
    DATA_TABLE_ACTIONS,
    Grant,
    Resources,
    describe,
    storage_grants,
)
from nitro.presets.aws_lambda.deploy.session import deploy_error
from nitro.presets.aws_lambda.deploy.spec import Spec, function_environment
from nitro.presets.errors import DeployError

OPTIONS = {"runtime": "python3.12", "architecture": "x86_64", "memory": 512, "timeout": 20}


def names(project: str = "shop", stage: str = "prod") -> Names:
    return Names(project, stage, "eu-west-1", "123456789012")


def resources(
    storage: dict[str, dict[str, Any]] | None = None, env: dict[str, str] | None = None
) -> Resources:
    return describe(names(), OPTIONS, [], storage or {}, env or {}, print)


def spec(**storage: dict[str, Any]) -> Spec:
    return Spec(Path("aws-lambda.zip"), "abc=", 10, resources(storage))


def test_names_derive_from_the_project_and_the_stage() -> None:
    found = names("my shop", "dev")
    assert found.function == "my-shop-dev" and found.role == "my-shop-dev-role"
    assert found.table == "my-shop-dev-data"
    assert found.bucket == "my-shop-dev-deploy-123456789012-eu-west-1"
    assert found.role_arn == "arn:aws:iam::123456789012:role/my-shop-dev-role"
    assert found.alias_arn == "arn:aws:lambda:eu-west-1:123456789012:function:my-shop-dev:live"
    assert found.rule("*/5 * * * *") == rule_name("my-shop-dev", "*/5 * * * *")
    assert found.rule_prefix == "my-shop-dev-cron-"
    assert found.owns_rule("my-shop-dev" + rule_suffix("@daily"))
    assert not found.owns_rule("my-shop-dev-cron-other")
    assert not found.owns_rule("my-shop-dev-cron-abcdef0123-x")


def test_long_names_are_shortened_or_refused() -> None:
    long = names("a-very-long-project-name-for-the-bucket-names", "staging")
    assert len(long.bucket) <= 63 and long.bucket.endswith("-deploy-123456789012-eu-west-1")
    assert long.bucket != names("a-very-long-project-name-for-the-bucket-other", "staging").bucket
    # Rule names keep the hash suffix the handler matches: the prefix is cut instead.
    deep = names("p" * 50, "prod")
    assert deep.owns_rule(deep.rule("@hourly")) and len(deep.rule("@hourly")) == 64
    with pytest.raises(DeployError, match="longer than 64 characters"):
        names("x" * 60, "prod")


def test_stages() -> None:
    for good in ("prod", "dev-2", "pr_14"):
        assert re.fullmatch(STAGE_PATTERN, good)
    for bad in ("", "-x", "a/b", "x" * 21, "two words"):
        assert not re.fullmatch(STAGE_PATTERN, bad)


def test_the_function_environment() -> None:
    environ = {"NITRO_GREETING": "hi", "PATH": "/bin", "NITRO_DYNAMODB_TABLE": "mine"}
    env = function_environment({"LOG_LEVEL": "info", "NITRO_GREETING": "config"}, environ)
    # NITRO_* of the deploy's environment < aws_lambda["environment"] < the owned table.
    assert env == {"LOG_LEVEL": "info", "NITRO_DYNAMODB_TABLE": "mine", "NITRO_GREETING": "config"}
    owned = describe(names(), OPTIONS, [], {}, env, print).function.environment
    assert owned == {**env, "NITRO_DYNAMODB_TABLE": "shop-prod-data"}
    configured = describe(names(), OPTIONS, [], {"data": {"driver": "memory"}}, env, print)
    assert configured.function.environment == env and configured.table is None


def test_storage_grants_resolve_as_the_app_will() -> None:
    logged: list[str] = []
    storage = {
        "uploads": {"driver": "s3", "bucket": "{{NITRO_UPLOADS}}"},
        "sessions": {"driver": "dynamodb", "table": "sessions", "create_table": True},
        "cache": {"driver": "memory"},
        "lost": {"driver": "s3", "bucket": "{{NOT_SET}}"},
    }
    grants = storage_grants(storage, {"NITRO_UPLOADS": "shop-uploads"}, logged.append)
    assert grants == (
        Grant("dynamodb", "sessions", create_table=True),
        Grant("s3", "shop-uploads"),
    )
    assert len(logged) == 1 and "storage.lost.bucket uses {{NOT_SET}}" in logged[0]


def test_the_role_policy_allows_only_what_the_app_owns() -> None:
    storage = {
        "sessions": {"driver": "dynamodb", "table": "sessions", "create_table": True},
        "uploads": {"driver": "s3", "bucket": "shop-uploads"},
    }
    policy = resources(storage).policy
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Logs"]["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-prod",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-prod:*",
    ]
    assert by_sid["Data"]["Action"] == list(DATA_TABLE_ACTIONS)
    assert by_sid["Data"]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/shop-prod-data",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions",
    ]
    assert by_sid["TableSetup"]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions"
    ]
    assert by_sid["Buckets"] == {
        "Sid": "Buckets",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": ["arn:aws:s3:::shop-uploads"],
    }
    assert by_sid["Objects"]["Resource"] == ["arn:aws:s3:::shop-uploads/*"]
    every = [a for s in policy["Statement"] for a in s["Action"]]
    assert not any(a.endswith("*") for a in every)
    only_logs = resources({"data": {"driver": "memory"}}).policy
    assert [s["Sid"] for s in only_logs["Statement"]] == ["Logs"]
    # `data` on S3: that bucket, and no table the app does not use.
    on_s3 = resources(
        {"data": {"driver": "s3", "bucket": "{{NITRO_BUCKET}}"}}, {"NITRO_BUCKET": "b"}
    )
    assert on_s3.table is None
    assert [s["Sid"] for s in on_s3.policy["Statement"]] == ["Logs", "Buckets", "Objects"]


def test_differences_name_each_field() -> None:
    wanted = spec()
    config = {
        "CodeSha256": "abc=",
        "Architectures": ["x86_64"],
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Role": names().role_arn,
        "MemorySize": 512,
        "Timeout": 20,
        "Environment": {"Variables": {"NITRO_DYNAMODB_TABLE": "shop-prod-data"}},
    }
    assert differences(config, names(), wanted) == []
    changed = {
        **config,
        "CodeSha256": "new=",
        "Architectures": ["arm64"],
        "MemorySize": 1024,
        "Environment": {},
    }
    assert differences(changed, names(), wanted) == [
        "code",
        "architecture",
        "memory",
        "environment",
    ]


def test_plan_lines_and_error_lines() -> None:
    assert Change("update", "lambda-function", "shop-prod", ("code", "memory")).line() == (
        "update lambda-function shop-prod (code, memory)"
    )
    assert (
        Change("unchanged", "iam-role", "shop-prod-role").line()
        == "unchanged iam-role shop-prod-role"
    )
    refused = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "CreateFunction"
    )
    error = deploy_error("create", "lambda-function", "shop-prod", refused)
    assert str(error) == (
        "[nitro:deploy] create Lambda function shop-prod: AccessDeniedException: not allowed"
    )
    other = deploy_error("read", "iam-role", "r", TimeoutError("slow"))
    assert str(other) == "[nitro:deploy] read IAM role r: TimeoutError: slow"


def test_environment_names_lambda_refuses_fail_the_build() -> None:
    from nitro.bundle.output import BuildError
    from nitro.presets.aws_lambda.preset import lambda_options

    assert lambda_options({"environment": {"LOG_LEVEL": "info", "x1": ""}})["environment"]
    for bad in ("X", "1ST", "WITH-DASH", "a b"):
        with pytest.raises(BuildError, match=f"environment name '{bad}' is not one Lambda accepts"):
            lambda_options({"environment": {bad: "1"}})
