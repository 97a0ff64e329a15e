"""What the AWS drivers (`s3`, `dynamodb`) share: the connection options, the region,
the endpoint text, and a boto3 client made on first use."""

from __future__ import annotations

import os
import threading
from typing import Any, ClassVar

from ..core.options import Options
from ._base import DriverBase, public_url


class AwsOptions(Options):
    """The options every AWS driver takes (its own come in a subclass)."""

    region: str | None = None
    """AWS region; default ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else ``"us-east-1"``."""
    endpoint_url: str | None = None
    """Another endpoint (MinIO, DynamoDB Local, moto...); default None (boto3 also reads
    ``AWS_ENDPOINT_URL``)."""
    access_key_id: str | None = None
    """Default None: the standard credential chain (env, profile, Lambda/ECS/EC2 role)."""
    secret_access_key: str | None = None
    """Default None: the standard credential chain."""
    session_token: str | None = None
    """Default None: the standard credential chain."""
    connect_timeout: float = 5
    """Seconds to open a connection (default 5)."""
    timeout: float = 10
    """Seconds to wait for a response (default 10)."""


class AwsDriver(DriverBase):
    """A driver over one boto3 client, made on first use (in a worker thread: making a
    client is slow and blocking) and closed by `dispose`."""

    network = True
    service = ""  # "s3", "dynamodb"
    client_config: ClassVar[dict[str, Any]] = {}  # more botocore `Config` settings

    def __init__(self, options: AwsOptions, resource: str) -> None:
        self.options = options
        self.region = aws_region(options.region)
        where = describe_endpoint(self.region, options.endpoint_url, self.service)
        self.endpoint = f"{self.service}://{resource} in {where}"
        self._client: Any = None
        self._lock = threading.Lock()

    def _aws(self) -> Any:
        """The client, made by the first caller."""
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> Any:
        return make_client(self.service, self.options, self.region, **self.client_config)

    async def dispose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def aws_region(region: str | None) -> str:
    """`region`, else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else ``us-east-1``."""
    env = os.environ
    return region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def describe_endpoint(region: str, endpoint_url: str | None, service: str) -> str:
    """``"us-east-1"`` or ``"us-east-1 via http://host:port"``, never with userinfo."""
    url = (
        endpoint_url
        or os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    return f"{region} via {public_url(url)}" if url else region


def make_client(service: str, options: AwsOptions, region: str, **config: Any) -> Any:
    """A boto3 client with the driver's timeouts and a single retry, so a backend that
    is down or refuses the credentials fails within seconds."""
    import boto3.session
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=options.access_key_id,
        aws_secret_access_key=options.secret_access_key,
        aws_session_token=options.session_token,
        region_name=region,
    )
    return session.client(
        service,
        endpoint_url=options.endpoint_url,
        config=Config(
            connect_timeout=options.connect_timeout,
            read_timeout=options.timeout,
            retries={"max_attempts": 2, "mode": "standard"},
            **config,
        ),
    )


def base_prefix(base: str, separator: str) -> str:
    """The `base` option as a key prefix: ``"/app:cache/"`` -> ``"app/cache/"`` (s3,
    ``"/"``) or ``"app:cache:"`` (dynamodb, ``":"``); ``""`` for none."""
    parts = [p for p in base.replace(":", "/").split("/") if p]
    return separator.join(parts) + separator if parts else ""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore `ClientError` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def parse_number(text: str) -> float | int:
    """A number as it was written: ``"600"`` -> 600, ``"1.5"`` -> 1.5."""
    return int(text) if text.lstrip("-").isdigit() else float(text)
