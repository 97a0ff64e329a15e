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
from .session import Aws
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
        arns = [
            f"arn:{names.partition}:dynamodb:{names.region}:{names.account}:table/{t}"
            for t in tables
        ]
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
                "Resource": [
                    f"arn:{names.partition}:dynamodb:{names.region}:{names.account}:table/{t}"
                    for t in setup
                ],
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


def _document(value: Any) -> Any:
    """IAM returns policy documents decoded (boto3) or as URL-encoded JSON text."""
    if isinstance(value, str):
        from urllib.parse import unquote

        return json.loads(unquote(value))
    return value


def plan_role(aws: Aws, names: Names, spec: Spec, log: Callable[[str], None]) -> Change:
    policy = role_policy(names, spec)
    found = aws.call(
        "read", KIND, names.role, "iam", "get_role", RoleName=names.role, missing=("NoSuchEntity",)
    )

    def put_policy() -> None:
        aws.call(
            "update", KIND, names.role, "iam", "put_role_policy",
            RoleName=names.role, PolicyName=names.policy, PolicyDocument=json.dumps(policy),
        )  # fmt: skip

    if found is None:

        def create() -> None:
            aws.call(
                "create", KIND, names.role, "iam", "create_role",
                RoleName=names.role,
                AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                Description=f"nitro: the Lambda function {names.function}",
                Tags=[{"Key": "nitro:project", "Value": names.project},
                      {"Key": "nitro:stage", "Value": names.stage}],
                missing=("EntityAlreadyExists",),
            )  # fmt: skip
            aws.wait("create", KIND, names.role, "iam", "role_exists", RoleName=names.role)
            put_policy()

        return Change("create", KIND, names.role, apply=create)
    fields: list[str] = []
    trust = _document(found["Role"].get("AssumeRolePolicyDocument"))
    if trust != TRUST_POLICY:
        fields.append("trust policy")
    current = aws.call(
        "read", KIND, names.role, "iam", "get_role_policy",
        RoleName=names.role, PolicyName=names.policy, missing=("NoSuchEntity",),
    )  # fmt: skip
    if current is None or _document(current["PolicyDocument"]) != policy:
        fields.append("policy")
    if not fields:
        return Change("unchanged", KIND, names.role)

    def update() -> None:
        if "trust policy" in fields:
            aws.call(
                "update", KIND, names.role, "iam", "update_assume_role_policy",
                RoleName=names.role, PolicyDocument=json.dumps(TRUST_POLICY),
            )  # fmt: skip
        if "policy" in fields:
            put_policy()

    return Change("update", KIND, names.role, tuple(fields), update)


def plan_role_removal(aws: Aws, names: Names) -> list[Change]:
    if (
        aws.call(
            "read",
            KIND,
            names.role,
            "iam",
            "get_role",
            RoleName=names.role,
            missing=("NoSuchEntity",),
        )
        is None
    ):
        return []

    def delete() -> None:
        for policy in aws.pages(
            KIND, names.role, "iam", "list_role_policies", "PolicyNames", RoleName=names.role
        ):
            aws.call(
                "delete",
                KIND,
                names.role,
                "iam",
                "delete_role_policy",
                RoleName=names.role,
                PolicyName=policy,
            )
        attached = aws.pages(
            KIND,
            names.role,
            "iam",
            "list_attached_role_policies",
            "AttachedPolicies",
            RoleName=names.role,
        )
        for policy in attached:
            aws.call(
                "delete", KIND, names.role, "iam", "detach_role_policy",
                RoleName=names.role, PolicyArn=policy["PolicyArn"],
            )  # fmt: skip
        aws.call(
            "delete",
            KIND,
            names.role,
            "iam",
            "delete_role",
            RoleName=names.role,
            missing=("NoSuchEntity",),
        )

    return [Change("delete", KIND, names.role, apply=delete)]
