"""One moto server (S3 + DynamoDB) for the whole test session, with IAM checks on.

The server starts on first use, on 127.0.0.1 at a free port, and stops when the
session ends. Right after it answers, an IAM user with an allow-all policy and an
access key is made, then moto is told to authenticate every later request
(``/moto-api/reset-auth``): the drivers under test sign with real credentials, and
a wrong secret or an unknown key id is refused as AWS would refuse it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import ServerProcess, free_port, require_service

REGION = "us-east-1"
HOW_TO_START = (
    'pip install "moto[server]" (the tests then start `python -m moto.server` themselves)'
)
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class Moto:
    url: str
    access_key_id: str
    secret_access_key: str
    region: str = REGION

    def options(self) -> dict[str, Any]:
        """Driver options that reach this server with valid credentials."""
        return {
            "endpoint_url": self.url,
            "region": self.region,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
        }

    def client(self, service: str) -> Any:
        """A boto3 client for looking at what a driver wrote."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


_server: Moto | None = None


def record_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The params of each `operation` (``"HeadObject"``) call `client` makes from now on."""
    calls: list[dict[str, Any]] = []
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(
        f"provide-client-params.{service}.{operation}", lambda params, **_: calls.append(params)
    )
    return calls


def moto(request: pytest.FixtureRequest) -> Moto:
    """The session's moto server, started the first time it is asked for."""
    global _server
    if _server is None:
        _server = _start(request)
    return _server


def _start(request: pytest.FixtureRequest) -> Moto:
    log_dir = request.getfixturevalue("tmp_path_factory").mktemp("moto")
    server, stop = start_moto(log_dir)
    request.config.add_cleanup(stop)
    return server


def start_moto(
    log_dir: Path, env: dict[str, str] | None = None, *, auth: bool = True
) -> tuple[Moto, Callable[[], None]]:
    """A new moto server (extra environment: `env`) and its stop function: for tests
    that need a server of their own (the deploy tests). With `auth`, IAM checks are on
    (see above); without, any credentials are accepted."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
        require_service(False, "moto server", HOW_TO_START)
    port = free_port()
    process = ServerProcess(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=log_dir,
        port=port,
        env=env,
        log=log_dir / "moto.log",
    )
    url = process.url

    def stop() -> None:
        global _server
        if _server is not None and _server.url == url:
            _server = None
        process.stop(timeout=10)

    try:
        process.wait_ready(60, path="/moto-api/")
    except RuntimeError as exc:
        stop()
        require_service(False, f"moto server ({str(exc)[-2000:]})", HOW_TO_START)

    if not auth:
        return Moto(url, "testing", "testing"), stop
    try:
        # Before authentication is switched on, any credentials are accepted.
        setup = Moto(url, "bootstrap", "bootstrap").client("iam")
        setup.create_user(UserName="nitro-tests")
        setup.put_user_policy(
            UserName="nitro-tests", PolicyName="allow-all", PolicyDocument=json.dumps(ALLOW_ALL)
        )
        key = setup.create_access_key(UserName="nitro-tests")["AccessKey"]
        setup.close()
        httpx.post(f"{url}/moto-api/reset-auth", content=b"0", timeout=5).raise_for_status()
    except BaseException:
        stop()
        raise
    return Moto(url, key["AccessKeyId"], key["SecretAccessKey"]), stop
