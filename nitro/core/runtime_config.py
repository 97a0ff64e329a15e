"""Runtime config: `runtime_config` from `nitro.config.py`, overridden by `NITRO_*` env.

Each declared key maps to an env var ``NITRO_<UPPER_SNAKE_PATH>``:
``oauth.client_id`` -> ``NITRO_OAUTH_CLIENT_ID``, ``public.apiBase`` ->
``NITRO_PUBLIC_API_BASE``. Values are JSON-parsed where they parse, except when
the declared value is a string (so ``NITRO_CLIENT_ID=007`` stays ``"007"``).
Only declared keys can be overridden; env cannot add keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["RuntimeConfig", "apply_env", "env_key", "use_runtime_config"]

PREFIX = "NITRO_"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class RuntimeConfig(dict[str, Any]):
    """A read-mostly mapping that also allows attribute access: ``config.public.api_base``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"runtime config has no key {name!r}") from None


def env_key(path: list[str]) -> str:
    """The env var for a config path: ``["oauth", "clientId"]`` -> ``NITRO_OAUTH_CLIENT_ID``."""
    parts = [_CAMEL.sub("_", part).replace("-", "_").replace(".", "_") for part in path]
    return PREFIX + "_".join(parts).upper()


def apply_env(config: Mapping[str, Any], environ: Mapping[str, str]) -> RuntimeConfig:
    """A copy of `config` with declared keys overridden from `environ`."""
    return _walk(config, [], environ)


def _walk(config: Mapping[str, Any], path: list[str], environ: Mapping[str, str]) -> RuntimeConfig:
    out = RuntimeConfig()
    for key, declared in config.items():
        here = [*path, str(key)]
        raw = environ.get(env_key(here))
        value = declared
        if raw is not None:
            value = _parse(raw, declared)
        if isinstance(value, Mapping):
            if isinstance(declared, Mapping) and value is not declared:
                value = {**declared, **{k: v for k, v in value.items() if k in declared}}
            value = _walk(value, here, environ)
        out[key] = value
    return out


def _parse(raw: str, declared: Any) -> Any:
    if isinstance(declared, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def use_runtime_config() -> RuntimeConfig:
    """The app's runtime config (declared in `nitro.config.py`, overridden by env).

    Example::

        from nitro import define_handler, use_runtime_config

        @define_handler
        async def handler(event):
            return {"api": use_runtime_config().public.api_base}
    """
    from .context import use_nitro_app

    return use_nitro_app().runtime_config
