"""Option dicts checked against what is accepted, with a hint for a misspelt name,
and `Options`, the base of a driver's or connector's options."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar, dataclass_transform

__all__ = ["Options", "did_you_mean", "options_as"]

T = TypeVar("T")


def did_you_mean(name: str, valid: Iterable[str], *, label: str = "valid options") -> str:
    """``"; did you mean 'x'?"`` for the nearest valid name, else ``"; valid options: ..."``."""
    import difflib  # only ever needed on the way to an error

    choices = list(valid)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else f"; {label}: {', '.join(choices)}"


@dataclass_transform(kw_only_default=True, frozen_default=True)
class Options:
    """Read-only, keyword-only options: each annotated class attribute is one, and its
    value, if any, the default (a dict or list default is copied for each instance).
    `validate` (called last by ``__init__``) checks them.

    It behaves like a frozen keyword-only dataclass (type checkers treat it as one)
    but generates no code when a subclass is defined: a frozen dataclass costs about
    2 ms to define, and a cold start defines the options of every mounted driver.

    Example::

        class RedisOptions(Options):
            url: str = "redis://127.0.0.1:6379"
            base: str = ""

            def validate(self) -> None:
                if not self.url.startswith(("redis://", "rediss://")):
                    raise ValueError("url must be a redis:// URL")
    """

    _names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = inspect.get_annotations(cls)  # this class's own, not its bases'
        added = [
            name
            for name, kind in own.items()
            if name not in cls._names and not str(kind).startswith(("ClassVar", "typing.ClassVar"))
        ]
        cls._names = (*cls._names, *added)

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        for name in cls._names:
            if name in values:
                object.__setattr__(self, name, values.pop(name))
            elif not hasattr(cls, name):
                raise TypeError(f"{cls.__name__} needs the option {name!r}")
            else:
                default = getattr(cls, name)
                if isinstance(default, (dict, list)):  # never shared between instances
                    object.__setattr__(self, name, default.copy())
        if values:
            raise TypeError(f"{cls.__name__} got an unknown option {next(iter(values))!r}")
        self.validate()

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The options, base classes' first."""
        return cls._names

    def validate(self) -> None:
        """Raise ValueError for a bad combination of values (default: accept them)."""

    def as_dict(self) -> dict[str, Any]:
        """Every option and its value."""
        return {name: getattr(self, name) for name in self._names}

    def replace(self: T, **changes: Any) -> T:
        """A copy with `changes` applied (validated again)."""
        return type(self)(**{**self.as_dict(), **changes})  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only: use .replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().items()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.as_dict().items())
        return f"{type(self).__name__}({fields})"


def options_as(cls: type[T], options: Mapping[str, Any], where: str) -> T:
    """`options` as `cls` (an `Options` class, or a dataclass); an unknown or invalid
    option is a ValueError prefixed with ``[where]``."""
    if isinstance(cls, type) and issubclass(cls, Options):
        names: Iterable[str] = cls.option_names()
    else:
        import dataclasses  # a third-party driver's options dataclass

        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in options:
        if key not in names:
            raise ValueError(f"[{where}] unknown option {key!r}{did_you_mean(key, names)}")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ValueError(f"[{where}] {exc}") from None
