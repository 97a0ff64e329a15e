"""The OpenAPI 3.1 document of a set of routes.

Which routes: every HTTP route of the app; WebSocket routes are left out (OpenAPI
describes request/response operations; `nitro routes` lists them as ``WS``) and so
are nitro's own routes under ``/_`` (``/_openapi.json``, ``/_docs``, ``/_nitro/...``),
which are tooling, not the project's API. A route for any method is listed under
``get`` (as in Nitro); where a file for that exact method exists, it is the one
listed, as it is the one the router picks.

Each route's ``define_route_meta(openapi={...})`` is merged into its operation
last: dicts merge key by key, `parameters` by ``(name, in)``, anything else is
replaced; its ``$global`` part is merged into the document (shared components).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ..manifest import RouteEntry
from .operation import HandlerInfo, make_operation
from .paths import openapi_paths, template_shape
from .schemas import SchemaSet

__all__ = ["DocumentedRoute", "build_document", "merge_meta", "project_info"]

OPENAPI_VERSION = "3.1.0"
NITRO_ERROR_SCHEMA = {
    "type": "object",
    "description": "nitro's error body; in development it also has `stack`.",
    "properties": {
        "error": {"type": "boolean", "const": True},
        "status": {"type": "integer"},
        "statusText": {"type": "string"},
        "message": {"type": "string"},
        "data": {},
        "unhandled": {"type": "boolean"},
    },
    "required": ["error", "status", "statusText"],
}


class DocumentedRoute(NamedTuple):
    """A route to document: its manifest entry and what its handler says (None when
    the handler could not be loaded: the route is still listed, untyped)."""

    entry: RouteEntry
    info: HandlerInfo | None


def build_document(
    routes: Iterable[DocumentedRoute],
    *,
    options: Mapping[str, Any] | None = None,
    base_url: str = "/",
    max_body_size: int | None = None,
    default_info: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document of `routes`. `options` is the config's `openapi`
    (``title``, ``version``, ``description``, ``servers``); `default_info` fills
    ``title`` and ``version`` where it does not (see `project_info`).

    Example::

        doc = build_document([DocumentedRoute(RouteEntry("/users/:id", "routes/users/[id].py"), None)])
        doc["paths"]["/users/{id}"]["get"]["parameters"][0]["name"]   # "id"
    """
    options = dict(options or {})
    schemas = SchemaSet()
    chosen: dict[tuple[str, str], tuple[tuple[int, int], dict[str, Any]]] = {}
    path_of_shape: dict[str, str] = {}
    global_parts: list[Mapping[str, Any]] = []
    for route in routes:
        entry = route.entry
        if entry.kind != "http" or entry.route.startswith("/_"):
            continue
        meta = dict((entry.meta or {}).get("openapi") or {})
        if "$global" in meta:
            global_parts.append(meta.pop("$global"))
        method = entry.method or "get"
        for form in openapi_paths(entry.route):
            shape = template_shape(form.path)
            path = path_of_shape.setdefault(shape, form.path)
            if path != form.path:  # one router position, another route's param names
                names = _params_of(path)
                catch_all = names[-1] if form.catch_all else None
                form = form._replace(path=path, params=names, catch_all=catch_all)
            rank = (form.rank, 0 if entry.method else 1)
            current = chosen.get((path, method))
            if current is not None and current[0] <= rank:
                continue
            operation = make_operation(
                method,
                form,
                _params_of(openapi_paths(entry.route)[0].path)[: len(form.params)],
                route.info,
                schemas,
                max_body_size=max_body_size,
            )
            chosen[(path, method)] = (rank, merge_meta(operation, meta))
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), (_, operation) in sorted(chosen.items()):
        paths.setdefault(path, {})[method] = operation
    _unique_operation_ids(paths)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": _info(options, default_info or {}),
    }
    servers = options.get("servers")
    if servers:
        document["servers"] = [{"url": s} if isinstance(s, str) else dict(s) for s in servers]
    elif base_url.strip("/"):
        document["servers"] = [{"url": "/" + base_url.strip("/")}]
    document["paths"] = paths
    components = schemas.resolve()
    if _uses_error_schema(paths):
        components = {"NitroError": NITRO_ERROR_SCHEMA, **components}
    if components:
        document["components"] = {"schemas": components}
    for part in global_parts:
        document = _deep_merge(document, part)
    return document


def merge_meta(operation: dict[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """`operation` with a route's ``openapi`` meta merged in, the meta winning.

    Example::

        merge_meta({"tags": ["App Routes"], "responses": {"200": {"description": "OK"}}},
                   {"tags": ["users"], "responses": {404: {"description": "No such user"}}})
        # {"tags": ["users"], "responses": {"200": {...}, "404": {...}}}
    """
    meta = dict(meta)
    if "responses" in meta:
        meta["responses"] = {str(k): v for k, v in meta["responses"].items()}
    merged = _deep_merge(operation, {k: v for k, v in meta.items() if k != "parameters"})
    if "parameters" in meta:
        by_key = {(p.get("name"), p.get("in")): p for p in operation.get("parameters", [])}
        for parameter in meta["parameters"]:
            key = (parameter.get("name"), parameter.get("in"))
            by_key[key] = _deep_merge(by_key.get(key, {}), parameter)
        merged["parameters"] = list(by_key.values())
    return merged


def project_info(root: Path) -> dict[str, str]:
    """``title`` and ``version`` from the project's ``pyproject.toml`` ``[project]``,
    else the folder's name and ``0.0.0``."""
    info = {"title": root.name or "nitro", "version": "0.0.0"}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (OSError, ValueError):
            project = {}
        if isinstance(project.get("name"), str):
            info["title"] = project["name"]
        if isinstance(project.get("version"), str):
            info["version"] = project["version"]
    return info


# --- Internal helpers ---


def _params_of(path: str) -> tuple[str, ...]:
    return tuple(s[1:-1] for s in path.split("/") if s.startswith("{"))


def _info(options: Mapping[str, Any], default: Mapping[str, str]) -> dict[str, Any]:
    info = {
        "title": options.get("title") or default.get("title") or "nitro",
        "version": options.get("version") or default.get("version") or "0.0.0",
    }
    if options.get("description"):
        info["description"] = options["description"]
    return info


def _uses_error_schema(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get("$ref") == "#/components/schemas/NitroError":
            return True
        return any(_uses_error_schema(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_error_schema(v) for v in value)
    return False


def _unique_operation_ids(paths: dict[str, dict[str, Any]]) -> None:
    seen: set[str] = set()
    for operations in paths.values():
        for operation in operations.values():
            base = str(operation.get("operationId", ""))
            name, n = base, 1
            while name in seen:
                n += 1
                name = f"{base}_{n}"
            seen.add(name)
            operation["operationId"] = name


def _deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, Mapping):
        out = dict(base)
        for key, value in override.items():
            key = str(key) if isinstance(key, int) else key
            out[key] = _deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)
