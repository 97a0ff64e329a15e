"""Secret stores: where ``{{secret:NAME}}`` config values come from, one module each.

A store module defines ``store(environ) -> SecretStore`` (see `_base.SecretStore`)
and `REQUIRES`, the libraries a build ships for it. Which store an app reads is its
preset's (``Preset.secret_store``, recorded in the build's manifest); ``NITRO_SECRET_STORE``
overrides it (``env`` to run an aws-lambda build locally with secrets from the
environment, say).

| store | reads | extra |
|---|---|---|
| ``env`` | the environment variable NAME (``.env`` in dev) | |
| ``aws-ssm`` | AWS SSM Parameter Store, SecureString decrypted | ``aws`` |
| ``gcp-secret-manager`` | Google Secret Manager, version ``latest`` | ``gcp-secrets`` |
| ``azure-key-vault`` | Azure Key Vault (``AZURE_KEY_VAULT_URL``) | ``azure-secrets`` |
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from ..core.registry import import_registered, missing_extra
from ._base import SecretStore, SecretStoreError

__all__ = [
    "EXTRAS",
    "STORES",
    "STORE_ENV",
    "SecretStore",
    "SecretStoreError",
    "open_store",
    "store_module",
]

STORES: dict[str, str] = {
    "env": "nitro.secret_stores.env",
    "aws-ssm": "nitro.secret_stores.aws_ssm",
    "gcp-secret-manager": "nitro.secret_stores.gcp_secret_manager",
    "azure-key-vault": "nitro.secret_stores.azure_key_vault",
}

# The pip extra that brings each store's library.
EXTRAS: dict[str, str] = {
    "aws-ssm": "aws",
    "gcp-secret-manager": "gcp-secrets",
    "azure-key-vault": "azure-secrets",
}

STORE_ENV = "NITRO_SECRET_STORE"
"""Overrides the preset's store where the app runs (``env``, ``aws-ssm``, ...)."""


def store_module(name: str) -> ModuleType:
    """The module of store `name` (a ValueError naming the known ones when unknown)."""
    return import_registered(
        name, STORES, "nitro.secret_stores", kind="secret store", where="nitro:secrets"
    )


def open_store(name: str, environ: Mapping[str, str]) -> SecretStore:
    """Store `name`, ready to fetch; a missing library is an ImportError naming the extra."""
    module = store_module(name)
    with missing_extra(EXTRAS.get(name), where=f"nitro:secrets:{name}"):
        store: SecretStore = module.store(environ)
    return store
