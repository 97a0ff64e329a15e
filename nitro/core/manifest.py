"""What a project contains: the records the scanner produces and the runtime loads.

`nitro build` writes a `Manifest` as JSON, so a production start-up never scans
the file system; `nitro dev` scans on each (re)start. Everything here is plain
data: loading the modules it names is a separate, lazy step (`core.loader`).
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["Manifest", "ModuleEntry", "PublicAsset", "RouteEntry", "TaskEntry"]

MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One file route.

    `route` is in router notation (``/users/:id``); `method` is lower-case or None
    for any method; `file` is relative to the project root; `export` is the module
    attribute holding the handler; `middleware` lists the directory-scoped
    ``_middleware.py`` files that wrap it, outermost first. `problem` (dev only)
    says why the route cannot be served: it answers with an error page instead.
    """

    route: str
    file: str
    method: str | None = None
    env: str | None = None
    export: str | None = None
    kind: str = "http"  # "http" | "websocket"
    middleware: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ModuleEntry:
    """A middleware, plugin or server-entry module and the attribute to load."""

    file: str
    export: str | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class TaskEntry:
    """A task module: `name` (``db:migrate``), its file, and the attribute to load."""

    name: str
    file: str
    export: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class PublicAsset:
    """A file served from ``public/``: where it is and its validators."""

    file: str  # relative to the public directory
    size: int
    mtime: float
    etag: str
    content_type: str
    encodings: dict[str, str] = field(default_factory=dict)  # "br" -> "x.js.br"
    max_age: int | None = None


@dataclass(slots=True)
class Manifest:
    """Everything the runtime needs to know about a project, without scanning it."""

    routes: list[RouteEntry] = field(default_factory=list)
    middleware: list[ModuleEntry] = field(default_factory=list)
    plugins: list[ModuleEntry] = field(default_factory=list)
    tasks: list[TaskEntry] = field(default_factory=list)
    server_handler: ModuleEntry | None = None
    server_app: ModuleEntry | None = None
    public: dict[str, PublicAsset] | None = None  # URL path -> asset (built output only)
    platform: dict[str, Any] = field(default_factory=dict)  # what a preset records for run time

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
            data["public"] = {url: asdict(asset) for url, asset in self.public.items()}
        if self.platform:
            data["platform"] = self.platform
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
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

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def _compact(record: Any) -> dict[str, Any]:
    # Leave out default values so a 1,000-route manifest stays small and quick to parse.
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if f.default is not MISSING and value == f.default:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
