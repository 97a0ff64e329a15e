"""The function's IAM role: trusted by Lambda, with one inline policy (``nitro``)
that allows only what this app needs:

- writing its own logs (``/aws/lambda/{function}``);
- the `dynamodb` driver's calls on the `data` table the deploy made;
- the S3 buckets and DynamoDB tables of the project's configured storage mounts.

No managed policy is attached (``AWSLambdaBasicExecutionRole`` would allow every
log group of the account).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..aws_lambda import DATA_TABLE_ACTIONS
from .names import Names
from .plan import Change
from .session import Aws, Resource
from .spec import Spec

__all__ = ["TRUST_POLICY", "plan_role", "plan_role_removal", "role_policy"]

KIND = "iam-role"
TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
S3_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
TABLE_SETUP_ACTIONS = [
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
]


def role_policy(names: Names, spec: Spec) -> dict[str, Any]:
    """The inline policy document."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": LOG_ACTIONS,
            "Resource": [names.log_group_arn, f"{names.log_group_arn}:*"],
        }
    ]
    tables = [names.table] if spec.default_data else []
    tables += [g.resource for g in spec.grants if g.driver == "dynamodb"]
    if tables:
        arns = _table_arns(names, tables)
        statements.append(
            {"Sid": "Data", "Effect": "Allow", "Action": list(DATA_TABLE_ACTIONS), "Resource": arns}
        )
    setup = [g.resource for g in spec.grants if g.driver == "dynamodb" and g.create_table]
    if setup:
        statements.append(
            {
                "Sid": "TableSetup",
                "Effect": "Allow",
                "Action": TABLE_SETUP_ACTIONS,
                "Resource": _table_arns(names, setup),
            }
        )
    buckets = [g.resource for g in spec.grants if g.driver == "s3"]
    if buckets:
        s3 = f"arn:{names.partition}:s3:::"
        statements.append(
            {
                "Sid": "Buckets",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"{s3}{b}" for b in buckets],
            }
        )
        statements.append(
            {
                "Sid": "Objects",
                "Effect": "Allow",
                "Action": S3_OBJECT_ACTIONS,
                "Resource": [f"{s3}{b}/*" for b in buckets],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _table_arns(names: Names, tables: list[str]) -> list[str]:
    return [
        f"arn:{names.partition}:dynamodb:{names.region}:{names.account}:table/{t}" for t in tables
    ]


def _document(value: Any) -> Any:
    """IAM returns policy documents decoded (boto3) or as URL-encoded JSON text."""
    if isinstance(value, str):
        from urllib.parse import unquote

        return json.loads(unquote(value))
    return value


def _role(aws: Aws, names: Names) -> Resource:
    return aws.resource(KIND, names.role, "iam", RoleName=names.role)


def plan_role(aws: Aws, names: Names, spec: Spec, log: Callable[[str], None]) -> Change:
    policy = role_policy(names, spec)
    role = _role(aws, names)
    found = role.call("read", "get_role", missing=("NoSuchEntity",))

    def put_policy() -> None:
        role.call(
            "update", "put_role_policy", PolicyName=names.policy, PolicyDocument=json.dumps(policy)
        )

    if found is None:

        def create() -> None:
            role.call(
                "create", "create_role",
                AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                Description=f"nitro: the Lambda function {names.function}",
                Tags=names.tags,
                missing=("EntityAlreadyExists",),
            )  # fmt: skip
            role.wait("create", "role_exists")
            put_policy()

        return Change("create", KIND, names.role, apply=create)
    fields: list[str] = []
    trust = _document(found["Role"].get("AssumeRolePolicyDocument"))
    if trust != TRUST_POLICY:
        fields.append("trust policy")
    current = role.call(
        "read", "get_role_policy", PolicyName=names.policy, missing=("NoSuchEntity",)
    )
    if current is None or _document(current["PolicyDocument"]) != policy:
        fields.append("policy")
    if not fields:
        return Change("unchanged", KIND, names.role)

    def update() -> None:
        if "trust policy" in fields:
            role.call(
                "update", "update_assume_role_policy", PolicyDocument=json.dumps(TRUST_POLICY)
            )
        if "policy" in fields:
            put_policy()

    return Change("update", KIND, names.role, tuple(fields), update)


def plan_role_removal(aws: Aws, names: Names) -> list[Change]:
    role = _role(aws, names)
    if role.call("read", "get_role", missing=("NoSuchEntity",)) is None:
        return []

    def delete() -> None:
        for policy in role.pages("list_role_policies", "PolicyNames"):
            role.call("delete", "delete_role_policy", PolicyName=policy)
        for attached in role.pages("list_attached_role_policies", "AttachedPolicies"):
            role.call("delete", "detach_role_policy", PolicyArn=attached["PolicyArn"])
        role.call("delete", "delete_role", missing=("NoSuchEntity",))

    return [Change("delete", KIND, names.role, apply=delete)]
