"""Options that wait for start-up: ``{{VAR}}`` references while the app is only
imported (the build's import check) or prerendered.

Storage and database options that name an environment variable are resolved at
start-up, never at build time (DESIGN 3.3), and a build machine rarely holds the
production secrets. So while the build imports the entry or prerenders, a mount or
connection whose variable is not set is not made: it stands in as unavailable (any
use says which variable it waits for). What can be checked without its settings
still is: the driver or connector must be a known one, and the libraries it
requires must be installed where the app runs, as they must be at start-up.
``{{secret:NAME}}`` values are never fetched then (`nitro.runtime.secrets`): an
option naming one waits the same way, and the secret store's libraries are checked.
(`load_app` knows the build is importing it by `IMPORT_CHECK_ENV`; this module is
imported only when something waits.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..config import ConfigError, NitroConfig
from ..core.database import DatabaseError
from ..core.registry import import_registered, missing_extra

__all__ = ["UnavailableConnector", "check_connector", "check_driver", "check_secret_store"]


def check_driver(name: str) -> None:
    """Fail as start-up would when storage driver `name` is unknown or its libraries
    are not installed (a ValueError or an ImportError naming the extra)."""
    from ..storage_drivers import DRIVERS, EXTRAS

    module = import_registered(
        name, DRIVERS, "nitro.storage_drivers", kind="driver", where="nitro:storage"
    )
    _check_libraries(module, extra=EXTRAS.get(name), where=f"nitro:storage:{name}")


def check_connector(name: str) -> None:
    """Like `check_driver`, for SQL connector `name`."""
    from ..sql_connectors import CONNECTORS, EXTRAS

    module = import_registered(
        name, CONNECTORS, "nitro.sql_connectors", kind="connector", where="nitro:db"
    )
    _check_libraries(module, extra=EXTRAS.get(name), where=f"nitro:db:{name}")


def check_secret_store(
    config: NitroConfig,
    store: str,
    *,
    dev: bool,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """When the app's options name a secret, fail as start-up would if `store` is
    unknown or its libraries are not installed (nothing is fetched)."""
    from ..secret_stores import EXTRAS, STORE_ENV, store_module
    from .secrets import used_secrets

    if not used_secrets(config, dev=dev, storage_defaults=defaults):
        return
    store = os.environ.get(STORE_ENV) or store
    try:
        module = store_module(store)
        _check_libraries(module, extra=EXTRAS.get(store), where=f"nitro:secrets:{store}")
    except (ValueError, ImportError) as exc:
        raise ConfigError(str(exc)) from exc


def _check_libraries(module: ModuleType, *, extra: str | None, where: str) -> None:
    # A driver module lists its libraries as requirements (`REQUIRES`), which is what
    # the build installs: each must be an installed distribution here.
    from importlib.metadata import PackageNotFoundError, distribution

    for requirement in getattr(module, "REQUIRES", ()):
        name = re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0]
        try:
            distribution(name)
        except PackageNotFoundError:
            with missing_extra(extra, where=where):  # the message start-up would give
                raise ModuleNotFoundError(f"No module named {name!r}", name=name) from None


class UnavailableConnector:
    """Stands in for a connection whose settings wait for start-up: any use raises
    a DatabaseError saying which (`nitro build` prerenders without them)."""

    style = "qmark"
    endpoint = "not configured"

    def __init__(self, name: str, connection: str, reason: str) -> None:
        self.name = name
        self.dialect = name
        self._message = (
            f"[nitro:db:{name}] {connection!r} is not configured while building: "
            f"{reason.removeprefix('[nitro:config] ')} (it is read at start-up)"
        )

    def _fail(self) -> DatabaseError:
        return DatabaseError(self._message, status=500)

    async def exec(self, script: str) -> None:
        raise self._fail()

    def prepare(self, sql: str) -> Any:
        raise self._fail()

    def transaction(self) -> Any:
        raise self._fail()

    async def dispose(self) -> None:
        return None
