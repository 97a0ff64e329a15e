"""Scanning a project into a `Manifest`, without importing any of its code.

File names become routes (``routes/users/[id].get.py`` -> ``GET /users/:id``);
each module's syntax tree tells which attribute holds its handler, so a bad file
is reported here (naming it) and loading stays lazy at run time.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.manifest import Manifest, ModuleEntry, RouteEntry, TaskEntry
from .route_meta_reader import read_route_meta

__all__ = ["ScanError", "routes_for_env", "scan", "scan_project"]

ROUTE_DIRS = (("api", "/api"), ("routes", ""))
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
ROUTE_DEFINES = frozenset(
    {"define_handler", "define_middleware", "define_cached_handler", "define_websocket_handler"}
)
MIDDLEWARE_DEFINES = frozenset({"define_middleware", "define_handler"})
PLUGIN_DEFINES = frozenset({"define_plugin"})
TASK_DEFINES = frozenset({"define_task"})

_SUFFIXES = re.compile(
    r"^(?P<name>.+?)(?:\.(?P<method>" + "|".join(METHODS) + r"))?(?:\.(?P<env>dev|prod))?$"
)
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class ScanError(Exception):
    """The project has files nitro cannot serve; `problems` lists each, naming the file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class _Export:
    kind: str  # "define_handler", ..., or "def" / "class" / "value" / "import"
    literals: dict[str, Any] = field(default_factory=dict)


def scan(root: str | Path) -> list[RouteEntry]:
    """Every file route of the project at `root` (raises `ScanError` naming bad files)."""
    return scan_project(root).routes


def scan_project(root: str | Path, problems: list[str] | None = None) -> Manifest:
    """Scan routes, middleware, plugins, tasks and `server.py` into a `Manifest`.

    With `problems` (a list), problems are appended to it and scanning goes on
    (`nitro dev`); a route whose module is unusable gets `problem` set so it can
    answer with an error page. Without it, any problem raises `ScanError`.
    """
    root = Path(root)
    collected: list[str] = [] if problems is None else problems
    start = len(collected)
    manifest = Manifest(
        routes=_scan_routes(root, collected),
        middleware=_scan_modules(root, "middleware", "handler", MIDDLEWARE_DEFINES, collected),
        plugins=_scan_modules(root, "plugins", "plugin", PLUGIN_DEFINES, collected),
        tasks=_scan_tasks(root, collected),
    )
    _scan_server(root, manifest, collected)
    if problems is None and len(collected) > start:
        raise ScanError(collected[start:])
    return manifest


def routes_for_env(routes: list[RouteEntry], env: str) -> list[RouteEntry]:
    """The routes served in `env` ("dev" or "prod"): an env-specific file wins over a plain one."""
    chosen: dict[tuple[str, str | None], RouteEntry] = {}
    for entry in routes:
        if entry.env is not None and entry.env != env:
            continue
        key = (_shape(entry.route), entry.method)
        current = chosen.get(key)
        if current is None or (current.env is None and entry.env is not None):
            chosen[key] = entry
    return [entry for entry in routes if chosen.get((_shape(entry.route), entry.method)) is entry]


# --- Internal helpers ---


def _python_files(directory: Path) -> Iterator[Path]:
    """`.py` files under `directory` in path order, skipping hidden and `_`-prefixed folders."""
    if not directory.is_dir():
        return
    files = []
    for path in directory.rglob("*.py"):
        rel = path.relative_to(directory).parts
        if any(part.startswith((".", "_")) for part in rel[:-1]) or not path.is_file():
            continue
        files.append(path)
    yield from sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _scan_routes(root: Path, problems: list[str]) -> list[RouteEntry]:
    routes: list[RouteEntry] = []
    seen: dict[tuple[str, str | None, str | None], str] = {}
    for dirname, prefix in ROUTE_DIRS:
        base = root / dirname
        for path in _python_files(base):
            file = _rel(root, path)
            if path.name.startswith("_"):
                if path.name == "_middleware.py":
                    _check_module(path, file, "handler", MIDDLEWARE_DEFINES, problems)
                continue
            try:
                route, method, env = _route_for(path.relative_to(base), prefix)
            except ValueError as exc:
                problems.append(f"{file}: {exc}")
                continue
            export, found, problem = _check_module(path, file, "handler", ROUTE_DEFINES, problems)
            for shape in _shapes(route):
                key = (shape, method, env)
                if key in seen:
                    problems.append(
                        f"{file}: {method.upper() if method else 'any method'} {route} is also "
                        f"handled by {seen[key]}"
                    )
                seen.setdefault(key, file)
            routes.append(
                RouteEntry(
                    route=route,
                    file=file,
                    method=method,
                    env=env,
                    export=export,
                    kind="websocket"
                    if found and found.kind == "define_websocket_handler"
                    else "http",
                    middleware=_scoped_middleware(root, base, path),
                    problem=problem,
                    meta=read_route_meta(path, file, problems),
                )
            )
    return routes


