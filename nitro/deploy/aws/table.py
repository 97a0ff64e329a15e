"""The DynamoDB table behind the default `data` mount: partition key ``key``
(string), on-demand billing, TTL on the attribute ``expires`` (the dynamodb
driver's defaults). Undeploy keeps it unless asked to delete the data."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import DeployError
from .names import Names
from .plan import Change
from .session import Aws
from .spec import Spec

__all__ = ["TTL_ATTRIBUTE", "plan_table", "plan_table_removal"]

KIND = "dynamodb-table"
TTL_ATTRIBUTE = "expires"
KEY_SCHEMA = [{"AttributeName": "key", "KeyType": "HASH"}]
WAIT = {"Delay": 2, "MaxAttempts": 150}


def _describe(aws: Aws, names: Names) -> dict[str, object] | None:
    found = aws.call(
        "read", KIND, names.table, "dynamodb", "describe_table",
        TableName=names.table, missing=("ResourceNotFoundException",),
    )  # fmt: skip
    return None if found is None else found["Table"]


def _enable_ttl(aws: Aws, names: Names, action: str) -> None:
    aws.call(
        action, KIND, names.table, "dynamodb", "update_time_to_live",
        TableName=names.table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )  # fmt: skip


def plan_table(aws: Aws, names: Names, spec: Spec) -> list[Change]:
    if not spec.default_data:
        return []
    table = _describe(aws, names)
    if table is None:

        def create() -> None:
            aws.call(
                "create", KIND, names.table, "dynamodb", "create_table",
                TableName=names.table,
                AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
                KeySchema=KEY_SCHEMA,
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": "nitro:project", "Value": names.project},
                      {"Key": "nitro:stage", "Value": names.stage}],
                missing=("ResourceInUseException",),
            )  # fmt: skip
            aws.wait(
                "create",
                KIND,
                names.table,
                "dynamodb",
                "table_exists",
                TableName=names.table,
                WaiterConfig=WAIT,
            )
            _enable_ttl(aws, names, "create")

        return [Change("create", KIND, names.table, apply=create)]
    if table.get("KeySchema") != KEY_SCHEMA:
        raise DeployError(
            f"[nitro:deploy] DynamoDB table {names.table} exists with another key schema "
            f"({table.get('KeySchema')}); the data mount needs the partition key 'key' (string) "
            "alone: rename or remove that table"
        )
    ttl = aws.call(
        "read", KIND, names.table, "dynamodb", "describe_time_to_live", TableName=names.table
    )["TimeToLiveDescription"]
    if (
        ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        and ttl.get("AttributeName") == TTL_ATTRIBUTE
    ):
        return [Change("unchanged", KIND, names.table)]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING", "DISABLING"):
        raise DeployError(
            f"[nitro:deploy] DynamoDB table {names.table} has TTL on {ttl.get('AttributeName')!r} "
            f"(status {ttl.get('TimeToLiveStatus')}); the data mount expires items by "
            f"{TTL_ATTRIBUTE!r}: turn that TTL off, then deploy again"
        )
    return [
        Change("update", KIND, names.table, ("ttl",), lambda: _enable_ttl(aws, names, "update"))
    ]


def plan_table_removal(
    aws: Aws, names: Names, delete_data: bool, log: Callable[[str], None]
) -> list[Change]:
    if _describe(aws, names) is None:
        return []
    if not delete_data:
        log(f"keeping DynamoDB table {names.table} (the app's data): --delete-data deletes it")
        return [Change("unchanged", KIND, names.table)]

    def delete() -> None:
        aws.call(
            "delete", KIND, names.table, "dynamodb", "delete_table",
            TableName=names.table, missing=("ResourceNotFoundException",),
        )  # fmt: skip
        aws.wait(
            "delete",
            KIND,
            names.table,
            "dynamodb",
            "table_not_exists",
            TableName=names.table,
            WaiterConfig=WAIT,
        )

    return [Change("delete", KIND, names.table, apply=delete)]
