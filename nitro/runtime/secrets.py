"""``{{secret:NAME}}`` at start-up: which secrets the app's options name, fetched once.

`load_app` calls `start_up_secrets` before it makes storage, databases and the
runtime config: every secret those options name (exactly the options the app uses:
``dev_storage`` in dev, ``storage`` otherwise) is fetched from the app's store once,
concurrently, under one timeout (``NITRO_SECRETS_TIMEOUT``, default 10 seconds).
A secret that is missing fails start-up with an error naming the secret and the
option that uses it, never a value. While the build imports or prerenders the app,
nothing is fetched: an option naming a secret waits like one naming an unset
variable (`nitro.runtime.deferred`).

The deploy side reads the same names (`production_secrets`): `nitro deploy aws`
grants the function's role those parameters and no other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..config import ConfigError, NitroConfig
from ..config.env import secret_refs

if TYPE_CHECKING:
    from ..secret_stores import SecretStore

__all__ = [
    "TIMEOUT_ENV",
    "fetch_secrets",
    "production_secrets",
    "secret_requirements",
    "start_up_secrets",
    "used_secrets",
]

TIMEOUT_ENV = "NITRO_SECRETS_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
MAX_THREADS = 8


def used_secrets(
    config: NitroConfig,
    *,
    dev: bool,
    storage_defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, str]:
    """Secret name -> the first option naming it, over the options the app uses."""
    from .database import database_entries
    from .storage import storage_mounts

    found: dict[str, str] = {}
    parts: list[tuple[str, Any]] = [("runtime_config", dict(config.runtime_config))]
    parts += [
        (f"storage[{base!r}]", options)
        for base, options in storage_mounts(config, dev=dev, defaults=storage_defaults).items()
    ]
    parts += [
        (f"database[{name!r}]", entry) for name, entry in database_entries(config, dev=dev).items()
    ]
    parts.append(("websocket", dict(config.websocket)))
    for where, value in parts:
        for name, option in secret_refs(value, where).items():
            found.setdefault(name, option)
    return found


def production_secrets(
    config: NitroConfig, storage_defaults: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, str]:
    """The secrets a production start-up of `config` reads (what a deploy grants)."""
    return used_secrets(config, dev=False, storage_defaults=storage_defaults)


def secret_requirements(config: NitroConfig, store: str) -> list[str]:
    """The libraries a build ships for `store` when the config names a secret."""
    if not production_secrets(config):
        return []
    from ..secret_stores import store_module

    return list(getattr(store_module(store), "REQUIRES", []))


def start_up_secrets(
    config: NitroConfig,
    *,
    dev: bool,
    store: str,
    storage_defaults: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The values of every secret the app's options name (``{}`` when none does)."""
    env = os.environ if environ is None else environ
    refs = used_secrets(config, dev=dev, storage_defaults=storage_defaults)
    if not refs:
        return {}
    from ..secret_stores import STORE_ENV

    name = env.get(STORE_ENV) or store
    return fetch_secrets(name, refs, environ=env, timeout=_timeout(env))


def fetch_secrets(
    store: str, refs: Mapping[str, str], *, environ: Mapping[str, str], timeout: float
) -> dict[str, str]:
    """Fetch `refs` (name -> the option using it) from `store`, batches concurrently.

    Example::

        fetch_secrets("env", {"API_KEY": "runtime_config.api_key"},
                      environ={"API_KEY": "k"}, timeout=10)  # {"API_KEY": "k"}
    """
    # Only an app that names a secret gets here: the rest of its start-up imports none of this.
    import concurrent.futures

    from ..secret_stores import SecretStoreError, open_store

    where = f"nitro:secrets:{store}"
    pool = concurrent.futures.ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="nitro-secrets")
    try:
        opened = pool.submit(open_store, store, environ)
        try:
            source: SecretStore = opened.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise _late(where, store, sorted(refs), refs, timeout) from None
        except (ValueError, ImportError, SecretStoreError) as exc:
            raise ConfigError(_tagged(where, str(exc))) from None
        except Exception as exc:  # the SDK's own: no credentials found, say
            raise ConfigError(f"[{where}] cannot open the store: {_described(exc)}") from None
        names = sorted(refs)
        batches = [names[i : i + source.batch] for i in range(0, len(names), source.batch)]
        running = {pool.submit(source.fetch, batch): batch for batch in batches}
        done, pending = concurrent.futures.wait(running, timeout=timeout)
        if pending:
            late = sorted(n for future in pending for n in running[future])
            raise _late(where, source.label, late, refs, timeout)
        values: dict[str, str] = {}
        for future in done:
            error = future.exception()
            if error is not None:
                raise ConfigError(_tagged(where, _described(error))) from None
            values.update(future.result())
    finally:
        # Never wait for a store that does not answer: start-up fails now.
        pool.shutdown(wait=False, cancel_futures=True)
    missing = [n for n in names if n not in values]
    if missing:
        listed = ", ".join(f"{n!r} (used by {refs[n]})" for n in missing)
        raise ConfigError(
            f"[{where}] not found in {source.label}: {listed}; {source.how_to_create}"
        )
    return values


def _late(
    where: str, label: str, names: list[str], refs: Mapping[str, str], timeout: float
) -> ConfigError:
    listed = ", ".join(f"{n!r} (used by {refs[n]})" for n in names)
    return ConfigError(
        f"[{where}] {label} did not answer within {timeout:g}s for {listed} "
        f"(is it reachable from here? {TIMEOUT_ENV} sets the limit)"
    )


def _described(error: BaseException) -> str:
    """A store's error as it says it (`SecretStoreError`), else with its type."""
    from ..secret_stores import SecretStoreError

    if isinstance(error, SecretStoreError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _tagged(where: str, message: str) -> str:
    return message if message.startswith("[") else f"[{where}] {message}"


def _timeout(environ: Mapping[str, str]) -> float:
    raw = environ.get(TIMEOUT_ENV)
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ConfigError(f"[nitro:secrets] {TIMEOUT_ENV}={raw!r} must be a number of seconds > 0")
    return value
