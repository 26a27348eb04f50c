"""EC2 wire handlers: CamelCase in, service call, CamelCase out. No logic lives here."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2_common import filters_of, registry, tag_dict, tag_list, tag_spec
from pocketcloud.services import keypairs, tags

# --- key pairs -------------------------------------------------------------------------


def _key_pair(pair: keypairs.KeyPair, include_public: bool = False) -> Result:
    out: Result = {
        "KeyPairId": pair.key_pair_id,
        "KeyName": pair.name,
        "KeyFingerprint": pair.fingerprint,
        "KeyType": pair.key_type,
        "Tags": tag_list(pair.tags),
        "CreateTime": pair.created,
    }
    if include_public:
        out["PublicKey"] = pair.public_key
    return out


@registry.op("CreateKeyPair")
def create_key_pair(call: Call, p: Params) -> Result:
    created = keypairs.create_key_pair(
        call.cloud,
        p["KeyName"],
        p.get("KeyType", "rsa"),
        p.get("KeyFormat", "pem"),
        tag_spec(p, "key-pair"),
    )
    pair = created.key_pair
    return {
        "KeyPairId": pair.key_pair_id,
        "KeyName": pair.name,
        "KeyFingerprint": pair.fingerprint,
        "KeyMaterial": created.private_key,
        "Tags": tag_list(pair.tags),
    }


@registry.op("ImportKeyPair")
def import_key_pair(call: Call, p: Params) -> Result:
    pair = keypairs.import_key_pair(
        call.cloud, p["KeyName"], p["PublicKeyMaterial"], tag_spec(p, "key-pair")
    )
    return {
        "KeyPairId": pair.key_pair_id,
        "KeyName": pair.name,
        "KeyFingerprint": pair.fingerprint,
        "Tags": tag_list(pair.tags),
    }


@registry.op("DescribeKeyPairs", filters=keypairs.FILTERS)
def describe_key_pairs(call: Call, p: Params) -> Result:
    pairs = keypairs.describe_key_pairs(
        call.cloud, p.get("KeyNames", []), p.get("KeyPairIds", []), filters_of(p)
    )
    return {"KeyPairs": [_key_pair(k, bool(p.get("IncludePublicKey"))) for k in pairs]}


@registry.op("DeleteKeyPair")
def delete_key_pair(call: Call, p: Params) -> Result:
    deleted = keypairs.delete_key_pair(call.cloud, p.get("KeyName"), p.get("KeyPairId"))
    return {"Return": True, "KeyPairId": deleted}


# --- tags ------------------------------------------------------------------------------


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
