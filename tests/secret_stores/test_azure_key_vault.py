"""The azure-key-vault store: the official client libraries (azure-keyvault-secrets,
azure-identity's DefaultAzureCredential), against pytest-httpx mocks of the Key Vault
REST API (with its 401 challenge) and of the managed-identity token endpoint an Azure
Functions app has (``IDENTITY_ENDPOINT``). azure-core speaks HTTP with requests;
`requests_over_httpx` hands that to httpx, where pytest-httpx answers (nothing real
can run here: no emulator exists for Key Vault)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from pytest_httpx import HTTPXMock

from nitro.config import ConfigError
from nitro.runtime.app import load_app

from .requests_over_httpx import requests_over_httpx  # noqa: F401 - a fixture

VALUE = "s3cr3t-value-never-printed"
VAULT = "https://shop-vault.vault.azure.net"
IDENTITY = "http://127.0.0.1:41741/msi/token"
CONFIG = """from nitro.config import define_nitro_config

config = define_nitro_config(
    runtime_config={"token": "{{secret:api-token}}"},
    storage={"files": {"driver": "fs", "base": "{{secret:files-dir}}"}},
)
"""


@pytest.fixture
def azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A function app's settings: the vault's URL and its managed identity's endpoint."""
    for name in (
        "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME",
        "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
        "IDENTITY_SERVER_THUMBPRINT", "NITRO_SECRET_STORE",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_KEY_VAULT_URL", VAULT)
    monkeypatch.setenv("IDENTITY_ENDPOINT", IDENTITY)
    monkeypatch.setenv("IDENTITY_HEADER", "identity-header")


def key_vault(httpx_mock: HTTPXMock, secrets: dict[str, str], status: int = 200) -> list[str]:
    """Mock the identity endpoint and ``GET /secrets/{name}``: a request without a
    token gets Key Vault's 401 challenge; returns the secrets asked for."""
    asked: list[str] = []

    def token(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-identity-header"] == "identity-header"
        assert request.url.params["resource"] == "https://vault.azure.net"
        return httpx.Response(
            200,
            json={
                "access_token": "vault-token",
                "expires_on": str(int(time.time()) + 3600),
                "resource": "https://vault.azure.net",
                "token_type": "Bearer",
            },
        )

    def secret(request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            challenge = (
                'Bearer authorization="https://login.microsoftonline.com/tenant-id", '
                'resource="https://vault.azure.net"'
            )
            return httpx.Response(401, headers={"www-authenticate": challenge})
        assert request.headers["authorization"] == "Bearer vault-token"
        name = request.url.path.split("/")[2]
        asked.append(name)
        if status != 200:
            error = {
                "code": "Forbidden",
                "message": "The user does not have secrets get permission",
            }
            return httpx.Response(status, json={"error": error})
        if name not in secrets:
            error = {
                "code": "SecretNotFound",
                "message": f"A secret with (name/id) {name} was not found in this key vault.",
            }
            return httpx.Response(404, json={"error": error})
        return httpx.Response(
            200,
            json={
                "value": secrets[name],
                "id": f"{VAULT}/secrets/{name}/0123456789abcdef",
                "attributes": {"enabled": True},
            },
        )

    httpx_mock.add_callback(token, url=re.compile(re.escape(IDENTITY)), is_reusable=True)
    httpx_mock.add_callback(
        secret, url=re.compile(re.escape(VAULT) + r"/secrets/"), is_reusable=True
    )
    return asked


def project(root: Path) -> Path:
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    (root / "nitro.config.py").write_text(CONFIG)
    return root


@pytest.mark.usefixtures("azure_env", "requests_over_httpx")
def test_secrets_come_from_key_vault_when_the_function_app_starts(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    asked = key_vault(httpx_mock, {"api-token": VALUE, "files-dir": str(files)})
    app = load_app(project(tmp_path / "app"), secret_store="azure-key-vault")
    assert app.runtime_config["token"] == VALUE
    assert str(files) in app.storage.mounts()["files"].endpoint
    assert sorted(asked) == ["api-token", "files-dir"]


@pytest.mark.usefixtures("azure_env", "requests_over_httpx")
def test_a_missing_secret_fails_start_up_naming_it_and_its_option(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    key_vault(httpx_mock, {"api-token": VALUE})
    with pytest.raises(ConfigError) as raised:
        load_app(project(tmp_path / "app"), secret_store="azure-key-vault")
    message = str(raised.value)
    assert message.startswith(
        f"[nitro:secrets:azure-key-vault] not found in Azure Key Vault ({VAULT}): 'files-dir' "
        "(used by storage['files'].base); create them: az keyvault secret set"
    )
    assert VALUE not in message


@pytest.mark.usefixtures("azure_env", "requests_over_httpx")
def test_a_forbidden_secret_says_which_role_the_identity_needs(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    key_vault(httpx_mock, {}, status=403)
    with pytest.raises(
        ConfigError, match=r"give the function app's identity the Key Vault Secrets User role"
    ):
        load_app(project(tmp_path / "app"), secret_store="azure-key-vault")


@pytest.mark.usefixtures("requests_over_httpx")
def test_without_the_vault_url_start_up_says_which_setting_to_add(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_KEY_VAULT_URL", raising=False)
    with pytest.raises(ConfigError, match=r"AZURE_KEY_VAULT_URL is not set: add the vault's URL"):
        load_app(project(tmp_path / "app"), secret_store="azure-key-vault")
