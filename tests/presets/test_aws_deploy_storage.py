"""`nitro deploy aws` of a project whose storage is on S3 and DynamoDB (the README's
own example): the build it runs passes its import check, since Lambda provides boto3
(issue 14, item 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _aws_deploy import Run
from storage_drivers.backends._moto import Moto

from nitro.bundle.vendor import find_python

from helpers import require_service

pytestmark = pytest.mark.slow

CONFIG = """from nitro.config import define_nitro_config

config = define_nitro_config(
    storage={
        "uploads": {"driver": "s3", "bucket": "media-uploads", "base": "uploads"},
        "sessions": {"driver": "dynamodb", "table": "media-sessions"},
    },
)
"""


def test_deploy_builds_and_deploys_a_project_with_s3_and_dynamodb_mounts(
    aws_env: Moto, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    # The import check runs only with the target Python; without it this test would
    # not reach the check that failed.
    require_service(find_python("3.12") is not None, "Python 3.12", "pyenv install 3.12")
    root = tmp_path / "media"
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'media'\n")
    (root / "pyproject.toml").write_text('[project]\nname = "media"\nversion = "0.1.0"\n')
    (root / "nitro.config.py").write_text(CONFIG)
    run = cli("deploy", "aws", str(root), "--stage", "dev")
    assert run.code == 0, run.err
    assert "import-checking index.py with Python 3.12" in run.err
    lam, iam = aws_env.client("lambda"), aws_env.client("iam")
    assert lam.get_function_configuration(FunctionName="media-dev")["Handler"] == "index.handler"
    policy = iam.get_role_policy(RoleName="media-dev-role", PolicyName="nitro")["PolicyDocument"]
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert {"arn:aws:s3:::media-uploads", "arn:aws:s3:::media-uploads/*"} <= resources
    assert "arn:aws:dynamodb:us-east-1:123456789012:table/media-sessions" in resources
