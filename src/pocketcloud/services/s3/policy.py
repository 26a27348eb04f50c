"""Bucket policies: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy,
GetBucketPolicyStatus, and what authorization reads of a bucket on every call
(``access_of``: its parsed policy and its Block Public Access settings).

A document is parsed and validated by the policy language (``iam.resource_policy``,
S3's ``MalformedPolicy``), its resources must be the bucket's own, and a public one is
refused while the bucket's ``BlockPublicPolicy`` is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketcloud.errors import ClientError
from pocketcloud.iam.arn import wildcard_match
from pocketcloud.iam.resource_policy import (
    BUCKET_RESOURCE_ERROR,
    ResourcePolicy,
    ResourcePolicyKind,
    parse_resource_policy,
)
from pocketcloud.services.context import Cloud
from pocketcloud.services.s3 import public_access
from pocketcloud.services.s3.common import no_such_bucket, require_bucket
from pocketcloud.services.s3.public_access import Settings, is_public

#: S3's limit on a bucket policy's size
MAX_POLICY_BYTES = 20 * 1024
_ARN_PREFIX = "arn:aws:s3:::"


@dataclass(frozen=True)
class BucketAccess:
    """What decides who may use a bucket besides the caller's own policies."""

    policy: ResourcePolicy | None
    block: Settings | None

    @property
    def restricts_public(self) -> bool:
        """Whether the policy is public and RestrictPublicBuckets takes its grants to
        anonymous callers away."""
        restrict = self.block is not None and self.block.restrict_public_buckets
        return restrict and self.policy is not None and is_public(self.policy)


def no_such_policy() -> ClientError:
    return ClientError("NoSuchBucketPolicy", "The bucket policy does not exist", status=404)


def malformed(message: str) -> ClientError:
    return ClientError("MalformedPolicy", message)


def access_of(cloud: Cloud, bucket: str) -> BucketAccess | None:
    """The bucket's policy (parsed; cached on its text) and settings; None if there is no
    such bucket. Reads the store."""
    row = cloud.store.one(
        "SELECT policy, public_access_block FROM s3_buckets WHERE name = ?", (bucket,)
    )
    if row is None:
        return None
    stored = row["policy"]
    policy = None if stored is None else parse_resource_policy(stored, ResourcePolicyKind.BUCKET)
    return BucketAccess(policy, public_access.parse(row["public_access_block"]))


def check(bucket: str, document: str) -> ResourcePolicy:
    """The parsed document, or MalformedPolicy: invalid, too large, or naming a resource
    outside the bucket."""
    if len(document.encode()) > MAX_POLICY_BYTES:
        raise malformed("Policy exceeds the maximum allowed document size.")
    policy = parse_resource_policy(document, ResourcePolicyKind.BUCKET)
    for entry in policy.statements:
        statement = entry.statement
        for resource in statement.resources or statement.not_resources or ():
            if not _in_bucket(bucket, resource):
                raise malformed(BUCKET_RESOURCE_ERROR)
    return policy


def _in_bucket(bucket: str, resource: str) -> bool:
    """Whether the ARN pattern's bucket part (before the first ``/``) can name ``bucket``."""
    named = resource.removeprefix(_ARN_PREFIX).partition("/")[0]
    return resource.startswith(_ARN_PREFIX) and wildcard_match(named, bucket)


def put_policy(cloud: Cloud, bucket: str, document: str, caller_arn: str) -> None:
    """PutBucketPolicy (AccessDenied for a public policy while BlockPublicPolicy is on;
    the message names ``caller_arn``, as S3's does)."""
    policy = check(bucket, document)
    with cloud.store.transaction():
        access = access_of(cloud, bucket)
        if access is None:
            raise no_such_bucket(bucket)
        if access.block is not None and access.block.block_public_policy and is_public(policy):
            raise ClientError(
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: s3:PutBucketPolicy on "
                f'resource: "{_ARN_PREFIX}{bucket}" because public policies are blocked by '
                "the BlockPublicPolicy block public access setting.",
                status=403,
            )
        cloud.store.execute("UPDATE s3_buckets SET policy = ? WHERE name = ?", (document, bucket))


def get_policy(cloud: Cloud, bucket: str) -> str:
    """GetBucketPolicy: the document as it was put (NoSuchBucketPolicy if none)."""
    require_bucket(cloud, bucket)
    stored = cloud.store.scalar("SELECT policy FROM s3_buckets WHERE name = ?", (bucket,))
    if stored is None:
        raise no_such_policy()
    return str(stored)


def delete_policy(cloud: Cloud, bucket: str) -> None:
    """DeleteBucketPolicy (no error when there is none, as S3)."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute("UPDATE s3_buckets SET policy = NULL WHERE name = ?", (bucket,))


def policy_is_public(cloud: Cloud, bucket: str) -> bool:
    """GetBucketPolicyStatus: whether the bucket's policy is public (NoSuchBucketPolicy
    if it has none)."""
    return is_public(parse_resource_policy(get_policy(cloud, bucket), ResourcePolicyKind.BUCKET))
