"""EventBridge rules: one per cron of `scheduled_tasks`, one target per task.

Rule ``{function}-cron-<hash>`` (`names.rule_name`: the built handler knows a
rule by that ending) fires ``cron(...)`` (the build's `to_eventbridge`); its
targets, one per task, invoke the alias ``live`` (`resources.Rule.targets`); the
alias's policy lets exactly that rule invoke it (Sid ``nitro-<rule>``). Rules of
this function whose cron is gone are deleted with their targets and permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .alias import add_permission, alias_statements, remove_permission
from .names import Names
from .plan import Change
from .resources import Rule
from .session import Aws, Resource

__all__ = ["plan_rule_removals", "plan_rules"]

KIND = "eventbridge-rule"


def _by_id(target: dict[str, Any]) -> str:
    return str(target["Id"])


def _existing(aws: Aws, names: Names) -> dict[str, dict[str, Any]]:
    rules = aws.resource(KIND, f"{names.rule_prefix}*", "events", NamePrefix=names.rule_prefix)
    listed = rules.pages("list_rules", "Rules")
    return {rule["Name"]: rule for rule in listed if names.owns_rule(rule["Name"])}


def _rule(aws: Aws, rule: str) -> Resource:
    """The rule's calls (its name goes as `Name` or `Rule`, per call)."""
    return aws.resource(KIND, rule, "events")


def _targets(aws: Aws, rule: str) -> list[dict[str, Any]]:
    return _rule(aws, rule).pages("list_targets_by_rule", "Targets", Rule=rule)


def plan_rules(aws: Aws, names: Names, rules: Sequence[Rule], alias: Change) -> list[Change]:
    """Create or update a rule per schedule; delete this function's other rules."""
    existing = _existing(aws, names)
    statements = (
        alias_statements(aws, names, KIND, names.rule_prefix + "*")
        if alias.action != "create"
        else {}
    )
    changes = []
    for wanted in rules:
        rule = names.rule(wanted.cron)
        targets = wanted.targets(names.alias_arn)
        found = existing.pop(rule, None)
        fields: list[str] = []
        current_targets: list[dict[str, Any]] = []
        if found is not None:
            if found.get("ScheduleExpression") != wanted.expression:
                fields.append("schedule")
            if found.get("State") != "ENABLED":
                fields.append("state")
            if found.get("Description") != wanted.description:
                fields.append("description")
            current_targets = _targets(aws, rule)
            simple = [{k: t.get(k) for k in ("Id", "Arn", "Input")} for t in current_targets]
            if sorted(simple, key=_by_id) != sorted(targets, key=_by_id):
                fields.append("targets")
            if f"nitro-{rule}" not in statements:
                fields.append("permission")
            if not fields:
                changes.append(Change("unchanged", KIND, rule))
                continue
        stale = [t["Id"] for t in current_targets if t["Id"] not in {w["Id"] for w in targets}]
        apply = _put(aws, names, rule, wanted, targets, stale)
        changes.append(
            Change("create" if found is None else "update", KIND, rule, tuple(fields), apply)
        )
    changes += [_delete(aws, names, rule) for rule in sorted(existing)]
    return changes


def _put(
    aws: Aws,
    names: Names,
    rule: str,
    wanted: Rule,
    targets: list[dict[str, Any]],
    stale: list[str],
) -> Any:
    events = _rule(aws, rule)

    def apply() -> None:
        arn = events.call(
            "put", "put_rule",
            Name=rule, ScheduleExpression=wanted.expression, State="ENABLED",
            Description=wanted.description, Tags=names.tags,
        )["RuleArn"]  # fmt: skip
        # The permission first: a target that may not invoke the alias fails its runs.
        add_permission(
            aws, names, KIND, rule, f"nitro-{rule}",
            Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=arn,
        )  # fmt: skip
        result = events.call("put", "put_targets", Rule=rule, Targets=targets)
        if result.get("FailedEntryCount"):
            failed = result["FailedEntries"][0]
            raise aws_failure(
                "put targets", rule, failed.get("ErrorCode"), failed.get("ErrorMessage")
            )
        if stale:
            events.call("put", "remove_targets", Rule=rule, Ids=stale)

    return apply


def aws_failure(action: str, rule: str, code: Any, message: Any) -> Exception:
    from ...errors import DeployError

    return DeployError(f"[nitro:deploy] {action} EventBridge rule {rule}: {code}: {message}")


def _delete(aws: Aws, names: Names, rule: str) -> Change:
    events = _rule(aws, rule)

    def apply() -> None:
        ids = [t["Id"] for t in _targets(aws, rule)]
        if ids:
            events.call("delete", "remove_targets", Rule=rule, Ids=ids)
        events.call("delete", "delete_rule", Name=rule, missing=("ResourceNotFoundException",))
        remove_permission(aws, names, KIND, rule, f"nitro-{rule}")

    return Change("delete", KIND, rule, apply=apply)


def plan_rule_removals(aws: Aws, names: Names) -> list[Change]:
    return [_delete(aws, names, rule) for rule in sorted(_existing(aws, names))]
