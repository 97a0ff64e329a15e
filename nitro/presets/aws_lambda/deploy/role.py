"""The function's IAM role, as `resources.Role` describes it: trusted by Lambda, with
one inline policy (``nitro``) that allows only what this app needs (its logs, the data
table, the storage mounts' buckets and tables). No managed policy is attached.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .names import Names
from .plan import Change
from .session import Aws, Resource
from .spec import Spec

__all__ = ["plan_role", "plan_role_removal", "policy_document"]

KIND = "iam-role"


def policy_document(value: Any) -> Any:
    """IAM returns policy documents decoded (boto3) or as URL-encoded JSON text."""
    if isinstance(value, str):
        from urllib.parse import unquote

        return json.loads(unquote(value))
    return value


def _role(aws: Aws, names: Names) -> Resource:
    return aws.resource(KIND, names.role, "iam", RoleName=names.role)


def plan_role(aws: Aws, names: Names, spec: Spec, log: Callable[[str], None]) -> Change:
    wanted = spec.resources.role
    policy, trust_policy = wanted.policy, wanted.trust_policy
    role = _role(aws, names)
    found = role.call("read", "get_role", missing=("NoSuchEntity",))

    def put_policy() -> None:
        role.call(
            "update", "put_role_policy",
            PolicyName=wanted.policy_name, PolicyDocument=json.dumps(policy),
        )  # fmt: skip

    if found is None:

        def create() -> None:
            role.call(
                "create", "create_role",
                AssumeRolePolicyDocument=json.dumps(trust_policy),
                Description=wanted.description,
                Tags=names.tags,
                missing=("EntityAlreadyExists",),
            )  # fmt: skip
            role.wait("create", "role_exists")
            put_policy()

        return Change("create", KIND, names.role, apply=create)
    fields: list[str] = []
    trust = policy_document(found["Role"].get("AssumeRolePolicyDocument"))
    if trust != trust_policy:
        fields.append("trust policy")
    current = role.call(
        "read", "get_role_policy", PolicyName=wanted.policy_name, missing=("NoSuchEntity",)
    )
    if current is None or policy_document(current["PolicyDocument"]) != policy:
        fields.append("policy")
    if not fields:
        return Change("unchanged", KIND, names.role)

    def update() -> None:
        if "trust policy" in fields:
            role.call(
                "update", "update_assume_role_policy", PolicyDocument=json.dumps(trust_policy)
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
