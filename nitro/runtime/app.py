"""Making the `NitroApp` for a project: from a scan (dev) or a build's manifest."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import ConfigError, NitroConfig, load_config, resolve_env_refs
from ..core.app import NitroApp
from ..core.handlers import EventHandler, Middleware, Plugin
from ..core.loader import ModuleRef
from ..core.manifest import OPENAPI_FILE, Manifest, PresetRecord
from ..core.router import RouteConflictError
from ..core.runtime_config import RuntimeConfig, apply_env
from ..core.settings import DEFAULT_SHUTDOWN_TIMEOUT
from ..core.sync import set_max_threads
from ..core.utils.static import DirectoryAssets, ManifestAssets, PublicDir
from .database import create_databases, dispose_databases
from .secrets import start_up_secrets
from .storage import create_storage
from .tasks import configure_tasks

__all__ = [
    "IMPORT_CHECK_ENV",
    "load_app",
    "preset_record",
    "public_dirs",
    "shutdown_timeout",
    "with_dev_proxy",
]

IMPORT_CHECK_ENV = "NITRO_IMPORT_CHECK"
"""Set to ``1`` by the build's import check: `load_app` then defers what waits for
start-up settings (the entry is imported to prove it loads, not started; see
`nitro.runtime.deferred`)."""

logger = logging.getLogger("nitro")


def public_dirs(root: Path, config: NitroConfig) -> list[PublicDir]:
    """The directories served as public assets: `public_assets` entries plus ``public/``."""
    dirs = [
        PublicDir(root / item["dir"], item["base_url"], item["max_age"])
        for item in config.public_assets
    ]
    if not any(Path(item["dir"]) == Path("public") for item in config.public_assets):
        dirs.append(PublicDir(root / "public"))
    return dirs


def load_app(
    root: str | Path,
    *,
    dev: bool = False,
    manifest: Manifest | Path | None = None,
    public_dir: Path | None = None,
    serverless: bool | None = None,
    log_requests: bool | None = None,
    storage_defaults: Mapping[str, Mapping[str, Any]] | None = None,
    scheduler: bool = False,
    prerender: bool = False,
    sync_to_thread: bool | None = None,
    secret_store: str | None = None,
) -> NitroApp:
    """The app for the project at `root`.

    Without `manifest` the project is scanned (problems are logged in dev and
    raise `ScanError` otherwise). With a build's manifest file, nothing is scanned,
    its routes are used as they are (a build keeps only production routes) and
    public assets come from its index, served from `public_dir`. `scheduler` runs
    `scheduled_tasks` in this process (the server entry and `nitro dev` ask for it).
    `prerender` (for `nitro build`) serves production routes with the dev storage
    and database configuration.

    A build's manifest carries what its preset recorded (`PresetRecord`): the
    schedule (the config's `scheduled_tasks` is not read again), the storage
    defaults, `serverless` and where sync code runs (`sync_to_thread`: False where one
    request is served at a time). The arguments of the same names replace them; the
    config's `sync_to_thread` wins over both.

    Options' ``{{VAR}}`` references are resolved here, at start-up, and the
    ``{{secret:NAME}}`` ones fetched from `secret_store` (the preset's, recorded in the
    manifest; else the environment: `nitro.runtime.secrets`). While the build
    prerenders or import-checks the entry (`IMPORT_CHECK_ENV` set), nothing is
    fetched and a mount or connection whose variable or secret is not known waits
    instead (`nitro.runtime.deferred`): start-up secrets are not needed to build.

    Example::

        app = load_app("examples/hello", dev=True)
    """
    root = Path(root).resolve()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    config = load_config(root)
    built_openapi = None
    if isinstance(manifest, Path):
        built_openapi = manifest.with_name(OPENAPI_FILE)
        manifest = Manifest.read(manifest)  # a build: routes are already the production ones
        routes = manifest.routes
    else:
        from .scan import routes_for_env, scan_project  # only needed without a build

        if manifest is None:
            problems: list[str] | None = [] if dev else None
            manifest = scan_project(root, problems)
            for problem in problems or ():
                logger.warning("[nitro] %s", problem)
        routes = routes_for_env(manifest.routes, "dev" if dev else "prod")
    if manifest.public is not None and public_dir is not None:
        public: ManifestAssets | DirectoryAssets = ManifestAssets(public_dir, manifest.public)
    else:
        public = DirectoryAssets(public_dirs(root, config))
    record = manifest.preset
    if storage_defaults is None and record is not None:
        storage_defaults = record.storage_defaults
    if sync_to_thread is None:
        sync_to_thread = record.sync_to_thread if record is not None else True
    if serverless is None:
        serverless = record.serverless if record is not None else False
    defer_unset = prerender or os.environ.get(IMPORT_CHECK_ENV) == "1"
    store = secret_store or (record.secret_store if record is not None else "env")
    if defer_unset:
        from .deferred import check_secret_store

        secrets = None  # never read at build time (the store's library must be there)
        check_secret_store(config, store, dev=dev or prerender, defaults=storage_defaults)
    else:
        secrets = start_up_secrets(config, dev=dev, store=store, storage_defaults=storage_defaults)
    storage = create_storage(
        root,
        config,
        dev=dev or prerender,
        defaults=storage_defaults,
        defer_unset=defer_unset,
        secrets=secrets,
    )
    handler_kinds = (Middleware, EventHandler)
    server = manifest.server_handler
    app = NitroApp(
        root=root,
        dev=dev,
        middleware=[ModuleRef(root, m.file, m.export, handler_kinds) for m in manifest.middleware],
        plugins=[ModuleRef(root, p.file, p.export, (Plugin,)) for p in manifest.plugins],
        public=public,
        runtime_config=runtime_config(config, secrets),
        max_body_size=config.max_body_size,
        base_url=config.base_url,
        error_handler=config.error_handler,
        server_handler=ModuleRef(root, server.file, server.export, handler_kinds)
        if server
        else None,
        server_app=ModuleRef(root, manifest.server_app.file, "app", ())
        if manifest.server_app
        else None,
        storage=storage,
        route_rules=with_dev_proxy(config.route_rules, config.dev_proxy)
        if dev
        else config.route_rules,
        websocket=_websocket_options(config, defer_unset=defer_unset, secrets=secrets),
        serverless=serverless,
        log_requests=dev if log_requests is None else log_requests,
        shutdown_timeout=shutdown_timeout(os.environ),
        sync_to_thread=sync_to_thread if config.sync_to_thread is None else config.sync_to_thread,
    )
    set_max_threads(config.max_threads)
    for entry in routes:
        try:
            app.add_entry(entry)
        except RouteConflictError as exc:
            if not dev:
                raise
            logger.warning("%s", exc)
    if dev or config.openapi.get("production"):
        from ..core.openapi.serve import install_openapi  # only apps that document themselves

        install_openapi(app, config.openapi, built=built_openapi)
    app.databases = create_databases(
        root, config, dev=dev or prerender, defer_unset=defer_unset, secrets=secrets
    )
    configure_tasks(app, manifest, config, dev=dev, scheduler=scheduler)
    app.hooks.hook("close", storage.dispose)
    app.hooks.hook("close", functools.partial(dispose_databases, app))
    app.state["config"] = config
    app.state["manifest"] = manifest
    if manifest.spa_fallback is not None:
        from .frontend import mount_spa_fallback

        mount_spa_fallback(app, manifest.spa_fallback)
    return app


def with_dev_proxy(
    route_rules: Mapping[str, Mapping[str, Any]], dev_proxy: Mapping[str, Any]
) -> dict[str, Any]:
    """`route_rules` with the config's `dev_proxy` entries as `proxy` rules (dev only):
    the same patterns, targets (a ``/**`` tail carries over) and proxy code.

    Example::

        with_dev_proxy({}, {"/legacy/**": "http://127.0.0.1:8000/**"})
        # {"/legacy/**": {"proxy": {"to": "http://127.0.0.1:8000/**"}}}
    """
    rules = {key: dict(value) for key, value in route_rules.items()}
    for pattern, target in dev_proxy.items():
        proxy = dict(target) if isinstance(target, Mapping) else {"to": target}
        rules[pattern] = {**rules.get(pattern, {}), "proxy": proxy}
    return rules


def shutdown_timeout(environ: Mapping[str, str]) -> float:
    """`NITRO_SHUTDOWN_TIMEOUT`: the seconds a graceful stop waits for in-flight requests,
    scheduled runs and `wait_until` work (default 30). The one place it is read: the
    app carries it (``app.shutdown_timeout``), the server entry hands it to uvicorn.

    Example::

        shutdown_timeout({"NITRO_SHUTDOWN_TIMEOUT": "12.5"})  # 12.5
    """
    raw = environ.get("NITRO_SHUTDOWN_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_SHUTDOWN_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses "nan"
        raise ConfigError(
            f"[nitro:config] NITRO_SHUTDOWN_TIMEOUT={raw!r}: give a number of seconds, e.g. 30"
        )
    return seconds


def preset_record(app: NitroApp) -> PresetRecord:
    """What the preset that built `app` recorded for its entry (the manifest's `preset`).

    Example (in a preset's entry module)::

        schedules = preset_record(app).schedules
    """
    record: PresetRecord | None = app.state["manifest"].preset
    if record is None:
        raise RuntimeError(
            "[nitro] this app was not loaded from a build's manifest: build it with `nitro build`"
        )
    return record


def runtime_config(config: NitroConfig, secrets: Mapping[str, str] | None) -> RuntimeConfig:
    """`runtime_config` overridden by ``NITRO_*`` variables, its ``{{secret:NAME}}``
    values filled in (left as written while building: `secrets` None)."""
    values = apply_env(config.runtime_config, os.environ)
    if not secrets:
        return values
    return apply_env(resolve_env_refs(dict(values), None, "runtime_config", secrets=secrets), {})


def _websocket_options(
    config: NitroConfig, *, defer_unset: bool, secrets: Mapping[str, str] | None
) -> dict[str, Any]:
    try:
        return dict(resolve_env_refs(config.websocket, os.environ, "websocket", secrets=secrets))
    except ConfigError:
        if not defer_unset:
            raise
        return {}  # the pub/sub connection is made on the first WebSocket, never while building
