"""The aws-ssm store against moto's SSM (server mode, request signing checked): the
aws-lambda preset's secrets, read when the function starts; and a real aws-lambda
build reading one through its handler (`nitro preview`)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from adapters.builds import preview_server, tiny_project
from storage_drivers.backends._moto import Moto, moto

from nitro.config import ConfigError
from nitro.runtime.app import load_app

from helpers import nitro_cli

pytestmark = pytest.mark.slow

VALUE = "s3cr3t-value-never-printed"
ROUTE = """from nitro import use_runtime_config, use_storage


def handler(event):
    return {"token": use_runtime_config().token, "db": use_runtime_config().db_url}
"""
CONFIG = """runtime_config={
        "token": "{{secret:/vault/token}}",
        "db_url": "postgresql://app:{{secret:vault-db-password}}@db/app",
    }"""


@pytest.fixture
def ssm(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Moto:
    """moto, as boto3 finds it from the environment (as on Lambda: region, role)."""
    server = moto(request)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    env = {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_REGION": server.region,
        "AWS_ACCESS_KEY_ID": server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NITRO_SECRET_STORE", raising=False)
    return server


def put(server: Moto, name: str, value: str, kind: str = "SecureString") -> None:
    server.client("ssm").put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)


def project(root: Path) -> Path:
    tiny_project(root, config=CONFIG)
    (root / "routes" / "index.py").write_text(ROUTE)
    return root


def test_secure_strings_are_read_decrypted_when_the_app_starts(ssm: Moto, tmp_path: Path) -> None:
    put(ssm, "/vault/token", VALUE)
    put(ssm, "vault-db-password", "p@ss", kind="String")
    app = load_app(project(tmp_path / "app"), secret_store="aws-ssm")
    assert app.runtime_config["token"] == VALUE
    assert app.runtime_config["db_url"] == "postgresql://app:p@ss@db/app"


def test_a_missing_parameter_fails_start_up_naming_it_and_its_option(
    ssm: Moto, tmp_path: Path
) -> None:
    put(ssm, "/vault/token", VALUE)
    ssm.client("ssm").delete_parameters(Names=["vault-db-password"])
    with pytest.raises(ConfigError) as raised:
        load_app(project(tmp_path / "app"), secret_store="aws-ssm")
    message = str(raised.value)
    assert message.startswith(
        f"[nitro:secrets:aws-ssm] not found in AWS SSM Parameter Store ({ssm.region} via "
        f"{ssm.url}): 'vault-db-password' (used by runtime_config.db_url); create them in "
        f"{ssm.region}: aws ssm put-parameter --type SecureString"
    )
    assert VALUE not in message


def test_refused_credentials_fail_start_up_saying_so(
    ssm: Moto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ConfigError) as raised:
        load_app(project(tmp_path / "app"), secret_store="aws-ssm")
    assert str(raised.value).startswith("[nitro:secrets:aws-ssm] AWS SSM Parameter Store (")
    assert "SignatureDoesNotMatch" in str(raised.value) or "InvalidSignature" in str(raised.value)


def test_an_aws_lambda_build_reads_its_secrets_from_ssm_when_the_function_starts(
    ssm: Moto, tmp_path: Path
) -> None:
    root = project(tmp_path / "app")
    built = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert built.returncode == 0, built.stderr
    put(ssm, "/vault/token", VALUE)
    put(ssm, "vault-db-password", "p@ss")
    server = preview_server(root, tmp_path / "preview.log")
    try:
        server.wait_ready(60)
        answer = httpx.get(server.url + "/", timeout=10)
        assert answer.json() == {"token": VALUE, "db": "postgresql://app:p@ss@db/app"}
    finally:
        server.stop()
    # NITRO_SECRET_STORE=env runs the same build with secrets from the environment.
    env = {"NITRO_SECRET_STORE": "env"}
    server = preview_server(root, tmp_path / "preview-env.log", env=env)
    try:
        with pytest.raises(RuntimeError, match=r"not found in the environment: '/vault/token'"):
            server.wait_ready(60)
    finally:
        server.stop()
