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

from ...errors import DeployError
from .function import differences
from .names import Names
from .plan import Change
from .session import Aws, Resource, deploy_error, error_code
from .spec import Spec

__all__ = [
    "add_permission",
    "alias_statements",
    "on_alias",
    "plan_alias",
    "plan_rollback",
    "remove_permission",
]

KIND = "lambda-alias"


def _versions(aws: Aws, names: Names) -> list[dict[str, Any]]:
    """The published versions, oldest first."""
    function = aws.resource(KIND, names.function, "lambda", FunctionName=names.function)
    listed = function.pages("list_versions_by_function", "Versions")
    return sorted((v for v in listed if v["Version"] != "$LATEST"), key=lambda v: int(v["Version"]))


def _alias(aws: Aws, names: Names) -> Resource:
    """The alias's calls (`FunctionName` bound; `Name` or `Qualifier` per call)."""
    label = f"{names.function}:{names.alias}"
    return aws.resource(KIND, label, "lambda", FunctionName=names.function)


def _get_alias(alias: Resource, names: Names) -> dict[str, Any] | None:
    return alias.call("read", "get_alias", Name=names.alias, missing=("ResourceNotFoundException",))


def plan_alias(aws: Aws, names: Names, spec: Spec, function: Change) -> Change:
    alias = _alias(aws, names)
    found = _get_alias(alias, names) if function.action != "create" else None
    fields: tuple[str, ...] = ("version",)
    if found is not None and function.action == "unchanged":
        running = alias.call(
            "read", "get_function_configuration", Qualifier=found["FunctionVersion"]
        )
        if not differences(running, names, spec):
            return Change("unchanged", KIND, alias.name)

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
            published = alias.call(
                "publish", "publish_version", CodeSha256=spec.code_sha256,
                Description=f"nitro deploy {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
            )  # fmt: skip
            version = published["Version"]
            alias.wait("publish", "published_version_active", Qualifier=version)
        current = _get_alias(alias, names)
        operation = "create_alias" if current is None else "update_alias"
        alias.call(
            "create" if current is None else "update", operation,
            Name=names.alias, FunctionVersion=version,
        )  # fmt: skip

    return Change(
        "create" if found is None else "update",
        KIND,
        alias.name,
        () if found is None else fields,
        point,
    )


def plan_rollback(aws: Aws, names: Names) -> Change:
    """``live`` back to the newest version older than the one it runs."""
    alias = _alias(aws, names)
    found = _get_alias(alias, names)
    if found is None:
        raise DeployError(f"[nitro:deploy] rollback: no Lambda alias {alias.name}: deploy first")
    current = int(found["FunctionVersion"])
    earlier = [int(v["Version"]) for v in _versions(aws, names) if int(v["Version"]) < current]
    if not earlier:
        raise DeployError(
            f"[nitro:deploy] rollback: {alias.name} runs version {current}, the oldest there is: "
            "nothing to roll back to"
        )
    target = str(earlier[-1])

    def move() -> None:
        alias.call("update", "update_alias", Name=names.alias, FunctionVersion=target)

    return Change("update", KIND, alias.name, (f"version {current} -> {target}",), move)


# --- the alias's resource policy (shared by the function URL and the rules) ---


def on_alias(aws: Aws, names: Names, kind: str, name: str) -> Resource:
    """Calls on the alias (`FunctionName` and `Qualifier` bound) made for `kind` `name`:
    its URL config, its policy statements."""
    return aws.resource(kind, name, "lambda", FunctionName=names.function, Qualifier=names.alias)


def alias_statements(aws: Aws, names: Names, kind: str, name: str) -> dict[str, dict[str, Any]]:
    """The statements of the alias's resource policy, by Sid."""
    found = on_alias(aws, names, kind, name).call(
        "read", "get_policy", missing=("ResourceNotFoundException",)
    )
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
    on_alias(aws, names, kind, name).call(
        "update", "remove_permission", StatementId=sid, missing=("ResourceNotFoundException",)
    )
