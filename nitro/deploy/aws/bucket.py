"""The S3 bucket that carries a zip over Lambda's direct-upload limit.

Made only when a zip needs it (private, every public access blocked); each zip is
stored once, under ``{function}/{sha256}.zip``. `nitro undeploy aws` empties and
deletes it.
"""

from __future__ import annotations

import base64
from typing import Any

from ..aws_lambda_package import ZIP_LIMIT
from .names import Names
from .plan import Change
from .session import Aws, deploy_error
from .spec import Spec

__all__ = ["DIRECT_UPLOAD_LIMIT", "code_location", "plan_bucket", "plan_bucket_removal", "via_s3"]

KIND = "s3-bucket"
DIRECT_UPLOAD_LIMIT = (
    ZIP_LIMIT  # https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
)


def via_s3(spec: Spec) -> bool:
    return spec.zip_size > DIRECT_UPLOAD_LIMIT


def object_key(names: Names, spec: Spec) -> str:
    return f"{names.function}/{base64.b64decode(spec.code_sha256).hex()}.zip"


def _exists(aws: Aws, names: Names) -> bool:
    found = aws.call(
        "read", KIND, names.bucket, "s3", "head_bucket",
        Bucket=names.bucket, missing=("404", "NoSuchBucket", "NotFound"),
    )  # fmt: skip
    return found is not None


def plan_bucket(aws: Aws, names: Names, spec: Spec) -> list[Change]:
    """A create when the zip goes through S3 and the bucket is not there yet."""
    if not via_s3(spec):
        return []
    if _exists(aws, names):
        return [Change("unchanged", KIND, names.bucket)]

    def create() -> None:
        params: dict[str, Any] = {"Bucket": names.bucket}
        if aws.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
        aws.call(
            "create",
            KIND,
            names.bucket,
            "s3",
            "create_bucket",
            missing=("BucketAlreadyOwnedByYou",),
            **params,
        )
        aws.call(
            "create", KIND, names.bucket, "s3", "put_public_access_block",
            Bucket=names.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
            },
        )  # fmt: skip
        aws.call(
            "create", KIND, names.bucket, "s3", "put_bucket_tagging",
            Bucket=names.bucket,
            Tagging={"TagSet": [{"Key": "nitro:project", "Value": names.project},
                                {"Key": "nitro:stage", "Value": names.stage}]},
        )  # fmt: skip

    return [Change("create", KIND, names.bucket, apply=create)]


def code_location(aws: Aws, names: Names, spec: Spec) -> dict[str, Any]:
    """The `Code` of create_function (or the arguments of update_function_code):
    the zip's bytes, or its S3 object, uploaded first unless it is there already."""
    if not via_s3(spec):
        return {"ZipFile": spec.zip_path.read_bytes()}
    key = object_key(names, spec)
    there = aws.call(
        "upload", KIND, names.bucket, "s3", "head_object",
        Bucket=names.bucket, Key=key, missing=("404", "NoSuchKey", "NotFound"),
    )  # fmt: skip
    if there is None:
        try:
            aws.client("s3").upload_file(str(spec.zip_path), names.bucket, key)
        except Exception as exc:
            raise deploy_error("upload", KIND, f"{names.bucket}/{key}", exc) from exc
    return {"S3Bucket": names.bucket, "S3Key": key}


def plan_bucket_removal(aws: Aws, names: Names) -> list[Change]:
    if not _exists(aws, names):
        return []

    def delete() -> None:
        versions = aws.pages(
            KIND, names.bucket, "s3", "list_objects_v2", "Contents", Bucket=names.bucket
        )
        keys = [{"Key": item["Key"]} for item in versions]
        for start in range(0, len(keys), 1000):
            aws.call(
                "delete", KIND, names.bucket, "s3", "delete_objects",
                Bucket=names.bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True},
            )  # fmt: skip
        aws.call(
            "delete",
            KIND,
            names.bucket,
            "s3",
            "delete_bucket",
            Bucket=names.bucket,
            missing=("NoSuchBucket",),
        )

    return [Change("delete", KIND, names.bucket, apply=delete)]
