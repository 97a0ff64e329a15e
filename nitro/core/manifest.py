"""What a project contains: the records the scanner produces and the runtime loads.

`nitro build` writes a `Manifest` as JSON, so a production start-up never scans
the file system; `nitro dev` scans on each (re)start. Everything here is plain
data: loading the modules it names is a separate, lazy step (`core.loader`).

The records are `NamedTuple`s rather than frozen dataclasses, which cost several
times as much to define (every cold start defines these). For the same reason this
module does not use ``from __future__ import annotations``: a NamedTuple compiles
each field's annotation when it is a string.
"""

import json
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["OPENAPI_FILE", "Manifest", "ModuleEntry", "PublicAsset", "RouteEntry", "TaskEntry"]

MANIFEST_VERSION = 1
OPENAPI_FILE = "openapi.json"
"""The OpenAPI document a build computed, written beside the manifest file."""


class RouteEntry(NamedTuple):
    """One file route.

    `route` is in router notation (``/users/:id``); `method` is lower-case or None
    for any method; `file` is relative to the project root; `export` is the module
    attribute holding the handler; `middleware` lists the directory-scoped
    ``_middleware.py`` files that wrap it, outermost first. `problem` (dev only)
    says why the route cannot be served: it answers with an error page instead.
    `meta` is the file's ``define_route_meta(...)`` literal, if it has one.
    """

    route: str
    file: str
    method: str | None = None
    env: str | None = None
    export: str | None = None
    kind: str = "http"  # "http" | "websocket"
    middleware: tuple[str, ...] = ()
    problem: str | None = None
    meta: dict[str, Any] | None = None


class ModuleEntry(NamedTuple):
    """A middleware, plugin or server-entry module and the attribute to load."""

    file: str
    export: str | None = None
    problem: str | None = None


class TaskEntry(NamedTuple):
    """A task module: `name` (``db:migrate``), its file, and the attribute to load."""

    name: str
    file: str
    export: str | None = None
    description: str = ""


class PublicAsset(NamedTuple):
    """A file served from ``public/``: where it is and its validators."""

    file: str  # relative to the public directory
    size: int
    mtime: float
    etag: str
    content_type: str
    encodings: dict[str, str] | None = None  # "br" -> "x.js.br"
    max_age: int | None = None


class Manifest:
    """Everything the runtime needs to know about a project, without scanning it.

    `public` maps URL paths to assets (built output only); `platform` is what a
    preset records for run time; `openapi` is the OpenAPI document a build computed
    (config ``openapi={"production": True}``): `write` puts it in its own file beside
    the manifest (`OPENAPI_FILE`), read on the first request of ``/_openapi.json``,
    so a cold start never parses it.
    """

    __slots__ = (
        "middleware",
        "openapi",
        "platform",
        "plugins",
        "public",
        "routes",
        "server_app",
        "server_handler",
        "tasks",
    )

    def __init__(
        self,
        routes: list[RouteEntry] | None = None,
        middleware: list[ModuleEntry] | None = None,
        plugins: list[ModuleEntry] | None = None,
        tasks: list[TaskEntry] | None = None,
        server_handler: ModuleEntry | None = None,
        server_app: ModuleEntry | None = None,
        public: dict[str, PublicAsset] | None = None,
        platform: dict[str, Any] | None = None,
        openapi: dict[str, Any] | None = None,
    ) -> None:
        self.routes = routes if routes is not None else []
        self.middleware = middleware if middleware is not None else []
        self.plugins = plugins if plugins is not None else []
        self.tasks = tasks if tasks is not None else []
        self.server_handler = server_handler
        self.server_app = server_app
        self.public = public
        self.platform = platform if platform is not None else {}
        self.openapi = openapi

    def __eq__(self, other: object) -> bool:
        if type(other) is not Manifest:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        return f"Manifest({len(self.routes)} routes, {len(self.tasks)} tasks)"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": MANIFEST_VERSION}
        data["routes"] = [_compact(r) for r in self.routes]
        data["middleware"] = [_compact(m) for m in self.middleware]
        data["plugins"] = [_compact(p) for p in self.plugins]
        data["tasks"] = [_compact(t) for t in self.tasks]
        if self.server_handler:
            data["server_handler"] = _compact(self.server_handler)
        if self.server_app:
            data["server_app"] = _compact(self.server_app)
        if self.public is not None:
            data["public"] = {url: _compact(asset) for url, asset in self.public.items()}
        if self.platform:
            data["platform"] = self.platform
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Manifest":
        version = data.get("version")
        if version != MANIFEST_VERSION:
            raise ValueError(
                f"[nitro] route manifest version {version!r} is not {MANIFEST_VERSION}; "
                "rebuild with this nitro version (`nitro build`)"
            )
        public = data.get("public")
        return cls(
            routes=[
                RouteEntry(**{**r, "middleware": tuple(r.get("middleware", ()))})
                for r in data.get("routes", [])
            ],
            middleware=[ModuleEntry(**m) for m in data.get("middleware", [])],
            plugins=[ModuleEntry(**p) for p in data.get("plugins", [])],
            tasks=[TaskEntry(**t) for t in data.get("tasks", [])],
            server_handler=ModuleEntry(**data["server_handler"])
            if data.get("server_handler")
            else None,
            server_app=ModuleEntry(**data["server_app"]) if data.get("server_app") else None,
            public={url: PublicAsset(**a) for url, a in public.items()}
            if public is not None
            else None,
            platform=data.get("platform", {}),
        )

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=False), encoding="utf-8")
        if self.openapi is not None:
            path.with_name(OPENAPI_FILE).write_text(json.dumps(self.openapi), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def _compact(record: Any) -> dict[str, Any]:
    # Leave out default values so a 1,000-route manifest stays small and quick to parse.
    defaults = record._field_defaults
    out: dict[str, Any] = {}
    for name, value in record._asdict().items():
        if name in defaults and value == defaults[name]:
            continue
        out[name] = list(value) if isinstance(value, tuple) else value
    return out
