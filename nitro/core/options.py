"""Option dicts checked against what is accepted, with a hint for a misspelt name."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

__all__ = ["did_you_mean", "options_as"]

T = TypeVar("T")


def did_you_mean(name: str, valid: Iterable[str], *, label: str = "valid options") -> str:
    """``"; did you mean 'x'?"`` for the nearest valid name, else ``"; valid options: ..."``."""
    import difflib  # only ever needed on the way to an error

    choices = list(valid)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else f"; {label}: {', '.join(choices)}"


def options_as(cls: type[T], options: Mapping[str, Any], where: str) -> T:
    """`options` as the dataclass `cls`; an unknown or invalid option is a ValueError
    prefixed with ``[where]``."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in options:
        if key not in names:
            raise ValueError(f"[{where}] unknown option {key!r}{did_you_mean(key, names)}")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ValueError(f"[{where}] {exc}") from None
