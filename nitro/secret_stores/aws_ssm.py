"""``aws-ssm``: AWS Systems Manager Parameter Store, the aws-lambda preset's store.

``{{secret:NAME}}`` is the parameter NAME (``db-password``, ``/shop/prod/db-password``)
in the function's region, read with ``GetParameters`` and ``WithDecryption`` (a
SecureString comes back decrypted; String and StringList work too), ten names per
call. `nitro deploy aws` and the SAM template grant the function's role exactly
``ssm:GetParameter(s)`` on the parameters the config names, and ``kms:Decrypt`` only
for decrypting those parameters. boto3 reads the region (``AWS_REGION``, set by
Lambda), the credentials (the function's role) and ``AWS_ENDPOINT_URL`` itself.

API: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._base import SecretStoreError

__all__ = ["REQUIRES", "SsmStore", "store"]

REQUIRES = ["boto3>=1.34"]
BATCH = 10  # GetParameters takes at most 10 names


class SsmStore:
    batch = BATCH

    def __init__(self, environ: Mapping[str, str]) -> None:
        import boto3.session
        from botocore.config import Config

        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        session = boto3.session.Session(region_name=region)
        self.region = region or session.region_name or "us-east-1"
        endpoint = environ.get("AWS_ENDPOINT_URL_SSM") or environ.get("AWS_ENDPOINT_URL")
        self.label = (
            f"AWS SSM Parameter Store ({self.region}{' via ' + endpoint if endpoint else ''})"
        )
        self.how_to_create = (
            f"create them in {self.region}: aws ssm put-parameter --type SecureString "
            "--name NAME --value ..."
        )
        self.client: Any = session.client(
            "ssm",
            region_name=self.region,
            config=Config(
                connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}
            ),
        )

    def fetch(self, names: Sequence[str]) -> dict[str, str]:
        try:
            answer = self.client.get_parameters(Names=list(names), WithDecryption=True)
        except Exception as exc:
            raise SecretStoreError(f"{self.label}: {_describe(exc)}") from None
        return {p["Name"]: p["Value"] for p in answer.get("Parameters", [])}


def _describe(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code == "AccessDeniedException":
            return (
                f"access denied ({message}); `nitro deploy aws` grants the role the "
                "parameters the config names: deploy again after changing them"
            )
        return f"{code}: {message}" if message else str(code)
    return f"{type(exc).__name__}: {exc}"


def store(environ: Mapping[str, str]) -> SsmStore:
    return SsmStore(environ)
