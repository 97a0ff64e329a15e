"""``azure-key-vault``: Azure Key Vault, the azure-functions preset's store.

``{{secret:NAME}}`` is the current version of secret NAME (Key Vault names hold
letters, digits and ``-``) in the vault at ``AZURE_KEY_VAULT_URL``
(``https://<vault>.vault.azure.net``, an app setting of the function app). The
credential is `DefaultAzureCredential`: the function app's managed identity in
Azure (give it the "Key Vault Secrets User" role on the vault), the developer's
login elsewhere.

API: https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._base import SecretStoreError

__all__ = ["REQUIRES", "URL_VARIABLE", "KeyVaultStore", "store"]

REQUIRES = ["azure-keyvault-secrets>=4.8", "azure-identity>=1.16"]
URL_VARIABLE = "AZURE_KEY_VAULT_URL"


class KeyVaultStore:
    batch = 1  # one GET per secret (they run concurrently)
    how_to_create = (
        "create them: az keyvault secret set --vault-name VAULT --name NAME --value ... ; and "
        "give the function app's identity the Key Vault Secrets User role"
    )

    def __init__(self, environ: Mapping[str, str]) -> None:
        url = environ.get(URL_VARIABLE)
        if not url:
            raise SecretStoreError(
                f"[nitro:secrets:azure-key-vault] {URL_VARIABLE} is not set: add the vault's URL "
                "(https://<vault>.vault.azure.net) to the function app's settings"
            )
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        self.label = f"Azure Key Vault ({url})"
        self.client: Any = SecretClient(
            url, DefaultAzureCredential(), connection_timeout=3, read_timeout=5
        )

    def fetch(self, names: Sequence[str]) -> dict[str, str]:
        from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

        found: dict[str, str] = {}
        for name in names:
            try:
                secret = self.client.get_secret(name)
            except ResourceNotFoundError:
                continue
            except HttpResponseError as exc:
                if exc.status_code == 403:
                    raise SecretStoreError(
                        f"{self.label}: access to {name!r} is forbidden; give the function "
                        "app's identity the Key Vault Secrets User role"
                    ) from None
                raise SecretStoreError(f"{self.label}: {name!r}: {exc.reason or exc}") from None
            except AzureError as exc:
                raise SecretStoreError(
                    f"{self.label}: {name!r}: {type(exc).__name__}: {exc}"
                ) from None
            if secret.value is not None:
                found[name] = secret.value
        return found


def store(environ: Mapping[str, str]) -> KeyVaultStore:
    return KeyVaultStore(environ)
