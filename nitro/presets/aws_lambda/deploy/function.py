"""The Lambda function: created or updated from the zip and the build's options.

The code is compared by ``CodeSha256`` (the zip is reproducible: an unchanged
project builds the same bytes), the configuration field by field; only what
differs is sent, and each update is waited for (``function_updated_v2``) before
the next. A new role takes a few seconds before Lambda may assume it: creating
the function is retried while Lambda says so, for about a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .bucket import code_location
from .names import Names
from .plan import Change
from .session import Aws, Resource, error_code
from .spec import Spec

__all__ = ["ROLE_RETRY_DELAYS", "differences", "plan_function", "plan_function_removal"]

KIND = "lambda-function"
ROLE_RETRY_DELAYS: tuple[float, ...] = (1, 2, 3, 5, 8, 10, 10, 10, 10)  # 59 s in all


def desired_config(names: Names, spec: Spec) -> dict[str, Any]:
    function = spec.resources.function
    return {
        "Runtime": function.runtime,
        "Handler": function.handler,
        "Role": names.role_arn,
        "MemorySize": function.memory,
        "Timeout": function.timeout,
        "Environment": {"Variables": function.environment},
    }


def differences(config: dict[str, Any], names: Names, spec: Spec) -> list[str]:
    """The fields of a function (or version) configuration that differ from the spec."""
    wanted = desired_config(names, spec)
    architecture = spec.resources.function.architecture
    fields = []
    if config.get("CodeSha256") != spec.code_sha256:
        fields.append("code")
    if config.get("Architectures", ["x86_64"]) != [architecture]:
        fields.append("architecture")
    for field, key in (
        ("runtime", "Runtime"),
        ("handler", "Handler"),
        ("role", "Role"),
        ("memory", "MemorySize"),
        ("timeout", "Timeout"),
    ):
        if config.get(key) != wanted[key]:
            fields.append(field)
    if (config.get("Environment") or {}).get("Variables", {}) != wanted["Environment"]["Variables"]:
        fields.append("environment")
    return fields


def _role_not_ready(exc: BaseException) -> bool:
    """Lambda's answer while a new role has not reached it yet."""
    return error_code(exc) == "InvalidParameterValueException" and "role" in str(exc).lower()


def _function(aws: Aws, names: Names) -> Resource:
    return aws.resource(KIND, names.function, "lambda", FunctionName=names.function)


def plan_function(aws: Aws, names: Names, spec: Spec, log: Callable[[str], None]) -> Change:
    name = names.function
    function = _function(aws, names)
    current = function.call(
        "read", "get_function_configuration", missing=("ResourceNotFoundException",)
    )

    def with_role_retry(action: str, operation: str, **params: Any) -> Any:
        client = aws.client("lambda")
        return aws.retry(
            action, KIND, name,
            lambda: getattr(client, operation)(FunctionName=name, **params),
            _role_not_ready, ROLE_RETRY_DELAYS, log,
            f"Lambda cannot assume {names.role} yet (IAM is propagating it)",
        )  # fmt: skip

    if current is None:

        def create() -> None:
            with_role_retry(
                "create", "create_function",
                Code=code_location(aws, names, spec),
                Architectures=[spec.resources.function.architecture],
                PackageType="Zip",
                Publish=False,
                Description=spec.resources.function.description,
                Tags={"nitro:project": names.project, "nitro:stage": names.stage},
                **desired_config(names, spec),
            )  # fmt: skip
            function.wait("create", "function_active_v2")

        return Change("create", KIND, name, apply=create)
    fields = differences(current, names, spec)
    if not fields:
        return Change("unchanged", KIND, name)

    def update() -> None:
        function.wait("update", "function_updated_v2")  # an update a stopped run left going
        if "code" in fields or "architecture" in fields:
            function.call(
                "update", "update_function_code",
                Architectures=[spec.resources.function.architecture], Publish=False,
                **code_location(aws, names, spec),
            )  # fmt: skip
            function.wait("update", "function_updated_v2")
        if set(fields) - {"code", "architecture"}:
            with_role_retry(
                "update", "update_function_configuration", **desired_config(names, spec)
            )
            function.wait("update", "function_updated_v2")

    return Change("update", KIND, name, tuple(fields), update)


def plan_function_removal(aws: Aws, names: Names) -> list[Change]:
    """Deleting the function deletes its versions, aliases and their permissions."""
    function = _function(aws, names)
    missing = ("ResourceNotFoundException",)
    if function.call("read", "get_function_configuration", missing=missing) is None:
        return []

    def delete() -> None:
        function.call("delete", "delete_function", missing=missing)

    return [Change("delete", KIND, names.function, apply=delete)]
