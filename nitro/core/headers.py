"""HTTP headers as case-insensitive, multi-valued mappings over ASGI's raw pairs.

`Headers` is `event.headers` (read-only); `MutableHeaders` is `event.res.headers`
and `response.headers` of nitro's own responses: it edits the raw list it was given,
so what is set there is what gets sent. They behave like Starlette's classes of the
same names; nitro has its own so that serving a request needs none of Starlette's
imports (they are most of a cold start on serverless platforms).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["Headers", "MutableHeaders"]

RawHeaders = list[tuple[bytes, bytes]]


def _name(key: str) -> bytes:
    return key.lower().encode("latin-1")


class Headers(Mapping[str, str]):
    """Read-only headers: ``headers["content-type"]`` (the first value),
    ``headers.getlist("set-cookie")`` (all values), names in any case.

    Made from a mapping, from raw ``(name, value)`` byte pairs with lower-case
    names (``raw=``), or from an ASGI scope (``scope=``).
    """

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: Iterable[tuple[bytes, bytes]] | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> None:
        if (headers is not None) + (raw is not None) + (scope is not None) > 1:
            raise TypeError("Headers() takes one of a mapping, raw= or scope=")
        if scope is not None:
            self._list: RawHeaders = list(scope["headers"])
        elif raw is not None:
            self._list = raw if isinstance(raw, list) else list(raw)
        elif headers is not None:
            self._list = [(_name(k), v.encode("latin-1")) for k, v in headers.items()]
        else:
            self._list = []

    @property
    def raw(self) -> RawHeaders:
        """The ``(name, value)`` byte pairs, in order."""
        return self._list

    def keys(self) -> list[str]:  # type: ignore[override]
        return [name.decode("latin-1") for name, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [value.decode("latin-1") for _, value in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self._list]

    def getlist(self, key: str) -> list[str]:
        """Every value of header `key`, in order."""
        name = _name(key)
        return [v.decode("latin-1") for n, v in self._list if n == name]

    def get(self, key: str, default: Any = None) -> Any:
        name = _name(key)
        for n, v in self._list:
            if n == name:
                return v.decode("latin-1")
        return default

    def __getitem__(self, key: str) -> str:
        name = _name(key)
        for n, v in self._list:
            if n == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = _name(key)
        return any(n == name for n, _ in self._list)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def mutablecopy(self) -> MutableHeaders:
        """An editable copy."""
        return MutableHeaders(raw=list(self._list))

    def __repr__(self) -> str:
        items = self.items()
        if len(dict(items)) == len(items):
            return f"{type(self).__name__}({dict(items)!r})"
        return f"{type(self).__name__}(raw={self._list!r})"


class MutableHeaders(Headers):
    """Headers that can be set, appended and deleted, in place on the raw list."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Set header `key` to one value: the first occurrence keeps its place, others go."""
        name = _name(key)
        pair = (name, value.encode("latin-1"))
        found = [i for i, (n, _) in enumerate(self._list) if n == name]
        if not found:
            self._list.append(pair)
            return
        self._list[found[0]] = pair
        for i in reversed(found[1:]):
            del self._list[i]

    def __delitem__(self, key: str) -> None:
        name = _name(key)
        found = [i for i, (n, _) in enumerate(self._list) if n == name]
        if not found:
            raise KeyError(key)
        for i in reversed(found):
            del self._list[i]

    def append(self, key: str, value: str) -> None:
        """Add a value for `key`, keeping the ones already there (``Set-Cookie``)."""
        self._list.append((_name(key), value.encode("latin-1")))

    def setdefault(self, key: str, value: str) -> str:
        """The value of `key`; set to `value` first when it is absent."""
        present = self.get(key)
        if present is not None:
            return present
        self.append(key, value)
        return value

    def update(self, other: Mapping[str, str] | None = None, /, **values: str) -> None:
        """Set every header of `other` and `values` (each replaces its name)."""
        for key, value in {**(other or {}), **values}.items():
            self[key] = value

    def add_vary_header(self, vary: str) -> None:
        """Add `vary` to the ``Vary`` header's list."""
        existing = self.get("vary")
        self["vary"] = f"{existing}, {vary}" if existing else vary
