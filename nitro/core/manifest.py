"""What a project contains: the records the scanner produces and the runtime loads.

`nitro build` writes a `Manifest` as JSON, so a production start-up never scans
the file system; `nitro dev` scans on each (re)start. Everything here is plain
data: loading the modules it names is a separate, lazy step (`core.loader`).

The records made by the thousand (routes, assets) are `NamedTuple`s rather than
frozen dataclasses, which cost several times as much to define (every cold start
defines these); the two made once per start-up (`Schedule`, `PresetRecord`) are
plain slotted classes, cheaper still to define. For the same reason this module does
not use ``from __future__ import annotations``: a NamedTuple compiles each field's
annotation when it is a string.
"""

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "OPENAPI_FILE",
    "Manifest",
    "ModuleEntry",
    "PresetRecord",
    "PublicAsset",
    "RouteEntry",
    "Schedule",
    "TaskEntry",
]

MANIFEST_VERSION = 2  # 2: `preset` (a PresetRecord) replaced the untyped `platform`
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
    immutable: bool = False  # content-hashed: `cache-control` says it never changes


class _Record:
    """A plain record: defining a class with ``__slots__`` costs a fraction of what a
    NamedTuple does, and these are made only once per start-up."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable fields (dicts): not hashable

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Schedule(_Record):
    """One cron of `scheduled_tasks` and the tasks each of its ticks runs, as a build
    records it (checked: the cron is valid, every task exists).

    `trigger` is the platform's name for what fires it (an EventBridge rule-name
    suffix, an Azure timer function, a Cloud Scheduler job); `expression` is the cron
    as the platform writes it (``cron(0 3 * * ? *)``, NCRONTAB, unix cron). Both are
    empty where nitro's own scheduler runs it.
    """

    __slots__ = ("cron", "expression", "tasks", "trigger")

    def __init__(
        self, cron: str, tasks: Iterable[str], trigger: str = "", expression: str = ""
    ) -> None:
        self.cron = cron
        self.tasks: tuple[str, ...] = tuple(tasks)
        self.trigger = trigger
        self.expression = expression

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"cron": self.cron, "tasks": list(self.tasks)}
        if self.trigger:
            data["trigger"] = self.trigger
        if self.expression:
            data["expression"] = self.expression
        return data


class PresetRecord(_Record):
    """What a build hands its entry module, written into ``manifest.json`` by the
    preset and read at start-up instead of the config: the preset's `name`, its
    `schedules`, the `storage_defaults` its platform provides (the `data` mount on its
    KV), where sync code runs by default (`sync_to_thread`: False where one request
    is served at a time), whether `wait_until` work must end before an invocation
    returns (`serverless`), the preset's own checked `options`, and where
    ``{{secret:NAME}}`` values are read at start-up (`secret_store`).

    Example (what the aws-lambda preset records)::

        PresetRecord("aws-lambda", [Schedule("0 3 * * *", ["db:cleanup"], "-cron-1a2b3c4d5e",
                     "cron(0 3 * * ? *)")], {"data": {"driver": "dynamodb", ...}},
                     sync_to_thread=False, serverless=True, options={"memory": 1024, ...})
    """

    __slots__ = (
        "name",
        "options",
        "schedules",
        "secret_store",
        "serverless",
        "storage_defaults",
        "sync_to_thread",
    )

    def __init__(
        self,
        name: str,
        schedules: Iterable[Schedule] = (),
        storage_defaults: Mapping[str, Mapping[str, Any]] | None = None,
        sync_to_thread: bool = True,
        serverless: bool = False,
        options: Mapping[str, Any] | None = None,
        secret_store: str = "env",
    ) -> None:
        self.name = name
        self.schedules: tuple[Schedule, ...] = tuple(schedules)
        self.storage_defaults: Mapping[str, Mapping[str, Any]] = storage_defaults or {}
        self.sync_to_thread = sync_to_thread
        self.serverless = serverless
        self.options: Mapping[str, Any] = options or {}
        self.secret_store = secret_store

    def schedule(self) -> dict[str, list[str]]:
        """``{cron: [task, ...]}``, as `scheduled_tasks` after checking."""
        return {s.cron: list(s.tasks) for s in self.schedules}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.schedules:
            data["schedules"] = [s.to_json() for s in self.schedules]
        if self.storage_defaults:
            data["storage_defaults"] = self.storage_defaults
        if not self.sync_to_thread:
            data["sync_to_thread"] = False
        if self.serverless:
            data["serverless"] = True
        if self.options:
            data["options"] = self.options
        if self.secret_store != "env":
            data["secret_store"] = self.secret_store
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PresetRecord":
        return cls(
            data["name"],
            [Schedule(**s) for s in data.get("schedules", ())],
            data.get("storage_defaults"),
            data.get("sync_to_thread", True),
            data.get("serverless", False),
            data.get("options"),
            data.get("secret_store", "env"),
        )


class Manifest:
    """Everything the runtime needs to know about a project, without scanning it.

    `public` maps URL paths to assets (built output only); `preset` is what the
    preset that built it recorded for run time (None without a build); `openapi` is
    the OpenAPI document a build computed (config ``openapi={"production": True}``):
    `write` puts it in its own file beside the manifest (`OPENAPI_FILE`), read on the
    first request of ``/_openapi.json``, so a cold start never parses it;
    `spa_fallback` is the public asset (``/index.html``) served to a browser's page
    request that nothing else answers (a built Vite front-end's, None without one).
    """

    __slots__ = (
        "middleware",
        "openapi",
        "plugins",
        "preset",
        "public",
        "routes",
        "server_app",
        "server_handler",
        "spa_fallback",
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
        preset: PresetRecord | None = None,
        openapi: dict[str, Any] | None = None,
        spa_fallback: str | None = None,
    ) -> None:
        self.routes = routes if routes is not None else []
        self.middleware = middleware if middleware is not None else []
        self.plugins = plugins if plugins is not None else []
        self.tasks = tasks if tasks is not None else []
        self.server_handler = server_handler
        self.server_app = server_app
        self.public = public
        self.preset = preset
        self.openapi = openapi
        self.spa_fallback = spa_fallback

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
        if self.preset is not None:
            data["preset"] = self.preset.to_json()
        if self.spa_fallback is not None:
            data["spa_fallback"] = self.spa_fallback
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
            preset=PresetRecord.from_json(data["preset"]) if data.get("preset") else None,
            spa_fallback=data.get("spa_fallback"),
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
