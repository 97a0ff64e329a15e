"""The AWS side of a deploy: one boto3 session, its clients, and calls whose
failures name the resource and the AWS error code.

boto3 reads the credentials, ``AWS_PROFILE`` and ``AWS_ENDPOINT_URL`` (also
``AWS_ENDPOINT_URL_<SERVICE>``) itself; the region is ``--region``, else
``AWS_REGION``, else ``AWS_DEFAULT_REGION`` or the profile's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import DeployError

__all__ = ["LABELS", "Aws", "Resource", "error_code", "new_session", "open_aws"]

# Resource kinds (as plan lines print them) and their names in messages.
LABELS = {
    "s3-bucket": "S3 bucket",
    "dynamodb-table": "DynamoDB table",
    "iam-role": "IAM role",
    "lambda-function": "Lambda function",
    "lambda-alias": "Lambda alias",
    "function-url": "function URL",
    "eventbridge-rule": "EventBridge rule",
    "websocket-api": "WebSocket API",
    "websocket-integration": "WebSocket integration",
    "websocket-route": "WebSocket route",
    "websocket-stage": "WebSocket stage",
    "websocket-permission": "WebSocket permission",
    "websocket-policy": "WebSocket role policy",
}


def new_session(region: str | None) -> Any:
    """A boto3 session (the seam tests use to watch or refuse calls)."""
    try:
        import boto3
    except ImportError:  # pragma: no cover - the `aws` extra is missing
        raise DeployError('[nitro:deploy] boto3 is missing: pip install "nitro-py[aws]"') from None
    return boto3.session.Session(region_name=region)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore `ClientError`, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


@dataclass
class Aws:
    """The clients of one deploy, and who and where it deploys."""

    session: Any
    region: str
    account: str = ""
    partition: str = "aws"
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def resource(self, kind: str, name: str, service: str, **ids: Any) -> Resource:
        """The calls of one resource, with its `kind`, `name`, `service` and the
        parameters that identify it (`ids`, e.g. ``RoleName=...``) given once::

            role = aws.resource("iam-role", "shop-prod-role", "iam", RoleName="shop-prod-role")
            role.call("delete", "delete_role", missing=("NoSuchEntity",))
        """
        return Resource(self, kind, name, service, ids)

    def call(
        self,
        action: str,
        kind: str,
        name: str,
        service: str,
        operation: str,
        *,
        missing: tuple[str, ...] = (),
        **params: Any,
    ) -> Any:
        """``client(service).operation(**params)``; an error code in `missing` returns
        None (the resource is not there), any other failure is a `DeployError`:
        ``[nitro:deploy] create Lambda function shop-prod: AccessDeniedException: ...``."""
        try:
            return getattr(self.client(service), operation)(**params)
        except Exception as exc:
            code = error_code(exc)
            if code is not None and code in missing:
                return None
            raise deploy_error(action, kind, name, exc) from exc

    def pages(
        self, kind: str, name: str, service: str, operation: str, key: str, **params: Any
    ) -> list[Any]:
        """Every item under `key` of every page of a listing (boto3's paginator)."""
        try:
            paginator = self.client(service).get_paginator(operation)
            return [item for page in paginator.paginate(**params) for item in page.get(key, [])]
        except Exception as exc:
            raise deploy_error("read", kind, name, exc) from exc

    def wait(
        self, action: str, kind: str, name: str, service: str, waiter: str, **params: Any
    ) -> None:
        """A boto3 waiter; its failure (a failed update, a timeout) is a `DeployError`."""
        try:
            self.client(service).get_waiter(waiter).wait(**params)
        except Exception as exc:
            raise deploy_error(action, kind, name, exc) from exc

    def retry(
        self,
        action: str,
        kind: str,
        name: str,
        call: Callable[[], Any],
        when: Callable[[BaseException], bool],
        delays: tuple[float, ...],
        log: Callable[[str], None],
        why: str,
    ) -> Any:
        """`call()`, again after each of `delays` while it fails and `when(error)`."""
        for delay in (*delays, None):
            try:
                return call()
            except Exception as exc:
                if delay is None or not when(exc):
                    raise deploy_error(action, kind, name, exc) from exc
                log(f"{why}: trying again in {delay:g}s")
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Resource:
    """`Aws.call`, `Aws.pages` and `Aws.wait` for one resource (see `Aws.resource`)."""

    aws: Aws
    kind: str
    name: str
    service: str
    ids: dict[str, Any]

    def call(
        self, action: str, operation: str, *, missing: tuple[str, ...] = (), **params: Any
    ) -> Any:
        return self.aws.call(
            action, self.kind, self.name, self.service, operation,
            missing=missing, **self.ids, **params,
        )  # fmt: skip

    def pages(self, operation: str, key: str, **params: Any) -> list[Any]:
        return self.aws.pages(
            self.kind, self.name, self.service, operation, key, **self.ids, **params
        )

    def wait(self, action: str, waiter: str, **params: Any) -> None:
        self.aws.wait(action, self.kind, self.name, self.service, waiter, **self.ids, **params)


def deploy_error(action: str, kind: str, name: str, exc: BaseException) -> DeployError:
    """``[nitro:deploy] ACTION LABEL NAME: CODE: MESSAGE`` (CODE: the AWS error code,
    else the exception's class, e.g. ``NoCredentialsError``)."""
    if isinstance(exc, DeployError):
        return exc
    code = error_code(exc)
    if code is not None:
        message = str(getattr(exc, "response", {}).get("Error", {}).get("Message") or "")
    else:
        code, message = type(exc).__name__, str(exc)
    text = f"[nitro:deploy] {action} {LABELS.get(kind, kind)} {name}: {code}"
    return DeployError(f"{text}: {message}" if message else text)


def open_aws(region: str | None) -> Aws:
    """The session for `region` (see the module's doc), with the account it deploys to."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    session = new_session(region)
    region = region or session.region_name
    if not region:
        raise DeployError(
            "[nitro:deploy] no AWS region: pass --region, or set AWS_REGION "
            "(or a region in the AWS_PROFILE's config)"
        )
    aws = Aws(session, region)
    identity = aws.call(
        "read", "account", "(sts get-caller-identity)", "sts", "get_caller_identity"
    )
    aws.account = identity["Account"]
    aws.partition = identity["Arn"].split(":")[1]
    return aws
