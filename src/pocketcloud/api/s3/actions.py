"""The IAM action and resource ARN each S3 operation is authorized as (S3's own table:
"Actions, resources, and condition keys for Amazon S3"). An operation's action is not
always its name: HeadObject is ``s3:GetObject``, ListObjectsV2 ``s3:ListBucket``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACTIONS = {
    "ListBuckets": "ListAllMyBuckets",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "HeadObject": "GetObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "DeleteObjects": "DeleteObject",
    "DeleteBucketTagging": "PutBucketTagging",
    "PutBucketCors": "PutBucketCORS",
    "GetBucketCors": "GetBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
}
#: the action of an operation on one version (VersionId given), where it has its own
VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectAcl": "GetObjectVersionAcl",
    "PutObjectAcl": "PutObjectVersionAcl",
}


#: operations authorized key by key by their handler, not once for the request
PER_KEY = frozenset({"DeleteObjects"})


def action(operation: str, params: Mapping[str, Any]) -> str:
    """``s3:<action>`` for the call (a versioned read or delete has its own action)."""
    name = ACTIONS.get(operation, operation)
    if params.get("VersionId"):
        name = VERSIONED.get(name, name)
    return f"s3:{name}"


def resource(params: Mapping[str, Any]) -> str:
    """The ARN acted on: the object, the bucket, or ``*`` (ListBuckets)."""
    bucket = params.get("Bucket")
    if not bucket:
        return "*"
    key = params.get("Key")
    return f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"
