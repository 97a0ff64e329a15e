"""The gcp-secret-manager store: the official client library (google-cloud-secret-manager,
REST transport) and google-auth's Application Default Credentials, against
pytest-httpx mocks of the Secret Manager REST API and Google's OAuth token endpoint.
The library speaks HTTP with requests; `requests_over_httpx` hands that to httpx,
where pytest-httpx answers (nothing real can run here: no Google emulator exists for
Secret Manager)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import httpx
import pytest
from pytest_httpx import HTTPXMock

from nitro.config import ConfigError
from nitro.runtime.app import load_app

from .requests_over_httpx import requests_over_httpx  # noqa: F401 - a fixture

VALUE = "s3cr3t-value-never-printed"
ACCESS = re.compile(r"https://secretmanager\.googleapis\.com/v1/projects/.*:access")
CONFIG = """from nitro.config import define_nitro_config

config = define_nitro_config(
    runtime_config={"token": "{{secret:api-token}}", "other": "{{secret:projects/ops/secrets/shared/versions/3}}"},
    database={"default": {"connector": "sqlite", "path": "{{secret:db_path}}"}},
)
"""


@pytest.fixture
def google_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Application Default Credentials from a credentials file (an authorized user,
    refreshed at oauth2.googleapis.com), the project from GOOGLE_CLOUD_PROJECT."""
    for name in ("GCP_PROJECT", "GCLOUD_PROJECT", "NITRO_SECRET_STORE"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "adc.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "nitro-tests.apps.googleusercontent.com",
                "client_secret": "client-secret",
                "refresh_token": "refresh-token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "shop-project")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))


def secret_manager(httpx_mock: HTTPXMock, secrets: dict[str, str]) -> list[str]:
    """Mock the token endpoint and ``versions/latest:access`` (a version of secret
    ``projects/P/secrets/S`` is in `secrets` as ``P/S``); returns the secrets asked for."""
    asked: list[str] = []
    httpx_mock.add_response(
        method="POST",
        url="https://oauth2.googleapis.com/token",
        json={"access_token": "ya29.token", "expires_in": 3600, "token_type": "Bearer"},
        is_reusable=True,
    )

    def access(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer ya29.token"
        path = request.url.path
        project, secret = re.fullmatch(
            r"/v1/projects/([^/]+)/secrets/([^/]+)/versions/[^/]+:access", path
        ).groups()  # type: ignore[union-attr]
        asked.append(f"{project}/{secret}")
        value = secrets.get(f"{project}/{secret}")
        if value is None:
            error = {
                "code": 404,
                "message": f"Secret [projects/123/secrets/{secret}] not found or has no versions.",
                "status": "NOT_FOUND",
            }
            return httpx.Response(404, json={"error": error})
        data = base64.b64encode(value.encode()).decode()
        name = f"projects/123/secrets/{secret}/versions/1"
        return httpx.Response(200, json={"name": name, "payload": {"data": data}})

    httpx_mock.add_callback(
        access,
        method="GET",
        url=ACCESS,
        is_reusable=True,
    )
    return asked


def project(root: Path) -> Path:
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    (root / "nitro.config.py").write_text(CONFIG)
    return root


@pytest.mark.usefixtures("google_env", "requests_over_httpx")
def test_secrets_come_from_secret_manager_when_the_function_starts(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    asked = secret_manager(
        httpx_mock,
        {
            "shop-project/api-token": VALUE,
            "shop-project/db_path": str(tmp_path / "db.sqlite"),
            "ops/shared": "shared-value",
        },
    )
    app = load_app(project(tmp_path / "app"), secret_store="gcp-secret-manager")
    assert app.runtime_config["token"] == VALUE
    assert app.runtime_config["other"] == "shared-value"
    assert app.databases["default"].connector.endpoint.endswith("db.sqlite")
    assert sorted(asked) == ["ops/shared", "shop-project/api-token", "shop-project/db_path"]


@pytest.mark.usefixtures("google_env", "requests_over_httpx")
def test_a_missing_secret_fails_start_up_naming_it_and_its_option(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    secret_manager(httpx_mock, {"shop-project/api-token": VALUE, "ops/shared": "x"})
    with pytest.raises(ConfigError) as raised:
        load_app(project(tmp_path / "app"), secret_store="gcp-secret-manager")
    message = str(raised.value)
    assert message.startswith(
        "[nitro:secrets:gcp-secret-manager] not found in Google Secret Manager (project "
        "shop-project): 'db_path' (used by database['default'].path); create them: gcloud "
        "secrets create NAME"
    )
    assert VALUE not in message


@pytest.mark.usefixtures("google_env", "requests_over_httpx")
def test_a_refused_secret_says_which_role_the_function_needs(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(
        method="POST",
        url="https://oauth2.googleapis.com/token",
        json={"access_token": "ya29.token", "expires_in": 3600},
        is_reusable=True,
    )
    error = {"code": 403, "message": "Permission denied on secret", "status": "PERMISSION_DENIED"}
    httpx_mock.add_response(url=ACCESS, status_code=403, json={"error": error}, is_reusable=True)
    with pytest.raises(ConfigError) as raised:
        load_app(project(tmp_path / "app"), secret_store="gcp-secret-manager")
    assert "Google Secret Manager (project shop-project): permission denied for" in str(
        raised.value
    )
    assert "grant the function's service account roles/secretmanager.secretAccessor" in str(
        raised.value
    )


def test_without_credentials_start_up_says_the_store_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off Google Cloud with no Application Default Credentials: google-auth's own error,
    named as the store's (its metadata server is a closed port here: no waiting)."""
    from helpers import free_port

    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "NITRO_SECRET_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("GCE_METADATA_IP", f"127.0.0.1:{free_port()}")
    with pytest.raises(ConfigError) as raised:
        load_app(project(tmp_path / "app"), secret_store="gcp-secret-manager")
    assert str(raised.value).startswith(
        "[nitro:secrets:gcp-secret-manager] cannot open the store: DefaultCredentialsError:"
    )
