"""Tagging on the wire: bucket tag sets and object tag sets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import registry
from pocketcloud.services.s3 import objects
from pocketcloud.services.s3 import tagging as svc


def pairs(p: Params) -> list[tuple[str, str]]:
    """The (Key, Value) pairs of a request's ``Tagging`` payload."""
    found: list[dict[str, Any]] = (p.get("Tagging") or {}).get("TagSet") or []
    return [(str(tag.get("Key", "")), str(tag.get("Value", ""))) for tag in found]


def tag_set(tags: Mapping[str, str]) -> list[Result]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


@registry.op("PutBucketTagging")
def put_bucket_tagging(call: Call, p: Params) -> Result:
    svc.put_bucket_tags(call.cloud, p["Bucket"], pairs(p))
    return {}


@registry.op("GetBucketTagging")
def get_bucket_tagging(call: Call, p: Params) -> Result:
    return {"TagSet": tag_set(svc.bucket_tags(call.cloud, p["Bucket"]))}


@registry.op("DeleteBucketTagging")
def delete_bucket_tagging(call: Call, p: Params) -> Result:
    svc.delete_bucket_tags(call.cloud, p["Bucket"])
    return {}


@registry.op("PutObjectTagging")
def put_object_tagging(call: Call, p: Params) -> Result:
    tags = svc.checked(pairs(p), svc.MAX_OBJECT_TAGS)
    objects.set_object_tags(call.cloud, p["Bucket"], p["Key"], tags)
    return {}


@registry.op("GetObjectTagging")
def get_object_tagging(call: Call, p: Params) -> Result:
    found = objects.get_object(call.cloud, p["Bucket"], p["Key"])
    return {"TagSet": tag_set(found.attrs.tags)}


@registry.op("DeleteObjectTagging")
def delete_object_tagging(call: Call, p: Params) -> Result:
    objects.set_object_tags(call.cloud, p["Bucket"], p["Key"], {})
    return {}
