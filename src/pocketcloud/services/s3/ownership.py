"""Object Ownership and ACLs: PutBucketOwnershipControls, GetBucketOwnershipControls,
DeleteBucketOwnershipControls, and the ACLs a request may carry.

ACLs are disabled, as on every new S3 bucket (``BucketOwnerEnforced``): the bucket's
owner owns every object, a read of an ACL answers the owner's FULL_CONTROL, and a write
may only say that again (``private``, ``bucket-owner-full-control``, or a body granting
the owner FULL_CONTROL). Anything else is ``AccessControlListNotSupported``, or, at
CreateBucket, ``InvalidBucketAclWithObjectOwnership``. The other two settings (and no
controls at all, which S3 treats as ObjectWriter) are stored and reported, but ACLs are
not implemented: such a bucket refuses other ACLs with ``NotImplemented``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.s3.common import require_bucket


class Ownership(StrEnum):
    """S3's ObjectOwnership settings."""

    BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"
    BUCKET_OWNER_PREFERRED = "BucketOwnerPreferred"
    OBJECT_WRITER = "ObjectWriter"


DEFAULT = Ownership.BUCKET_OWNER_ENFORCED
#: the canned ACLs that grant nothing beyond the owner's full control
OWNER_ONLY = frozenset({"private", "bucket-owner-full-control"})
FULL_CONTROL = "FULL_CONTROL"


@dataclass(frozen=True)
class AclRequest:
    """The ACL a request carries: its canned ACL (``x-amz-acl``), whether it has any
    ``x-amz-grant-*`` header, and the grants of an AccessControlPolicy body as
    (grantee's canonical id or None, permission) pairs."""

    canned: str | None = None
    grant_headers: bool = False
    grants: tuple[tuple[str | None, str], ...] = ()

    def owner_only(self, owner_id: str) -> bool:
        """Whether it grants nothing but the owner's full control (or says nothing)."""
        if self.grant_headers or (self.canned is not None and self.canned not in OWNER_ONLY):
            return False
        return all(grant == (owner_id, FULL_CONTROL) for grant in self.grants)


def malformed_xml() -> ClientError:
    return ClientError("MalformedXML", "The XML you provided was not well-formed or did not "
                       "validate against our published schema")  # fmt: skip


def not_supported() -> ClientError:
    return ClientError("AccessControlListNotSupported", "The bucket does not allow ACLs")


def _not_implemented() -> ClientError:
    return ClientError(
        "NotImplemented",
        "pocketcloud does not implement ACLs: grant access with a bucket policy",
        status=501,
    )


def parse_ownership(value: str | None) -> Ownership:
    """An ObjectOwnership value (the default when absent; MalformedXML if unknown)."""
    if value is None:
        return DEFAULT
    try:
        return Ownership(value)
    except ValueError:
        raise malformed_xml() from None


def ownership_of(cloud: Cloud, bucket: str) -> Ownership | None:
    """The bucket's setting (None: its ownership controls were deleted)."""
    require_bucket(cloud, bucket)
    stored = cloud.store.scalar("SELECT ownership FROM s3_buckets WHERE name = ?", (bucket,))
    return None if stored is None else Ownership(stored)


def put_controls(cloud: Cloud, bucket: str, rules: list[str | None]) -> None:
    """PutBucketOwnershipControls: exactly one rule (MalformedXML otherwise)."""
    if len(rules) != 1:
        raise malformed_xml()
    wanted = parse_ownership(rules[0] or "")
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute(
            "UPDATE s3_buckets SET ownership = ? WHERE name = ?", (wanted.value, bucket)
        )


def get_controls(cloud: Cloud, bucket: str) -> Ownership:
    """GetBucketOwnershipControls (OwnershipControlsNotFoundError after a delete)."""
    found = ownership_of(cloud, bucket)
    if found is None:
        raise ClientError(
            "OwnershipControlsNotFoundError",
            "The bucket ownership controls were not found",
            status=404,
        )
    return found


def delete_controls(cloud: Cloud, bucket: str) -> None:
    """DeleteBucketOwnershipControls."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute("UPDATE s3_buckets SET ownership = NULL WHERE name = ?", (bucket,))


def check_acl(cloud: Cloud, bucket: str, owner_id: str, acl: AclRequest) -> None:
    """A write's ACL against the bucket's setting: AccessControlListNotSupported unless it
    only restates the owner's full control. Reads the store."""
    if acl.owner_only(owner_id):
        return
    if ownership_of(cloud, bucket) is Ownership.BUCKET_OWNER_ENFORCED:
        raise not_supported()
    raise _not_implemented()


def check_new_bucket(ownership: Ownership, owner_id: str, acl: AclRequest) -> None:
    """CreateBucket's ACL against the ownership it asks for (pure)."""
    if acl.owner_only(owner_id):
        return
    if ownership is Ownership.BUCKET_OWNER_ENFORCED:
        raise ClientError(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        )
    raise _not_implemented()
