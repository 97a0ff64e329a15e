"""Loading `nitro.config.py` and `.env`."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

from ..core.loader import load_module
from .options import ConfigError, NitroConfig, define_nitro_config

__all__ = ["CONFIG_FILE", "load_config", "load_dotenv"]

CONFIG_FILE = "nitro.config.py"


def load_config(root: Path) -> NitroConfig:
    """The project's `NitroConfig` (defaults when there is no `nitro.config.py`).

    The file defines ``config = define_nitro_config(...)`` (a plain dict also works).
    """
    path = root / CONFIG_FILE
    if not path.is_file():
        return NitroConfig()
    if str(root) not in sys.path:  # the config may import the project's own modules
        sys.path.insert(0, str(root))
    try:
        module = load_module(root, CONFIG_FILE)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (in {CONFIG_FILE})") from None
    except Exception as exc:
        raise ConfigError(
            f"[nitro:config] {CONFIG_FILE} failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    config = getattr(module, "config", None)
    if config is None:
        found = [v for v in vars(module).values() if isinstance(v, NitroConfig)]
        if len(found) != 1:
            raise ConfigError(
                f"[nitro:config] {CONFIG_FILE} must define `config = define_nitro_config(...)`"
            )
        config = found[0]
    if isinstance(config, dict):
        config = define_nitro_config(**config)
    if not isinstance(config, NitroConfig):
        raise ConfigError(
            f"[nitro:config] `config` in {CONFIG_FILE} must come from define_nitro_config()"
        )
    return config


def load_dotenv(root: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Load `.env` then `.env.local` into `environ` (never overriding what is set).

    Used by `nitro dev` and `nitro preview` only: production reads the platform's env.
    Returns the names it set.
    """
    from dotenv import dotenv_values

    target = os.environ if environ is None else environ
    loaded: list[str] = []
    for name in (".env", ".env.local"):
        path = root / name
        if not path.is_file():
            continue
        for key, value in dotenv_values(path).items():
            if value is not None and key not in target:
                target[key] = value
                loaded.append(key)
    return loaded
