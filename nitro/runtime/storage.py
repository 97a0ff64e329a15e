"""The app's `Storage`, from defaults and the config's `storage` / `dev_storage`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import ConfigError, NitroConfig, resolve_env_refs
from ..core.storage import Storage, StorageError
from ..storage_drivers import create_driver

__all__ = ["UnavailableDriver", "create_storage", "default_mounts", "storage_mounts"]


def default_mounts(*, dev: bool) -> dict[str, dict[str, Any]]:
    """Mounts every app has unless configured: the root, `data`, `cache`, `assets:server`."""
    return {
        "": {"driver": "memory"},
        "data": {"driver": "fs", "base": ".data/kv"},
        "cache": {"driver": "fs", "base": ".data/cache"} if dev else {"driver": "memory"},
        "assets:server": {"driver": "fs", "base": "assets", "read_only": True},
    }


def storage_mounts(
    config: NitroConfig,
    *,
    dev: bool,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Mapping[str, Any]]:
    """Mount base -> its options as configured: the built-in mounts, replaced by the
    preset's `defaults`, by `storage`, and in dev by `dev_storage`."""
    mounts: dict[str, Mapping[str, Any]] = {**default_mounts(dev=dev), **(defaults or {})}
    mounts.update(config.storage)
    if dev:
        mounts.update(config.dev_storage)
    return mounts


def create_storage(
    root: Path,
    config: NitroConfig,
    *,
    dev: bool,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
    defer_unset: bool = False,
    secrets: Mapping[str, str] | None = None,
) -> Storage:
    """Mount every configured driver (options' ``{{VAR}}`` resolved from the environment
    now, ``{{secret:NAME}}`` from `secrets`, fetched at start-up).

    `defaults` (a preset's, e.g. DynamoDB for `data` on Lambda) replace the built-in
    ones; `storage` replaces those per mount name; in dev `dev_storage` does too.
    With `defer_unset` (the build importing or prerendering the app), a mount whose
    variable is not set is unavailable instead of an error, once its driver and
    libraries are found (see `nitro.runtime.deferred`).
    """
    mounts = storage_mounts(config, dev=dev, defaults=defaults)
    configured = {**config.storage, **(config.dev_storage if dev else {})}
    env = os.environ if environ is None else environ
    storage = Storage()
    for base, options in mounts.items():
        where = f"storage[{base!r}]"
        if not isinstance(options, Mapping) or not isinstance(options.get("driver"), str):
            raise ConfigError(
                f"[nitro:config] {where} needs a 'driver' name, e.g. {{'driver': 'redis', ...}}"
            )
        try:
            resolved = resolve_env_refs(dict(options), env, where, secrets=secrets)
        except ConfigError as exc:
            if defer_unset:
                from .deferred import check_driver

                try:
                    check_driver(options["driver"])
                except (ValueError, ImportError) as error:
                    raise ConfigError(f"[nitro:config] {where}: {error}") from error
                reason = f"{exc} (it is read at start-up)"
                storage.mount(base, UnavailableDriver(options["driver"], base, reason))
                continue
            if base in configured or base not in (defaults or {}):
                raise
            # A preset's default (DynamoDB for `data` on Lambda...) waits for its env
            # variable; an app that never uses the mount must still start.
            storage.mount(base, UnavailableDriver(options["driver"], base, str(exc)))
            continue
        name = resolved.pop("driver")
        try:
            driver = create_driver(name, resolved, root=root)
        except (ValueError, ImportError) as exc:
            raise ConfigError(f"[nitro:config] {where}: {exc}") from exc
        storage.mount(base, driver)
    return storage


class UnavailableDriver:
    """Stands in for a preset's default mount whose settings are missing: any use
    raises a StorageError saying what to set (`nitro deploy` sets it)."""

    network = False
    read_only = False

    def __init__(self, name: str, base: str, reason: str) -> None:
        self.name = name
        self.endpoint = "not configured"
        self._message = f"[nitro:storage:{name}] mount {base!r} is not configured: {reason.removeprefix('[nitro:config] ')}"

    def _fail(self) -> StorageError:
        return StorageError(self._message, status=500)

    async def get(self, key: str) -> bytes | None:
        raise self._fail()

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        raise self._fail()

    async def has(self, key: str) -> bool:
        raise self._fail()

    async def remove(self, key: str) -> None:
        raise self._fail()

    async def keys(self, prefix: str) -> list[str]:
        raise self._fail()

    async def clear(self, prefix: str) -> None:
        raise self._fail()

    async def meta(self, key: str) -> dict[str, Any] | None:
        raise self._fail()

    async def dispose(self) -> None:
        return None
