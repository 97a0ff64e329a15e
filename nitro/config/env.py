"""Resolving ``"{{VAR}}"`` and ``"{{secret:NAME}}"`` references in options at start-up.

``{{VAR}}`` is the environment variable VAR (storage, database and websocket
options). ``{{secret:NAME}}`` is the secret NAME of the platform's secret store
(AWS SSM Parameter Store, Google Secret Manager, Azure Key Vault, else the
environment), fetched once when the app starts (`nitro.runtime.secrets`); it is
allowed wherever ``{{VAR}}`` is, and in `runtime_config` values too. Neither is
ever read at build time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .options import ConfigError

__all__ = ["SECRET_NAME", "resolve_env_refs", "secret_refs"]

SECRET_NAME = r"[A-Za-z0-9_./-]+"
"""What a secret's name may hold: SSM parameter names (``/shop/prod/db-password``),
Secret Manager ids (``db_password``, or a full ``projects/p/secrets/s/versions/3``),
Key Vault names (``db-password``), environment variable names."""

_REF = re.compile(
    r"\{\{\s*(?:secret:\s*(?P<secret>" + SECRET_NAME + r")|(?P<env>[A-Za-z_][A-Za-z0-9_]*))\s*\}\}"
)


def resolve_env_refs(
    value: Any,
    environ: Mapping[str, str] | None,
    where: str = "",
    *,
    secrets: Mapping[str, str] | None = None,
) -> Any:
    """`value` with every ``{{VAR}}`` in its strings replaced by ``environ[VAR]`` and
    every ``{{secret:NAME}}`` by ``secrets[NAME]``.

    Example: ``{"url": "{{REDIS_URL}}"}`` -> ``{"url": "redis://..."}``. A variable
    that is not set is an error naming the option, so nothing silently connects
    to a literal ``{{REDIS_URL}}``; so is a secret that was not fetched (`secrets`
    None: while building, when secrets are never read). With `environ` None,
    ``{{VAR}}`` stays as it is (runtime config takes secrets only).
    """
    if isinstance(value, str):
        if "{{" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            secret = match.group("secret")
            if secret is not None:
                if secrets is None or secret not in secrets:
                    raise ConfigError(
                        f"[nitro:config] {where or 'an option'} uses {{{{secret:{secret}}}}}, "
                        "which is read when the app starts"
                    )
                return secrets[secret]
            name = match.group("env")
            if environ is None:
                return match.group(0)
            if name not in environ:
                raise ConfigError(
                    f"[nitro:config] {where or 'an option'} uses {{{{{name}}}}}, but {name} is not set"
                )
            return environ[name]

        return _REF.sub(replace, value)
    if isinstance(value, Mapping):
        return {
            k: resolve_env_refs(v, environ, f"{where}.{k}" if where else str(k), secrets=secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            resolve_env_refs(v, environ, f"{where}[{i}]", secrets=secrets)
            for i, v in enumerate(value)
        ]
    return value


def secret_refs(value: Any, where: str = "") -> dict[str, str]:
    """The secrets `value` names, each with the first option that names it.

    Example: ``secret_refs({"url": "{{secret:db-url}}"}, "database['default']")``
    -> ``{"db-url": "database['default'].url"}``.
    """
    found: dict[str, str] = {}
    for name, option in _walk_refs(value, where):
        found.setdefault(name, option)
    return found


def _walk_refs(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if "{{" in value:
            for match in _REF.finditer(value):
                if match.group("secret") is not None:
                    yield match.group("secret"), where or "an option"
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk_refs(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_refs(v, f"{where}[{i}]")
