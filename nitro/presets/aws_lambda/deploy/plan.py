"""A deploy's plan: one `Change` per resource, read from what exists, applied in order.

Each line of a plan, as ``--dry-run`` prints it on stdout::

    create lambda-function shop-prod
    update lambda-function shop-prod (code, memory)
    unchanged iam-role shop-prod-role
    delete eventbridge-rule shop-prod-cron-1a2b3c4d5e

A change that is not `unchanged` carries the step that makes it so. Applying runs
those steps in the plan's order (dependencies first) and stops at the first
failure: every step only moves AWS towards the wanted state, and the next run
reads that state again, so it plans (and does) only what is still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from .session import LABELS

__all__ = ["Action", "Change", "Plan"]

Action = Literal["create", "update", "delete", "unchanged"]
_VERBS = {"create": "creating", "update": "updating", "delete": "deleting"}


@dataclass
class Change:
    action: Action
    kind: str
    name: str
    fields: tuple[str, ...] = ()
    """What differs, for an update (``code``, ``memory``, ``targets``...)."""
    apply: Callable[[], None] | None = None

    def line(self) -> str:
        text = f"{self.action} {self.kind} {self.name}"
        return f"{text} ({', '.join(self.fields)})" if self.fields else text


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    def add(self, changes: Change | Iterable[Change]) -> None:
        self.changes.extend([changes] if isinstance(changes, Change) else changes)

    def find(self, kind: str) -> Change | None:
        return next((c for c in self.changes if c.kind == kind), None)

    def lines(self) -> list[str]:
        return [change.line() for change in self.changes]

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]

    def apply(self, log: Callable[[str], None]) -> None:
        """Run every pending change in order, logging each step and its time."""
        pending = self.pending
        for number, change in enumerate(pending, 1):
            label = f"{LABELS.get(change.kind, change.kind)} {change.name}"
            detail = f" ({', '.join(change.fields)})" if change.fields else ""
            log(f"[{number}/{len(pending)}] {_VERBS[change.action]} {label}{detail}")
            started = time.perf_counter()
            assert change.apply is not None, change.line()
            change.apply()
            log(f"[{number}/{len(pending)}] {label}: done in {time.perf_counter() - started:.1f}s")