def _route_for(rel: Path, prefix: str) -> tuple[str, str | None, str | None]:
    """``users/[id].get.py`` -> ``("/users/:id", "get", None)``; ValueError explains a bad name."""
    match = _SUFFIXES.match(rel.name[: -len(".py")])
    assert match is not None
    segments: list[str] = []
    parts = [*rel.parts[:-1], match["name"]]
    for index, part in enumerate(parts):
        is_dir = index < len(parts) - 1
        if is_dir and part.startswith("(") and part.endswith(")"):
            continue  # a route group adds no segment
        segment = _segment(part)
        last = index == len(parts) - 1
        if segment.startswith("**") and not last:
            raise ValueError(f"a catch-all [{part.strip('[]')}] must be the last part of the path")
        if segment.endswith("?") and not last:
            raise ValueError(f"an optional param {part} must be the last part of the path")
        segments.append(segment)
    if segments and segments[-1] == "index":
        segments.pop()
    route = prefix + "/" + "/".join(segments)
    if len(route) > 1:
        route = route.rstrip("/")
    return route or "/", match["method"], match["env"]


def _segment(part: str) -> str:
    if part.startswith("[[") and part.endswith("]]"):
        return ":" + _param_name(part[2:-2], part) + "?"
    if part.startswith("[...") and part.endswith("]"):
        name = part[4:-1]
        return "**:" + _param_name(name, part) if name else "**"
    if part.startswith("[") and part.endswith("]"):
        return ":" + _param_name(part[1:-1], part)
    if "[" in part or "]" in part:
        raise ValueError(
            f"'{part}' mixes text and a [param]; a path part is all text or one [param]"
        )
    if part.startswith("(") or part.endswith(")"):
        raise ValueError(f"'{part}': a (group) must be a folder")
    return part


def _param_name(name: str, part: str) -> str:
    if not _PARAM_NAME.match(name):
        raise ValueError(f"'{part}' is not a valid param name (letters, digits, _ and -)")
    return name.replace("-", "_")


def _shape(route: str) -> str:
    return "/".join(
        "**:"
        if seg.startswith("**:")
        else "**"
        if seg == "**"
        else ":"
        if seg.startswith(":")
        else seg
        for seg in route.split("/")
    )


def _shapes(route: str) -> list[str]:
    """The router positions a route takes: an optional param takes two."""
    if route.endswith("?"):
        without = route.rsplit("/", 1)[0] or "/"
        return [_shape(without), _shape(route[:-1])]
    return [_shape(route)]


def _scoped_middleware(root: Path, base: Path, path: Path) -> tuple[str, ...]:
    found = []
    directory = base
    for part in ("", *path.relative_to(base).parts[:-1]):
        directory = directory / part if part else directory
        candidate = directory / "_middleware.py"
        if candidate.is_file():
            found.append(_rel(root, candidate))
    return tuple(found)


def _exports(path: Path, file: str) -> dict[str, _Export]:
    tree = ast.parse(path.read_bytes(), filename=file)
    found: dict[str, _Export] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = _from_decorators(node.decorator_list) or _Export("def")
        elif isinstance(node, ast.ClassDef):
            found[node.name] = _Export("class")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            value = node.value
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            export = (_from_call(value) if value is not None else None) or _Export("value")
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = export
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found[(alias.asname or alias.name).split(".")[0]] = _Export("import")
    return found


