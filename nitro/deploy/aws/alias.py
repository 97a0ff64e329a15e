"""Versions and the alias ``live``: what the Function URL and the schedules invoke.

A deploy that changed the function publishes a version and moves ``live`` to it.
When ``live`` already runs what the spec asks for, nothing is published; when an
existing version does (a deploy after a rollback, or after a run stopped between
publishing and moving the alias), ``live`` moves there instead of publishing a
copy. `rollback` moves ``live`` to the version before the one it is on.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..errors import DeployError
from .function import differences
from .names import Names
from .plan import Change
from .session import Aws, deploy_error, error_code
from .spec import Spec

__all__ = ["add_permission", "alias_statements", "plan_alias", "plan_rollback", "remove_permission"]

KIND = "lambda-alias"


def _versions(aws: Aws, names: Names) -> list[dict[str, Any]]:
    """The published versions, oldest first."""
    listed = aws.pages(
        KIND,
        names.function,
        "lambda",
        "list_versions_by_function",
        "Versions",
        FunctionName=names.function,
    )
    return sorted((v for v in listed if v["Version"] != "$LATEST"), key=lambda v: int(v["Version"]))


def _get_alias(aws: Aws, names: Names) -> dict[str, Any] | None:
    return aws.call(
        "read", KIND, f"{names.function}:{names.alias}", "lambda", "get_alias",
        FunctionName=names.function, Name=names.alias, missing=("ResourceNotFoundException",),
    )  # fmt: skip


def plan_alias(aws: Aws, names: Names, spec: Spec, function: Change) -> Change:
    label = f"{names.function}:{names.alias}"
    alias = _get_alias(aws, names) if function.action != "create" else None
    fields: tuple[str, ...] = ("version",)
    if alias is not None and function.action == "unchanged":
        running = aws.call(
            "read", KIND, label, "lambda", "get_function_configuration",
            FunctionName=names.function, Qualifier=alias["FunctionVersion"],
        )  # fmt: skip
        if not differences(running, names, spec):
            return Change("unchanged", KIND, label)

    def point() -> None:
        version = next(
            (
                v["Version"]
                for v in reversed(_versions(aws, names))
                if not differences(v, names, spec)
            ),
            None,
        )
        if version is None:
            published = aws.call(
                "publish", KIND, label, "lambda", "publish_version",
                FunctionName=names.function, CodeSha256=spec.code_sha256,
                Description=f"nitro deploy {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
            )  # fmt: skip
            version = published["Version"]
            aws.wait(
                "publish", KIND, label, "lambda", "published_version_active",
                FunctionName=names.function, Qualifier=version,
            )  # fmt: skip
        current = _get_alias(aws, names)
        operation = "create_alias" if current is None else "update_alias"
        aws.call(
            "create" if current is None else "update", KIND, label, "lambda", operation,
            FunctionName=names.function, Name=names.alias, FunctionVersion=version,
        )  # fmt: skip

    return Change(
        "create" if alias is None else "update", KIND, label, () if alias is None else fields, point
    )


def plan_rollback(aws: Aws, names: Names) -> Change:
    """``live`` back to the newest version older than the one it runs."""
    label = f"{names.function}:{names.alias}"
    alias = _get_alias(aws, names)
    if alias is None:
        raise DeployError(f"[nitro:deploy] rollback: no Lambda alias {label}: deploy first")
    current = int(alias["FunctionVersion"])
    earlier = [int(v["Version"]) for v in _versions(aws, names) if int(v["Version"]) < current]
    if not earlier:
        raise DeployError(
            f"[nitro:deploy] rollback: {label} runs version {current}, the oldest there is: "
            "nothing to roll back to"
        )
    target = str(earlier[-1])

    def move() -> None:
        aws.call(
            "update", KIND, label, "lambda", "update_alias",
            FunctionName=names.function, Name=names.alias, FunctionVersion=target,
        )  # fmt: skip

    return Change("update", KIND, label, (f"version {current} -> {target}",), move)


# --- the alias's resource policy (shared by the function URL and the rules) ---


def alias_statements(aws: Aws, names: Names, kind: str, name: str) -> dict[str, dict[str, Any]]:
    """The statements of the alias's resource policy, by Sid."""
    found = aws.call(
        "read", kind, name, "lambda", "get_policy",
        FunctionName=names.function, Qualifier=names.alias, missing=("ResourceNotFoundException",),
    )  # fmt: skip
    if found is None:
        return {}
    return {s.get("Sid", ""): s for s in json.loads(found["Policy"]).get("Statement", [])}


def add_permission(aws: Aws, names: Names, kind: str, name: str, sid: str, **params: Any) -> None:
    """One statement on the alias (one with that Sid already there: nothing to do)."""
    try:
        aws.client("lambda").add_permission(
            FunctionName=names.function, Qualifier=names.alias, StatementId=sid, **params
        )
    except Exception as exc:
        if error_code(exc) == "ResourceConflictException" and "already exists" in str(exc):
            return
        raise deploy_error("update", kind, name, exc) from exc


def remove_permission(aws: Aws, names: Names, kind: str, name: str, sid: str) -> None:
    aws.call(
        "update", kind, name, "lambda", "remove_permission",
        FunctionName=names.function, Qualifier=names.alias, StatementId=sid,
        missing=("ResourceNotFoundException",),
    )  # fmt: skip
