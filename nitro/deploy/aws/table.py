"""The DynamoDB table behind the default `data` mount: partition key ``key``
(string), on-demand billing, TTL on the attribute ``expires`` (the dynamodb
driver's defaults). Undeploy keeps it unless asked to delete the data."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import DeployError
from .names import Names
from .plan import Change
from .session import Aws, Resource
from .spec import Spec

__all__ = ["TTL_ATTRIBUTE", "plan_table", "plan_table_removal"]

KIND = "dynamodb-table"
TTL_ATTRIBUTE = "expires"
KEY_SCHEMA = [{"AttributeName": "key", "KeyType": "HASH"}]
WAIT = {"Delay": 2, "MaxAttempts": 150}


def _table(aws: Aws, names: Names) -> Resource:
    return aws.resource(KIND, names.table, "dynamodb", TableName=names.table)


def _describe(table: Resource) -> dict[str, object] | None:
    found = table.call("read", "describe_table", missing=("ResourceNotFoundException",))
    return None if found is None else found["Table"]


def _enable_ttl(table: Resource, action: str) -> None:
    table.call(
        action, "update_time_to_live",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )  # fmt: skip


def plan_table(aws: Aws, names: Names, spec: Spec) -> list[Change]:
    if not spec.default_data:
        return []
    table = _table(aws, names)
    described = _describe(table)
    if described is None:

        def create() -> None:
            table.call(
                "create", "create_table",
                AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
                KeySchema=KEY_SCHEMA,
                BillingMode="PAY_PER_REQUEST",
                Tags=names.tags,
                missing=("ResourceInUseException",),
            )  # fmt: skip
            table.wait("create", "table_exists", WaiterConfig=WAIT)
            _enable_ttl(table, "create")

        return [Change("create", KIND, names.table, apply=create)]
    if described.get("KeySchema") != KEY_SCHEMA:
        raise DeployError(
            f"[nitro:deploy] DynamoDB table {names.table} exists with another key schema "
            f"({described.get('KeySchema')}); the data mount needs the partition key 'key' (string) "
            "alone: rename or remove that table"
        )
    ttl = table.call("read", "describe_time_to_live")["TimeToLiveDescription"]
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
    return [Change("update", KIND, names.table, ("ttl",), lambda: _enable_ttl(table, "update"))]


def plan_table_removal(
    aws: Aws, names: Names, delete_data: bool, log: Callable[[str], None]
) -> list[Change]:
    table = _table(aws, names)
    if _describe(table) is None:
        return []
    if not delete_data:
        log(f"keeping DynamoDB table {names.table} (the app's data): --delete-data deletes it")
        return [Change("unchanged", KIND, names.table)]

    def delete() -> None:
        table.call("delete", "delete_table", missing=("ResourceNotFoundException",))
        table.wait("delete", "table_not_exists", WaiterConfig=WAIT)

    return [Change("delete", KIND, names.table, apply=delete)]
