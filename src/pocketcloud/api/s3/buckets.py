"""Bucket operations on the wire: CreateBucket, HeadBucket, ListBuckets, DeleteBucket,
GetBucketLocation."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import moment, owner_view, registry
from pocketcloud.services.s3 import buckets as svc


@registry.op("CreateBucket")
def create_bucket(call: Call, p: Params) -> Result:
    location = (p.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    bucket = svc.create_bucket(call.cloud, p["Bucket"], location)
    return {"Location": f"/{bucket.name}"}


@registry.op("HeadBucket")
def head_bucket(call: Call, p: Params) -> Result:
    bucket = svc.head_bucket(call.cloud, p["Bucket"])
    return {"BucketRegion": bucket.region}


@registry.op("ListBuckets")
def list_buckets(call: Call, p: Params) -> Result:
    found = svc.list_buckets(call.cloud)
    return {
        "Buckets": [
            {"Name": b.name, "CreationDate": moment(b.created), "BucketRegion": b.region}
            for b in found
        ],
        "Owner": owner_view(call),
    }


@registry.op("DeleteBucket")
def delete_bucket(call: Call, p: Params) -> Result:
    svc.delete_bucket(call.cloud, p["Bucket"])
    return {}


@registry.op("GetBucketLocation")
def get_bucket_location(call: Call, p: Params) -> Result:
    return {"LocationConstraint": svc.bucket_location(call.cloud, p["Bucket"])}
