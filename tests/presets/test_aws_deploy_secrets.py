"""`nitro deploy aws` and ``{{secret:NAME}}``: the role may read exactly the SSM
parameters the config names (and decrypt only those), ``--dry-run`` lists them, and
a deploy warns about the ones that do not exist yet (from their metadata: a deploy
never reads a secret's value). Against moto in server mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _aws_deploy import Run
from storage_drivers.backends._moto import Moto

from helpers import nitro_cli

pytestmark = pytest.mark.slow

CONFIG = """from nitro.config import define_nitro_config

config = define_nitro_config(
    runtime_config={"token": "{{secret:/vault/token}}", "public": {"title": "vault"}},
    storage={"data": {"driver": "memory"}, "uploads": {"driver": "s3", "bucket": "vault-uploads",
             "secret_access_key": "{{secret:vault-s3-secret}}", "access_key_id": "{{secret:/vault/token}}"}},
    dev_storage={"uploads": {"driver": "fs", "base": "{{secret:dev-only}}"}},
)
"""


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("secrets") / "vault"
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'vault'\n")
    (root / "pyproject.toml").write_text('[project]\nname = "vault"\nversion = "0"\n')
    (root / "nitro.config.py").write_text(CONFIG)
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    return root


def policy_of(aws: Moto, role: str) -> dict[str, dict[str, Any]]:
    document = aws.client("iam").get_role_policy(RoleName=role, PolicyName="nitro")
    return {s["Sid"]: s for s in document["PolicyDocument"]["Statement"]}


def test_dry_run_lists_the_secrets_the_role_may_read(
    aws_env: Moto, vault: Path, cli: Callable[..., Run]
) -> None:
    run = cli("deploy", "aws", str(vault), "--prebuilt", "--stage", "dry", "--dry-run")
    assert run.code == 0, run.err
    assert (
        "secrets: the role may read the SSM parameters '/vault/token' (runtime_config.token), "
        "'vault-s3-secret' (storage['uploads'].secret_access_key), and decrypt only them"
    ) in run.err
    # Production's options only: dev_storage's secret is no deploy's business.
    assert "dev-only" not in run.err
    assert "warning: no SSM parameter '/vault/token', 'vault-s3-secret' in us-east-1" in run.err
    assert "create iam-role vault-dry-role" in run.lines
    roles = aws_env.client("iam").list_roles()["Roles"]
    assert "vault-dry-role" not in [r["RoleName"] for r in roles]


def test_the_role_may_read_and_decrypt_exactly_the_named_parameters(
    aws_env: Moto, vault: Path, cli: Callable[..., Run]
) -> None:
    ssm = aws_env.client("ssm")
    ssm.put_parameter(Name="/vault/token", Value="t", Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name="vault-s3-secret", Value="s", Type="SecureString", Overwrite=True)
    run = cli("deploy", "aws", str(vault), "--prebuilt", "--stage", "sec")
    assert run.code == 0, run.err
    assert "warning: no SSM parameter" not in run.err
    account = aws_env.client("sts").get_caller_identity()["Account"]
    arns = [
        f"arn:aws:ssm:us-east-1:{account}:parameter/vault/token",
        f"arn:aws:ssm:us-east-1:{account}:parameter/vault-s3-secret",
    ]
    statements = policy_of(aws_env, "vault-sec-role")
    assert statements["Secrets"] == {
        "Sid": "Secrets",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter", "ssm:GetParameters"],
        "Resource": arns,
    }
    assert statements["SecretKeys"] == {
        "Sid": "SecretKeys",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [f"arn:aws:kms:us-east-1:{account}:key/*"],
        "Condition": {
            "StringEquals": {
                "kms:ViaService": "ssm.us-east-1.amazonaws.com",
                "kms:EncryptionContext:PARAMETER_ARN": arns,
            }
        },
    }
    # No other statement names SSM or KMS.
    others = [s for sid, s in statements.items() if sid not in ("Secrets", "SecretKeys")]
    assert not any("ssm:" in json.dumps(s) or "kms:" in json.dumps(s) for s in others)
