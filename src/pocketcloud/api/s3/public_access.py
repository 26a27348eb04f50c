"""Block Public Access on the wire: PutPublicAccessBlock, GetPublicAccessBlock,
DeletePublicAccessBlock."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import registry
from pocketcloud.services.s3 import public_access as svc


@registry.op("PutPublicAccessBlock")
def put_public_access_block(call: Call, p: Params) -> Result:
    raw = p.get("PublicAccessBlockConfiguration") or {}
    settings = svc.Settings(
        bool(raw.get("BlockPublicAcls")), bool(raw.get("IgnorePublicAcls")),
        bool(raw.get("BlockPublicPolicy")), bool(raw.get("RestrictPublicBuckets")),
    )  # fmt: skip
    svc.put_settings(call.cloud, p["Bucket"], settings)
    return {}


@registry.op("GetPublicAccessBlock")
def get_public_access_block(call: Call, p: Params) -> Result:
    found = svc.get_settings(call.cloud, p["Bucket"])
    return {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": found.block_public_acls,
            "IgnorePublicAcls": found.ignore_public_acls,
            "BlockPublicPolicy": found.block_public_policy,
            "RestrictPublicBuckets": found.restrict_public_buckets,
        }
    }


@registry.op("DeletePublicAccessBlock")
def delete_public_access_block(call: Call, p: Params) -> Result:
    svc.delete_settings(call.cloud, p["Bucket"])
    return {}
