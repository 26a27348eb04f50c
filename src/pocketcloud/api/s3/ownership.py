"""Object Ownership and ACLs on the wire: Put/Get/DeleteBucketOwnershipControls,
GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, and the ACL a write carries
(``acl_of``: its x-amz-acl and x-amz-grant-* headers). ACLs are disabled: a read answers
the owner's FULL_CONTROL, a write may only restate it (services/s3/ownership.py)."""

from __future__ import annotations

from typing import Any

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import owner_view, registry
from pocketcloud.services.s3 import objects
from pocketcloud.services.s3 import ownership as svc
from pocketcloud.services.s3.common import owner, require_bucket

#: the x-amz-grant-* members of a write's input
GRANT_HEADERS = ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")


def acl_of(p: Params) -> svc.AclRequest:
    """The ACL a request carries, in its headers and (Put*Acl) its body."""
    body: dict[str, Any] = p.get("AccessControlPolicy") or {}
    grants = tuple(
        ((grant.get("Grantee") or {}).get("ID"), str(grant.get("Permission", "")))
        for grant in body.get("Grants") or []
    )
    headers = any(p.get(name) for name in GRANT_HEADERS)
    return svc.AclRequest(p.get("ACL"), headers, grants)


def check_write(call: Call, p: Params) -> None:
    """A write's ACL against the bucket's Object Ownership (AccessControlListNotSupported
    unless it only restates the owner's full control)."""
    svc.check_acl(call.cloud, p["Bucket"], owner(call.cloud).id, acl_of(p))


def _owner_acl(call: Call) -> Result:
    me = owner_view(call)
    grantee = {"Type": "CanonicalUser", **me}
    return {"Owner": me, "Grants": [{"Grantee": grantee, "Permission": svc.FULL_CONTROL}]}


@registry.op("PutBucketOwnershipControls")
def put_bucket_ownership_controls(call: Call, p: Params) -> Result:
    rules = (p.get("OwnershipControls") or {}).get("Rules") or []
    svc.put_controls(call.cloud, p["Bucket"], [rule.get("ObjectOwnership") for rule in rules])
    return {}


@registry.op("GetBucketOwnershipControls")
def get_bucket_ownership_controls(call: Call, p: Params) -> Result:
    found = svc.get_controls(call.cloud, p["Bucket"])
    return {"OwnershipControls": {"Rules": [{"ObjectOwnership": found.value}]}}


@registry.op("DeleteBucketOwnershipControls")
def delete_bucket_ownership_controls(call: Call, p: Params) -> Result:
    svc.delete_controls(call.cloud, p["Bucket"])
    return {}


@registry.op("GetBucketAcl")
def get_bucket_acl(call: Call, p: Params) -> Result:
    require_bucket(call.cloud, p["Bucket"])
    return _owner_acl(call)


@registry.op("PutBucketAcl")
def put_bucket_acl(call: Call, p: Params) -> Result:
    check_write(call, p)
    return {}


def _find(call: Call, p: Params) -> objects.S3Object:
    if p.get("VersionId"):
        return objects.get_version(call.cloud, p["Bucket"], p["Key"], p["VersionId"])
    return objects.get_object(call.cloud, p["Bucket"], p["Key"])


@registry.op("GetObjectAcl")
def get_object_acl(call: Call, p: Params) -> Result:
    _find(call, p)
    return _owner_acl(call)


@registry.op("PutObjectAcl")
def put_object_acl(call: Call, p: Params) -> Result:
    _find(call, p)
    check_write(call, p)
    return {}
