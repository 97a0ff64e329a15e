"""What the AWS drivers (`s3`, `dynamodb`) share: region, endpoint text, boto3 clients."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import anyio
import anyio.to_thread

T = TypeVar("T")


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
    if not url:
        return region
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return f"{region} via {urlunsplit((parts.scheme, netloc, parts.path, '', ''))}"


def make_client(service: str, options: Any, region: str, **config: Any) -> Any:
    """A boto3 client with the driver's timeouts and a single retry, so a backend that
    is down or refuses the credentials fails within seconds (call it in a worker thread:
    making a client is slow and blocking)."""
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


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore `ClientError` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


async def in_thread(
    fn: Callable[..., T], *args: Any, limiter: anyio.CapacityLimiter | None = None
) -> T:
    # Abandoned on cancellation, so the Storage front's timeout is never held up by a
    # thread still waiting on the network (botocore's own timeouts end it later).
    return await anyio.to_thread.run_sync(
        functools.partial(fn, *args), abandon_on_cancel=True, limiter=limiter
    )


def parse_number(text: str) -> float | int:
    """A number as it was written: ``"600"`` -> 600, ``"1.5"`` -> 1.5."""
    return int(text) if text.lstrip("-").isdigit() else float(text)