def _callee(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _from_call(expr: ast.expr) -> _Export | None:
    if not isinstance(expr, ast.Call):
        return None
    name = _callee(expr.func)
    if name is not None and name.startswith("define_"):
        literals = {
            kw.arg: kw.value.value
            for kw in expr.keywords
            if kw.arg is not None and isinstance(kw.value, ast.Constant)
        }
        return _Export(name, literals)
    return _from_call(expr.func)  # define_task(name="x")(fn)


def _from_decorators(decorators: list[ast.expr]) -> _Export | None:
    for decorator in decorators:
        export = _from_call(decorator)
        if export is None:
            name = _callee(decorator)
            if name is not None and name.startswith("define_"):
                export = _Export(name)
        if export is not None:
            return export
    return None


def _check_module(
    path: Path, file: str, preferred: str, defines: frozenset[str], problems: list[str]
) -> tuple[str | None, _Export | None, str | None]:
    """(export name, its record, problem) for a module; the problem is also reported."""
    try:
        exports = _exports(path, file)
    except SyntaxError as exc:
        problem = f"syntax error on line {exc.lineno}: {exc.msg}"
        problems.append(f"{file}: {problem}")
        return None, None, problem
    if preferred in exports:
        return preferred, exports[preferred], None
    candidates = [name for name, export in exports.items() if export.kind in defines]
    if len(candidates) == 1:
        return candidates[0], exports[candidates[0]], None
    if candidates:
        problem = (
            f"defines several handlers ({', '.join(candidates)}); name the one to use `{preferred}`"
        )
    else:
        problem = f"has no `{preferred}` and no {' / '.join(sorted(defines))}(...) object"
    problems.append(f"{file}: {problem}")
    return None, None, problem


def _scan_modules(
    root: Path, dirname: str, preferred: str, defines: frozenset[str], problems: list[str]
) -> list[ModuleEntry]:
    entries = []
    for path in _python_files(root / dirname):
        if path.name.startswith("_"):
            continue
        file = _rel(root, path)
        export, _, problem = _check_module(path, file, preferred, defines, problems)
        entries.append(ModuleEntry(file=file, export=export, problem=problem))
    return entries


def _scan_tasks(root: Path, problems: list[str]) -> list[TaskEntry]:
    tasks: list[TaskEntry] = []
    seen: dict[str, str] = {}
    base = root / "tasks"
    for path in _python_files(base):
        if path.name.startswith("_"):
            continue
        file = _rel(root, path)
        export, found, problem = _check_module(path, file, "task", TASK_DEFINES, problems)
        if problem is not None:
            continue
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "index":
            parts.pop()
        literals = found.literals if found else {}
        name = literals.get("name") or ":".join(parts)
        if not name:
            problems.append(f"{file}: a task file needs a name (tasks/index.py has none)")
            continue
        if name in seen:
            problems.append(f"{file}: task {name!r} is also defined by {seen[name]}")
            continue
        seen[name] = file
        tasks.append(
            TaskEntry(
                name=name,
                file=file,
                export=export,
                description=str(literals.get("description", "")),
            )
        )
    return tasks


def _scan_server(root: Path, manifest: Manifest, problems: list[str]) -> None:
    path = root / "server.py"
    if not path.is_file():
        return
    try:
        exports = _exports(path, "server.py")
    except SyntaxError as exc:
        problems.append(f"server.py: syntax error on line {exc.lineno}: {exc.msg}")
        return
    if "app" in exports:
        manifest.server_app = ModuleEntry(file="server.py", export="app")
    handler = "handler" if "handler" in exports else None
    if handler is None:
        candidates = [n for n, e in exports.items() if e.kind in MIDDLEWARE_DEFINES]
        if len(candidates) == 1:
            handler = candidates[0]
    if handler is not None:
        manifest.server_handler = ModuleEntry(file="server.py", export=handler)
    if manifest.server_app is None and manifest.server_handler is None:
        problems.append(
            "server.py: export `app` (an ASGI or WSGI app) or `handler` (runs before routes)"
        )
