"""Bucket policies on the wire: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy,
GetBucketPolicyStatus. (How a policy decides a call is in api/authorize.py.)"""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import registry
from pocketcloud.services.s3 import policy as svc


@registry.op("PutBucketPolicy")
def put_bucket_policy(call: Call, p: Params) -> Result:
    svc.put_policy(call.cloud, p["Bucket"], p.get("Policy") or "", call.principal.arn)
    return {}


@registry.op("GetBucketPolicy")
def get_bucket_policy(call: Call, p: Params) -> Result:
    return {"Policy": svc.get_policy(call.cloud, p["Bucket"])}


@registry.op("DeleteBucketPolicy")
def delete_bucket_policy(call: Call, p: Params) -> Result:
    svc.delete_policy(call.cloud, p["Bucket"])
    return {}


@registry.op("GetBucketPolicyStatus")
def get_bucket_policy_status(call: Call, p: Params) -> Result:
    return {"PolicyStatus": {"IsPublic": svc.policy_is_public(call.cloud, p["Bucket"])}}
