"""EC2 wire handlers: CamelCase in, service call, CamelCase out. No logic lives here."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2_common import filters_of, registry, tag_dict, tag_list, tag_spec
from pocketcloud.services import keypairs, network, tags

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


# --- network ---------------------------------------------------------------------------


@registry.op("DescribeVpcs")
def describe_vpcs(call: Call, p: Params) -> Result:
    vpcs, token = network.describe_vpcs(
        call.cloud, p.get("VpcIds", []), filters_of(p), p.get("MaxResults"), p.get("NextToken")
    )
    return {"Vpcs": [_vpc(call, v) for v in vpcs], "NextToken": token}


def _vpc(call: Call, vpc: network.Vpc) -> Result:
    return {
        "VpcId": vpc.vpc_id,
        "CidrBlock": vpc.cidr,
        "State": "available",
        "IsDefault": vpc.is_default,
        "OwnerId": call.cloud.account_id,
        "InstanceTenancy": "default",
        "DhcpOptionsId": "default",
        "CidrBlockAssociationSet": [
            {
                "AssociationId": vpc.vpc_id.replace("vpc-", "vpc-cidr-assoc-"),
                "CidrBlock": vpc.cidr,
                "CidrBlockState": {"State": "associated"},
            }
        ],
        "Tags": tag_list(vpc.tags),
    }


@registry.op("DescribeSubnets")
def describe_subnets(call: Call, p: Params) -> Result:
    subnets, token = network.describe_subnets(
        call.cloud,
        p.get("SubnetIds", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"Subnets": [_subnet(call, s) for s in subnets], "NextToken": token}


def _subnet(call: Call, subnet: network.Subnet) -> Result:
    cloud = call.cloud
    return {
        "SubnetId": subnet.subnet_id,
        "VpcId": subnet.vpc_id,
        "CidrBlock": subnet.cidr,
        "AvailabilityZone": subnet.zone,
        "AvailabilityZoneId": subnet.zone_id,
        "AvailableIpAddressCount": subnet.available_ips,
        "DefaultForAz": subnet.default_for_az,
        "MapPublicIpOnLaunch": subnet.default_for_az,
        "State": "available",
        "OwnerId": cloud.account_id,
        "SubnetArn": f"arn:aws:ec2:{cloud.region}:{cloud.account_id}:subnet/{subnet.subnet_id}",
        "Tags": tag_list(subnet.tags),
    }


@registry.op("DescribeAvailabilityZones")
def describe_availability_zones(call: Call, p: Params) -> Result:
    zones = network.describe_zones(
        call.cloud, p.get("ZoneNames", []), p.get("ZoneIds", []), filters_of(p)
    )
    return {
        "AvailabilityZones": [
            {
                "ZoneName": z.name,
                "ZoneId": z.zone_id,
                "State": "available",
                "RegionName": z.region,
                "ZoneType": "availability-zone",
                "GroupName": z.region,
                "NetworkBorderGroup": z.region,
                "OptInStatus": "opt-in-not-required",
                "Messages": [],
            }
            for z in zones
        ]
    }


@registry.op("DescribeRegions")
def describe_regions(call: Call, p: Params) -> Result:
    names = network.describe_regions(call.cloud, p.get("RegionNames", []), filters_of(p))
    endpoint = call.cloud.settings.endpoint
    return {
        "Regions": [
            {"RegionName": n, "Endpoint": endpoint, "OptInStatus": "opt-in-not-required"}
            for n in names
        ]
    }
