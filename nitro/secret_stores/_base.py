"""What a secret store is, and the error it raises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["SecretStore", "SecretStoreError"]


class SecretStoreError(RuntimeError):
    """The store could not answer (refused, unreachable, misconfigured). The message
    names the store and the secrets asked for, never a value."""


class SecretStore(Protocol):
    """A place secrets are read from at start-up.

    `fetch` gets up to `batch` names at once and returns the values it found;
    a name missing from the answer does not exist. It blocks (start-up runs
    batches on threads, concurrently, under one timeout) and raises
    `SecretStoreError` for anything but "not found".
    """

    label: str
    """How messages name the store: ``AWS SSM Parameter Store (eu-west-1)``."""
    batch: int
    how_to_create: str
    """The fix for a missing secret, for the error message."""

    def fetch(self, names: Sequence[str]) -> dict[str, str]: ...
