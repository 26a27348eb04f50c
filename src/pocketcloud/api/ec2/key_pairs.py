"""EC2 key pair wire handlers: CamelCase in, service call, CamelCase out."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_list, tag_spec
from pocketcloud.services.ec2 import key_pairs


def _key_pair(pair: key_pairs.KeyPair, include_public: bool = False) -> Result:
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
    created = key_pairs.create_key_pair(
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
    pair = key_pairs.import_key_pair(
        call.cloud, p["KeyName"], p["PublicKeyMaterial"], tag_spec(p, "key-pair")
    )
    return {
        "KeyPairId": pair.key_pair_id,
        "KeyName": pair.name,
        "KeyFingerprint": pair.fingerprint,
        "Tags": tag_list(pair.tags),
    }


@registry.op("DescribeKeyPairs", filters=key_pairs.FILTERS)
def describe_key_pairs(call: Call, p: Params) -> Result:
    pairs = key_pairs.describe_key_pairs(
        call.cloud, p.get("KeyNames", []), p.get("KeyPairIds", []), filters_of(p)
    )
    return {"KeyPairs": [_key_pair(k, bool(p.get("IncludePublicKey"))) for k in pairs]}


@registry.op("DeleteKeyPair")
def delete_key_pair(call: Call, p: Params) -> Result:
    deleted = key_pairs.delete_key_pair(call.cloud, p.get("KeyName"), p.get("KeyPairId"))
    return {"Return": True, "KeyPairId": deleted}
