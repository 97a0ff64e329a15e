"""`define_nitro_config` and the options it accepts (Nitro's, in snake_case)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core.options import Options, did_you_mean
from ..core.settings import DEFAULT_MAX_BODY_SIZE
from ..core.sync import DEFAULT_MAX_THREADS
from .server import check_server

__all__ = ["ConfigError", "NitroConfig", "define_nitro_config"]


class ConfigError(ValueError):
    """`nitro.config.py` is invalid; the message names the option and the fix."""


class NitroConfig(Options):
    """A project's configuration. Make it with `define_nitro_config` in `nitro.config.py`.

    Read-only: `config.replace(**changes)` makes a checked copy with some options changed.
    """

    route_rules: dict[str, dict[str, Any]] = {}
    runtime_config: dict[str, Any] = {}
    storage: dict[str, dict[str, Any]] = {}
    dev_storage: dict[str, dict[str, Any]] = {}
    database: dict[str, dict[str, Any]] = {}
    dev_database: dict[str, dict[str, Any]] = {}
    scheduled_tasks: dict[str, str | list[str]] = {}
    preset: str | None = None
    base_url: str = "/"
    public_assets: list[dict[str, Any]] = []
    compress_public_assets: bool = False
    prerender: dict[str, Any] = {}
    error_handler: Callable[..., Any] | None = None
    max_body_size: int | None = DEFAULT_MAX_BODY_SIZE
    sync_to_thread: bool | None = None
    max_threads: int = DEFAULT_MAX_THREADS
    openapi: dict[str, Any] = {}
    dev_proxy: dict[str, Any] = {}
    vite: dict[str, Any] | bool = {}
    websocket: dict[str, Any] = {}
    aws_lambda: dict[str, Any] = {}
    gcp_functions: dict[str, Any] = {}
    azure_functions: dict[str, Any] = {}
    vercel: dict[str, Any] = {}
    docker: dict[str, Any] = {}
    server: dict[str, Any] = {}

    def validate(self) -> None:
        """Check every option and keep it in its normal form (a ConfigError says which
        option is wrong and how to fix it)."""
        for name, check in _CHECKS.items():
            object.__setattr__(self, name, check(getattr(self, name)))

    def replace(self, **changes: Any) -> NitroConfig:
        """A copy with `changes` applied, checked as `define_nitro_config` checks them.

        Example (in `nitro.config.py`)::

            config = config.replace(route_rules={"/blog/**": {"swr": 600}})
        """
        return define_nitro_config(**{**self.as_dict(), **changes})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"NitroConfig is read-only: use config.replace({name}=...)")

    __hash__ = None  # type: ignore[assignment]  # it holds dicts: unhashable

    def __repr__(self) -> str:
        fresh = NitroConfig()
        changed = {k: v for k, v in self.as_dict().items() if v != getattr(fresh, k)}
        return "NitroConfig(" + ", ".join(f"{k}={v!r}" for k, v in changed.items()) + ")"


def define_nitro_config(**options: Any) -> NitroConfig:
    """Declare the project's configuration (in `nitro.config.py`).

    Example::

        from nitro.config import define_nitro_config

        config = define_nitro_config(
            runtime_config={"api_token": "dev-token", "public": {"api_base": "/api"}},
            route_rules={"/blog/**": {"swr": 600}},
            max_body_size=1024 * 1024,
        )

    An unknown option is an error naming the nearest valid one.
    """
    names = NitroConfig.option_names()
    for name in options:
        if name in NOT_YET_SUPPORTED:
            raise ConfigError(
                f"[nitro:config] {name!r} is not supported yet: {NOT_YET_SUPPORTED[name]}"
            )
        if name not in names:
            hint = did_you_mean(name, names)
            raise ConfigError(f"[nitro:config] unknown option {name!r}{hint}")
    return NitroConfig(**options)


# Options the design names that nothing reads yet: an error, never silently ignored
# (tests/config/test_config.py checks that every declared option is read somewhere).
NOT_YET_SUPPORTED: dict[str, str] = {}

# --- one check per option: each returns the value as the config keeps it ---


def _mapping(name: str) -> Callable[[Any], dict[str, Any]]:
    def check(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"[nitro:config] {name} must be a dict, got {type(value).__name__}")
        return dict(value)

    return check


def _max_body_size(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ConfigError(
            "[nitro:config] max_body_size must be a positive number of bytes, or None"
        )
    return value


def _base_url(value: Any) -> Any:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError("[nitro:config] base_url must be a path starting with '/'")
    return value


def _error_handler(value: Any) -> Any:
    if value is not None and not callable(value):
        raise ConfigError(
            "[nitro:config] error_handler must be a function (error, event) -> response | None"
        )
    return value


def _preset(value: Any) -> Any:
    if value is not None and not isinstance(value, str):
        raise ConfigError("[nitro:config] preset must be a preset name such as 'aws-lambda'")
    return value


def _compress_public_assets(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ConfigError("[nitro:config] compress_public_assets must be True or False")
    return value


def _sync_to_thread(value: Any) -> Any:
    if value is not None and not isinstance(value, bool):
        raise ConfigError(
            "[nitro:config] sync_to_thread must be True (worker threads), False (inline on "
            "the event loop) or None (the preset's choice)"
        )
    return value


def _max_threads(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError("[nitro:config] max_threads must be a positive integer")
    return value


def _scheduled_tasks(value: Any) -> dict[str, Any]:
    value = _mapping("scheduled_tasks")(value)
    for cron, tasks in value.items():
        if not isinstance(cron, str) or not isinstance(tasks, (str, list, tuple)):
            raise ConfigError(
                "[nitro:config] scheduled_tasks maps a cron string to a task name or a list of names"
            )
    return value


def _websocket(value: Any) -> dict[str, Any]:
    value = _mapping("websocket")(value)
    unknown = set(value) - {"redis_url", "max_message_size", "channel_prefix"}
    if unknown:
        raise ConfigError(
            f"[nitro:config] websocket: unknown option {sorted(unknown)[0]!r} "
            "(options: redis_url, max_message_size, channel_prefix)"
        )
    limit = value.get("max_message_size")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ConfigError(
            "[nitro:config] websocket max_message_size must be a positive number of bytes"
        )
    return value


OPENAPI_OPTIONS = ("production", "title", "version", "description", "servers")


def _openapi(value: Any) -> dict[str, Any]:
    value = _mapping("openapi")(value)
    for key in value:
        if key not in OPENAPI_OPTIONS:
            hint = did_you_mean(str(key), OPENAPI_OPTIONS)
            raise ConfigError(f"[nitro:config] openapi: unknown option {key!r}{hint}")
    if not isinstance(value.get("production", False), bool):
        raise ConfigError("[nitro:config] openapi production must be True or False")
    for key in ("title", "version", "description"):
        if key in value and not isinstance(value[key], str):
            raise ConfigError(f"[nitro:config] openapi {key} must be a string")
    servers = value.get("servers", [])
    if not isinstance(servers, (list, tuple)) or not all(
        isinstance(s, str) or (isinstance(s, Mapping) and isinstance(s.get("url"), str))
        for s in servers
    ):
        raise ConfigError(
            "[nitro:config] openapi servers is a list of URLs or of {'url': ..., 'description': ...}"
        )
    return value


def _dev_proxy(value: Any) -> dict[str, Any]:
    value = _mapping("dev_proxy")(value)
    for pattern, target in value.items():
        to = target.get("to") if isinstance(target, Mapping) else target
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise ConfigError(
                f"[nitro:config] dev_proxy: {pattern!r} must be a path pattern such as '/legacy/**'"
            )
        if not isinstance(to, str) or not to.startswith(("http://", "https://")):
            raise ConfigError(
                f"[nitro:config] dev_proxy[{pattern!r}] must be an http(s) URL such as "
                "'http://127.0.0.1:8000/**', or {'to': URL, 'headers': {...}, 'timeout': 30}"
            )
    return value


VITE_OPTIONS: dict[str, Any] = {
    "root": ".",
    "package_manager": None,
    "dev_args": [],
    "build_args": [],
    "spa_fallback": True,
    "assets_dir": "assets",
}
PACKAGE_MANAGERS = ("npm", "pnpm", "yarn", "bun")


def _vite(value: Any) -> dict[str, Any] | bool:
    # {} (the default): a project with vite.config.{js,mjs,ts} at its root is full-stack;
    # False: never; a dict: the front-end in `root` (checked against the disk on use).
    if value is None or value is True:
        return {} if value is None else dict(VITE_OPTIONS)
    if value is False:
        return False
    value = _mapping("vite")(value)
    if not value:
        return {}
    unknown = sorted(set(value) - set(VITE_OPTIONS))
    if unknown:
        raise ConfigError(
            f"[nitro:config] vite: unknown option {unknown[0]!r}"
            f"{did_you_mean(unknown[0], VITE_OPTIONS, label='options')}"
        )
    merged = {**VITE_OPTIONS, **value}
    if not isinstance(merged["root"], str) or not merged["root"]:
        raise ConfigError("[nitro:config] vite root must be a directory path such as 'web'")
    if merged["package_manager"] not in (None, *PACKAGE_MANAGERS):
        raise ConfigError(
            f"[nitro:config] vite package_manager must be one of {', '.join(PACKAGE_MANAGERS)} "
            "(or None: found from the lock file)"
        )
    for name in ("dev_args", "build_args"):
        args = merged[name]
        if not isinstance(args, (list, tuple)) or not all(isinstance(a, str) for a in args):
            raise ConfigError(f"[nitro:config] vite {name} must be a list of strings")
        merged[name] = list(args)
    if not isinstance(merged["spa_fallback"], bool):
        raise ConfigError("[nitro:config] vite spa_fallback must be True or False")
    assets = merged["assets_dir"]
    if not isinstance(assets, str) or not assets.strip("/") or ".." in assets.split("/"):
        raise ConfigError(
            "[nitro:config] vite assets_dir must be the folder of Vite's build output "
            "that holds its hashed files (Vite's build.assetsDir, 'assets' by default)"
        )
    return merged


def _route_rules(value: Any) -> dict[str, Any]:
    value = _mapping("route_rules")(value)
    for pattern, rule in value.items():
        if not isinstance(pattern, str) or not isinstance(rule, Mapping):
            raise ConfigError("[nitro:config] route_rules maps a path pattern to a dict of rules")
    return value


def _public_assets(value: Any) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, Mapping) else list(value or [])
    out: list[dict[str, Any]] = []
    allowed = {"dir", "base_url", "max_age"}
    for item in items:
        if not isinstance(item, Mapping):
            raise ConfigError(
                "[nitro:config] public_assets entries are dicts: {'dir', 'base_url', 'max_age'}"
            )
        unknown = set(item) - allowed
        if unknown:
            raise ConfigError(
                f"[nitro:config] public_assets: unknown key {sorted(unknown)[0]!r} (use dir, base_url, max_age)"
            )
        max_age = item.get("max_age")
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
        ):
            raise ConfigError("[nitro:config] public_assets max_age must be seconds (an int >= 0)")
        out.append(
            {
                "dir": item.get("dir", "public"),
                "base_url": item.get("base_url", "/"),
                "max_age": max_age,
            }
        )
    return out


_CHECKS: dict[str, Callable[[Any], Any]] = {
    **{
        name: _mapping(name)
        for name in (
            "runtime_config",
            "storage",
            "dev_storage",
            "database",
            "dev_database",
            "prerender",
            "aws_lambda",
            "gcp_functions",
            "azure_functions",
            "vercel",
            "docker",
        )
    },
    "route_rules": _route_rules,
    "scheduled_tasks": _scheduled_tasks,
    "websocket": _websocket,
    "server": check_server,
    "openapi": _openapi,
    "dev_proxy": _dev_proxy,
    "vite": _vite,
    "max_body_size": _max_body_size,
    "base_url": _base_url,
    "error_handler": _error_handler,
    "preset": _preset,
    "public_assets": _public_assets,
    "compress_public_assets": _compress_public_assets,
    "sync_to_thread": _sync_to_thread,
    "max_threads": _max_threads,
}
