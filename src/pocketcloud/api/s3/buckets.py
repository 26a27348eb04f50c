"""Bucket operations on the wire: CreateBucket (with its Object Ownership and ACL),
HeadBucket, ListBuckets, DeleteBucket, GetBucketLocation."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import moment, owner_view, registry
from pocketcloud.api.s3.ownership import acl_of
from pocketcloud.services.s3 import buckets as svc
from pocketcloud.services.s3 import ownership
from pocketcloud.services.s3.common import owner


@registry.op("CreateBucket")
def create_bucket(call: Call, p: Params) -> Result:
    location = (p.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    wanted = ownership.parse_ownership(p.get("ObjectOwnership"))
    ownership.check_new_bucket(wanted, owner(call.cloud).id, acl_of(p))
    bucket = svc.create_bucket(call.cloud, p["Bucket"], location, wanted)
    return {"Location": f"/{bucket.name}"}


@registry.op("HeadBucket")
def head_bucket(call: Call, p: Params) -> Result:
    bucket = svc.head_bucket(call.cloud, p["Bucket"])
    return {"BucketRegion": bucket.region}


@registry.op("ListBuckets")
def list_buckets(call: Call, p: Params) -> Result:
    found, token = svc.list_buckets(
        call.cloud,
        p.get("Prefix"),
        p.get("BucketRegion"),
        p.get("MaxBuckets"),
        p.get("ContinuationToken"),
    )
    return {
        "Buckets": [
            {"Name": b.name, "CreationDate": moment(b.created), "BucketRegion": b.region}
            for b in found
        ],
        "Owner": owner_view(call),
        "ContinuationToken": token,
        "Prefix": p.get("Prefix"),
    }


@registry.op("DeleteBucket")
def delete_bucket(call: Call, p: Params) -> Result:
    svc.delete_bucket(call.cloud, p["Bucket"])
    return {}


@registry.op("GetBucketLocation")
def get_bucket_location(call: Call, p: Params) -> Result:
    return {"LocationConstraint": svc.bucket_location(call.cloud, p["Bucket"])}
