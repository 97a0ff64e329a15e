"""A radix-tree router whose matching cost does not grow with the number of routes.

Route notation (rou3's, as printed by ``nitro routes``)::

    /users/:id        one segment, as param "id"
    /opt/:id?         optional last segment
    /blog/**:slug     one or more trailing segments, as param "slug" ("a/b/c")
    /files/**         zero or more trailing segments, as param "_"

Priority: static > param > catch-all, then method-specific > any-method; HEAD is
served by GET. A fully static path is one dict lookup.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["RouteConflictError", "Router"]

T = TypeVar("T")
ANY = ""  # the method key of any-method routes


class RouteConflictError(ValueError):
    """Two values were registered for the same route and method."""


class _Entry(Generic[T]):
    __slots__ = ("names", "route", "value")

    def __init__(self, value: T, names: tuple[str, ...], route: str) -> None:
        self.value = value
        self.names = names
        self.route = route


class _Node:
    __slots__ = ("catchall", "handlers", "param", "static", "wildcard")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.catchall: _Node | None = None  # **:name, one or more segments
        self.wildcard: _Node | None = None  # **, zero or more segments
        self.handlers: dict[str, _Entry] = {}


def _pick(handlers: dict[str, _Entry], method: str) -> _Entry | None:
    entry = handlers.get(method)
    if entry is None:
        if method == "HEAD":
            entry = handlers.get("GET")
        if entry is None:
            entry = handlers.get(ANY)
    return entry


def _search(
    node: _Node, segs: list[str], i: int, n: int, method: str, values: list[str]
) -> _Entry | None:
    if i == n:
        if node.handlers:
            entry = _pick(node.handlers, method)
            if entry is not None:
                return entry
        if node.wildcard is not None:
            entry = _pick(node.wildcard.handlers, method)
            if entry is not None:
                values.append("")
                return entry
        return None
    seg = segs[i]
    child = node.static.get(seg)
    if child is not None:
        entry = _search(child, segs, i + 1, n, method, values)
        if entry is not None:
            return entry
    child = node.param
    if child is not None and seg:
        values.append(seg)
        entry = _search(child, segs, i + 1, n, method, values)
        if entry is not None:
            return entry
        values.pop()
    for child in (node.catchall, node.wildcard):
        if child is not None:
            entry = _pick(child.handlers, method)
            if entry is not None:
                values.append("/".join(segs[i:]))
                return entry
    return None


def _collect(node: _Node, segs: list[str], i: int, n: int, out: set[str]) -> None:
    """Every method any route answers for this path (for 405's `Allow`)."""
    if i == n:
        out.update(node.handlers)
        if node.wildcard is not None:
            out.update(node.wildcard.handlers)
        return
    seg = segs[i]
    child = node.static.get(seg)
    if child is not None:
        _collect(child, segs, i + 1, n, out)
    if node.param is not None and seg:
        _collect(node.param, segs, i + 1, n, out)
    for child in (node.catchall, node.wildcard):
        if child is not None:
            out.update(child.handlers)


def _params(names: tuple[str, ...], values: list[str]) -> dict[str, str]:
    if len(names) == 1:  # the common case, several times cheaper than dict(zip(...))
        return {names[0]: values[0]}
    return dict(zip(names, values, strict=True))


def _segments(path: str) -> list[str]:
    # "/" -> [""] so that index 1 is already the end; "/a/b" -> ["", "a", "b"].
    return [""] if path == "/" else path.split("/")


class Router(Generic[T]):
    """Maps ``(method, path)`` to a value and its params.

    Example::

        router = Router()
        router.add("/users/:id", show_user, method="GET")
        router.match("GET", "/users/42")  # -> (show_user, {"id": "42"})
    """

    def __init__(self) -> None:
        self._root = _Node()
        self._static: dict[str, _Node] = {}
        self._dynamic = False
        self._entries: list[tuple[str, str | None, T]] = []

    def add(self, route: str, value: T, method: str | None = None) -> None:
        """Register `value` for `route` (router notation) and `method` (None: any)."""
        key = method.upper() if method else ANY
        route = _normalize(route)
        parts = [] if route == "/" else route[1:].split("/")
        shapes = [parts]
        if parts and parts[-1].startswith(":") and parts[-1].endswith("?"):
            # An optional last segment is two routes: with and without it.
            shapes = [parts[:-1], [*parts[:-1], parts[-1][:-1]]]
        # Every shape is checked before any is stored: a conflict leaves nothing behind.
        targets = [(self._walk(shape, route), shape) for shape in shapes]
        for (node, _, _), _shape in targets:
            if key in node.handlers:
                raise RouteConflictError(
                    f"[nitro:router] '{route}' is already registered for "
                    f"{key or 'any method'} (as '{node.handlers[key].route}')"
                )
        for (node, names, dynamic), shape in targets:
            node.handlers[key] = _Entry(value, names, route)
            if dynamic:
                self._dynamic = True
            else:
                self._static["/" + "/".join(shape)] = node
        self._entries.append((route, method.upper() if method else None, value))

    def _walk(self, parts: list[str], route: str) -> tuple[_Node, tuple[str, ...], bool]:
        """The node for `parts` (made as needed), its param names, whether it is dynamic."""
        node = self._root
        names: list[str] = []
        dynamic = False
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part.startswith("**"):
                if not last:
                    raise ValueError(
                        f"[nitro:router] '{route}': a catch-all must be the last segment"
                    )
                if part.startswith("**:"):
                    node.catchall = node.catchall or _Node()
                    node = node.catchall
                    names.append(part[3:])
                else:
                    node.wildcard = node.wildcard or _Node()
                    node = node.wildcard
                    names.append("_")
                dynamic = True
            elif part.startswith(":"):
                name = part[1:]
                if not name or name.endswith("?"):
                    raise ValueError(f"[nitro:router] '{route}': bad param segment '{part}'")
                node.param = node.param or _Node()
                node = node.param
                names.append(name)
                dynamic = True
            else:
                node = node.static.setdefault(part, _Node())
        return node, tuple(names), dynamic

    def match(self, method: str, path: str) -> tuple[T, dict[str, str] | None] | None:
        """The value for `method` and `path` and its params (None for a static route), or None.

        A path that does not start with ``/`` (``*``, ``""``) matches nothing.
        """
        if len(path) > 1 and path[-1] == "/":
            path = path[:-1]
        node = self._static.get(path)  # every static key starts with "/"
        if node is not None:
            entry = _pick(node.handlers, method)
            if entry is not None:
                return entry.value, None
        if self._dynamic and path[:1] == "/":
            segs = _segments(path)
            n = len(segs)
            values: list[str] = []
            # Fast path: the walk the full search tries first (a static child, else the
            # param child), without recursion. When it ends on a handler for the method,
            # that is the full search's answer too; otherwise fall back to the search.
            node = self._root
            for seg in segs[1:]:
                child = node.static.get(seg)
                if child is None:
                    child = node.param
                    if child is None or not seg:
                        break
                    values.append(seg)
                node = child
            else:
                handlers = node.handlers
                entry = handlers.get(method) or (_pick(handlers, method) if handlers else None)
                if entry is not None:
                    names = entry.names
                    if len(names) == 1:  # the common case, several times cheaper than zip
                        return entry.value, {names[0]: values[0]}
                    return entry.value, _params(names, values)
            values.clear()
            entry = _search(self._root, segs, 1, n, method, values)
            if entry is not None:
                return entry.value, _params(entry.names, values)
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """Methods some route answers for `path` (empty when nothing matches it)."""
        if path[:1] != "/":
            return []
        if len(path) > 1 and path[-1] == "/":
            path = path[:-1]
        found: set[str] = set()
        segs = _segments(path)
        _collect(self._root, segs, 1, len(segs), found)
        if ANY in found:
            return ["*"]
        if "GET" in found:
            found.add("HEAD")
        return sorted(found)

    def entries(self) -> list[tuple[str, str | None, T]]:
        """Every registered ``(route, method, value)``, in registration order."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _normalize(route: str) -> str:
    if not route.startswith("/"):
        route = "/" + route
    if len(route) > 1 and route.endswith("/"):
        route = route[:-1]
    return route
