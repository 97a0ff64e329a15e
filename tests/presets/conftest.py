"""Fixtures of the `nitro deploy` tests: a moto server of their own (IAM managed
policies loaded, as the issue asks), an environment that reaches only it, a small
project built once for aws-lambda, and the CLI run in-process."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _aws_deploy import OPTIONS, SCHEDULE, Run, write_project
from storage_drivers.backends._moto import Moto, start_moto

from helpers import nitro_cli


@pytest.fixture(scope="session")
def moto_iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    """A moto server for the deploy tests only, stopped when they end. Its request
    signing checks stay off: moto 5.2 answers every body-less Lambda request (GET
    function, alias, URL config, policy) with SignatureDoesNotMatch when they are on."""
    server, stop = start_moto(
        tmp_path_factory.mktemp("moto-deploy"),
        {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        auth=False,
    )
    try:
        yield server
    finally:
        stop()


@pytest.fixture
def aws_env(moto_iam: Moto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Moto:
    """The process environment of a deploy to moto: its endpoint and credentials, no
    profile or config file of this machine, and no NITRO_* variable but the test's."""
    for name in list(os.environ):
        if name.startswith(("NITRO_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_iam.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_iam.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_iam.secret_access_key)
    monkeypatch.setenv("AWS_REGION", moto_iam.region)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask 169.254.169.254
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return moto_iam


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, built once with the aws-lambda preset (tests deploy it --prebuilt)."""
    root = write_project(tmp_path_factory.mktemp("deploy") / "shop", SCHEDULE, OPTIONS)
    result = nitro_cli("build", str(root), "--preset", "aws-lambda", timeout=600)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def fresh_shop(shop: Path, tmp_path: Path) -> Path:
    """A copy of the built project, for a test that changes and rebuilds it."""
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    return root


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`nitro ARGS` in this process (so a test can watch or refuse boto3 calls)."""
    from nitro.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out.splitlines(), captured.err)

    return run
