"""The app's `Storage`, from defaults and the config's `storage` / `dev_storage`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import ConfigError, NitroConfig, resolve_env_refs
from ..core.storage import Storage
from ..storage_drivers import create_driver

__all__ = ["create_storage", "default_mounts"]


def default_mounts(*, dev: bool) -> dict[str, dict[str, Any]]:
    """Mounts every app has unless configured: the root, `data`, `cache`, `assets:server`."""
    return {
        "": {"driver": "memory"},
        "data": {"driver": "fs", "base": ".data/kv"},
        "cache": {"driver": "fs", "base": ".data/cache"} if dev else {"driver": "memory"},
        "assets:server": {"driver": "fs", "base": "assets", "read_only": True},
    }


def create_storage(
    root: Path,
    config: NitroConfig,
    *,
    dev: bool,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Storage:
    """Mount every configured driver (options' ``{{VAR}}`` resolved from the environment now).

    `defaults` (a preset's, e.g. DynamoDB for `data` on Lambda) replace the built-in
    ones; `storage` replaces those per mount name; in dev `dev_storage` does too.
    """
    mounts: dict[str, Mapping[str, Any]] = {**default_mounts(dev=dev), **(defaults or {})}
    mounts.update(config.storage)
    if dev:
        mounts.update(config.dev_storage)
    env = os.environ if environ is None else environ
    storage = Storage()
    for base, options in mounts.items():
        where = f"storage[{base!r}]"
        if not isinstance(options, Mapping) or not isinstance(options.get("driver"), str):
            raise ConfigError(
                f"[nitro:config] {where} needs a 'driver' name, e.g. {{'driver': 'redis', ...}}"
            )
        resolved = resolve_env_refs(dict(options), env, where)
        name = resolved.pop("driver")
        try:
            driver = create_driver(name, resolved, root=root)
        except (ValueError, ImportError) as exc:
            raise ConfigError(f"[nitro:config] {where}: {exc}") from exc
        storage.mount(base, driver)
    return storage
