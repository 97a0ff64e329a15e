"""What Lambda provides (boto3) is there for the build's import check, and nothing
else of this environment is (issue 14, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

from nitro.bundle.provided import link_provided
from nitro.bundle.vendor import find_python
from nitro.presets.aws_lambda.package import PROVIDED_BY_RUNTIME

from helpers import nitro_cli, require_service

S3_AND_DYNAMODB = """{
    "storage": {
        "uploads": {"driver": "s3", "bucket": "my-uploads"},
        "data": {"driver": "dynamodb", "table": "my-kv"},
    },
}"""


def test_only_the_provided_distributions_and_what_they_require_are_linked(
    tmp_path: Path,
) -> None:
    missing = link_provided([*PROVIDED_BY_RUNTIME, "nitro-no-such-dist"], tmp_path / "p")
    assert missing == ["nitro-no-such-dist"]
    names = {p.name for p in (tmp_path / "p").iterdir()}
    for package in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"):
        assert package in names, package
    assert any(n.startswith("boto3-") and n.endswith(".dist-info") for n in names)
    # Nothing beyond that closure: this environment's other packages stay out of reach.
    assert not names & {"starlette", "anyio", "yaml", "redis", "nitro", "__pycache__"}


def test_a_lambda_build_with_s3_and_dynamodb_mounts_passes_its_import_check(
    tmp_path: Path,
) -> None:
    require_service(find_python("3.12") is not None, "Python 3.12", "pyenv install 3.12")
    root = tmp_path / "app"
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    (root / "nitro.config.py").write_text(
        "from nitro.config import define_nitro_config\n"
        f"config = define_nitro_config(**{S3_AND_DYNAMODB})\n"
    )
    result = nitro_cli("build", str(root), "--preset", "aws-lambda")
    assert result.returncode == 0, result.stderr
    assert "import-checking index.py with Python 3.12" in result.stderr
    server = root / ".output" / "server"
    # boto3 is still not shipped: Lambda has it.
    assert not (server / "_vendor" / "boto3").exists()
    assert not (server / "_vendor" / "botocore").exists()
    info = json.loads((root / ".output" / "nitro.json").read_text())
    assert info["preset"] == "aws-lambda"


def test_the_check_still_fails_when_the_app_imports_what_lambda_lacks(tmp_path: Path) -> None:
    require_service(find_python("3.12") is not None, "Python 3.12", "pyenv install 3.12")
    root = tmp_path / "app"
    (root / "routes").mkdir(parents=True)
    (root / "routes" / "index.py").write_text("def handler(event):\n    return 'hi'\n")
    # PyYAML is installed here but neither a project dependency nor part of Lambda.
    (root / "nitro.config.py").write_text(
        "import yaml  # noqa: F401\n"
        "from nitro.config import define_nitro_config\n"
        f"config = define_nitro_config(**{S3_AND_DYNAMODB})\n"
    )
    result = nitro_cli("build", str(root), "--preset", "aws-lambda")
    assert result.returncode == 1
    assert "No module named 'yaml'" in result.stderr
