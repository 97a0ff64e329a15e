"""The S3 bucket that carries a zip over Lambda's direct-upload limit.

Made only when a zip needs it (private, every public access blocked); each zip is
stored once, under ``{function}/{sha256}.zip``. `nitro undeploy aws` empties and
deletes it.
"""

from __future__ import annotations

import base64
from typing import Any

from ..package import ZIP_LIMIT
from .names import Names
from .plan import Change
from .session import Aws, Resource, deploy_error
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


def _bucket(aws: Aws, names: Names) -> Resource:
    return aws.resource(KIND, names.bucket, "s3", Bucket=names.bucket)


def _exists(bucket: Resource) -> bool:
    found = bucket.call("read", "head_bucket", missing=("404", "NoSuchBucket", "NotFound"))
    return found is not None


def plan_bucket(aws: Aws, names: Names, spec: Spec) -> list[Change]:
    """A create when the zip goes through S3 and the bucket is not there yet."""
    if not via_s3(spec):
        return []
    bucket = _bucket(aws, names)
    if _exists(bucket):
        return [Change("unchanged", KIND, names.bucket)]

    def create() -> None:
        params: dict[str, Any] = {}
        if aws.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
        bucket.call("create", "create_bucket", missing=("BucketAlreadyOwnedByYou",), **params)
        bucket.call(
            "create", "put_public_access_block",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
            },
        )  # fmt: skip
        bucket.call("create", "put_bucket_tagging", Tagging={"TagSet": names.tags})

    return [Change("create", KIND, names.bucket, apply=create)]


def code_location(aws: Aws, names: Names, spec: Spec) -> dict[str, Any]:
    """The `Code` of create_function (or the arguments of update_function_code):
    the zip's bytes, or its S3 object, uploaded first unless it is there already."""
    if not via_s3(spec):
        return {"ZipFile": spec.zip_path.read_bytes()}
    key = object_key(names, spec)
    there = _bucket(aws, names).call(
        "upload", "head_object", Key=key, missing=("404", "NoSuchKey", "NotFound")
    )
    if there is None:
        try:
            aws.client("s3").upload_file(str(spec.zip_path), names.bucket, key)
        except Exception as exc:
            raise deploy_error("upload", KIND, f"{names.bucket}/{key}", exc) from exc
    return {"S3Bucket": names.bucket, "S3Key": key}


def plan_bucket_removal(aws: Aws, names: Names) -> list[Change]:
    bucket = _bucket(aws, names)
    if not _exists(bucket):
        return []

    def delete() -> None:
        keys = [{"Key": item["Key"]} for item in bucket.pages("list_objects_v2", "Contents")]
        for start in range(0, len(keys), 1000):
            objects = {"Objects": keys[start : start + 1000], "Quiet": True}
            bucket.call("delete", "delete_objects", Delete=objects)
        bucket.call("delete", "delete_bucket", missing=("NoSuchBucket",))

    return [Change("delete", KIND, names.bucket, apply=delete)]
