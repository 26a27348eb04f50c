"""EC2 tag wire handlers: CreateTags, DeleteTags, DescribeTags."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_dict
from pocketcloud.services.ec2 import tags


@registry.op("CreateTags")
def create_tags(call: Call, p: Params) -> Result:
    tags.create_tags(call.cloud, p["Resources"], tag_dict(p["Tags"]))
    return {}


@registry.op("DeleteTags")
def delete_tags(call: Call, p: Params) -> Result:
    wanted = [(t.get("Key", ""), t.get("Value")) for t in p.get("Tags", [])]
    tags.delete_tags(call.cloud, p["Resources"], wanted)
    return {}


@registry.op("DescribeTags", filters=tags.DESCRIBE_FILTERS)
def describe_tags(call: Call, p: Params) -> Result:
    found, token = tags.describe_tags(
        call.cloud, filters_of(p), p.get("MaxResults"), p.get("NextToken")
    )
    return {
        "Tags": [
            {
                "ResourceId": t.resource_id,
                "ResourceType": t.resource_type,
                "Key": t.key,
                "Value": t.value,
            }
            for t in found
        ],
        "NextToken": token,
    }
