"""Resolving ``"{{VAR}}"`` references in storage and database options at start-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .options import ConfigError

__all__ = ["resolve_env_refs"]

_REF = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def resolve_env_refs(value: Any, environ: Mapping[str, str], where: str = "") -> Any:
    """`value` with every ``{{VAR}}`` in its strings replaced by ``environ[VAR]``.

    Example: ``{"url": "{{REDIS_URL}}"}`` -> ``{"url": "redis://..."}``. A variable
    that is not set is an error naming the option, so nothing silently connects
    to a literal ``{{REDIS_URL}}``.
    """
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ConfigError(
                    f"[nitro:config] {where or 'an option'} uses {{{{{name}}}}}, but {name} is not set"
                )
            return environ[name]

        return _REF.sub(replace, value)
    if isinstance(value, Mapping):
        return {
            k: resolve_env_refs(v, environ, f"{where}.{k}" if where else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [resolve_env_refs(v, environ, f"{where}[{i}]") for i, v in enumerate(value)]
    return value
