"""The DynamoDB table behind the default `data` mount, as `resources.DataTable`
describes it (partition key ``key``, on-demand, TTL on ``expires``). Undeploy keeps
it (`DataTable.retain`) unless asked to delete the data."""

from __future__ import annotations

from collections.abc import Callable

from ...errors import DeployError
from .names import Names
from .plan import Change
from .resources import DataTable
from .session import Aws, Resource
from .spec import Spec

__all__ = ["plan_table", "plan_table_removal"]

KIND = "dynamodb-table"
WAIT = {"Delay": 2, "MaxAttempts": 150}


def _table(aws: Aws, names: Names) -> Resource:
    return aws.resource(KIND, names.table, "dynamodb", TableName=names.table)


def _describe(table: Resource) -> dict[str, object] | None:
    found = table.call("read", "describe_table", missing=("ResourceNotFoundException",))
    return None if found is None else found["Table"]


def _enable_ttl(table: Resource, wanted: DataTable, action: str) -> None:
    table.call(
        action, "update_time_to_live",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": wanted.ttl_attribute},
    )  # fmt: skip


def plan_table(aws: Aws, names: Names, spec: Spec) -> list[Change]:
    wanted = spec.resources.table
    if wanted is None:
        return []
    table = _table(aws, names)
    described = _describe(table)
    if described is None:

        def create() -> None:
            table.call(
                "create", "create_table",
                AttributeDefinitions=wanted.attribute_definitions,
                KeySchema=wanted.key_schema,
                BillingMode=wanted.billing_mode,
                Tags=names.tags,
                missing=("ResourceInUseException",),
            )  # fmt: skip
            table.wait("create", "table_exists", WaiterConfig=WAIT)
            _enable_ttl(table, wanted, "create")

        return [Change("create", KIND, names.table, apply=create)]
    if described.get("KeySchema") != wanted.key_schema:
        raise DeployError(
            f"[nitro:deploy] DynamoDB table {names.table} exists with another key schema "
            f"({described.get('KeySchema')}); the data mount needs the partition key 'key' (string) "
            "alone: rename or remove that table"
        )
    ttl = table.call("read", "describe_time_to_live")["TimeToLiveDescription"]
    if (
        ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        and ttl.get("AttributeName") == wanted.ttl_attribute
    ):
        return [Change("unchanged", KIND, names.table)]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING", "DISABLING"):
        raise DeployError(
            f"[nitro:deploy] DynamoDB table {names.table} has TTL on {ttl.get('AttributeName')!r} "
            f"(status {ttl.get('TimeToLiveStatus')}); the data mount expires items by "
            f"{wanted.ttl_attribute!r}: turn that TTL off, then deploy again"
        )
    return [
        Change("update", KIND, names.table, ("ttl",), lambda: _enable_ttl(table, wanted, "update"))
    ]


def plan_table_removal(
    aws: Aws, names: Names, delete_data: bool, log: Callable[[str], None]
) -> list[Change]:
    table = _table(aws, names)
    if _describe(table) is None:
        return []
    if DataTable(names.table).retain and not delete_data:
        log(f"keeping DynamoDB table {names.table} (the app's data): --delete-data deletes it")
        return [Change("unchanged", KIND, names.table)]

    def delete() -> None:
        table.call("delete", "delete_table", missing=("ResourceNotFoundException",))
        table.wait("delete", "table_not_exists", WaiterConfig=WAIT)

    return [Change("delete", KIND, names.table, apply=delete)]
