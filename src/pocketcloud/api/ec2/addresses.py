"""EC2 Elastic IP wire handlers."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_list, tag_spec
from pocketcloud.services.ec2 import addresses
from pocketcloud.services.ec2.addresses import Address, Target

POOL = "amazon"  # PublicIpv4Pool of an address from the provider's own pool


def _address(call: Call, a: Address) -> Result:
    out: Result = {
        "AllocationId": a.allocation_id,
        "PublicIp": a.public_ip,
        "Domain": "vpc",
        "PublicIpv4Pool": POOL,
        "NetworkBorderGroup": call.cloud.region,
        "Tags": tag_list(a.tags),
    }
    if a.association_id:
        out |= {
            "AssociationId": a.association_id,
            "InstanceId": a.instance_id,
            "NetworkInterfaceId": a.eni_id,
            "NetworkInterfaceOwnerId": call.cloud.account_id,
            "PrivateIpAddress": a.private_ip,
        }
    return out


@registry.op("AllocateAddress")
def allocate_address(call: Call, p: Params) -> Result:
    made = addresses.allocate_address(call.cloud, p.get("Address"), tag_spec(p, "elastic-ip"))
    return {
        "AllocationId": made.allocation_id,
        "PublicIp": made.public_ip,
        "Domain": "vpc",
        "PublicIpv4Pool": POOL,
        "NetworkBorderGroup": call.cloud.region,
    }


@registry.op("AssociateAddress")
def associate_address(call: Call, p: Params) -> Result:
    target = Target(p.get("InstanceId"), p.get("NetworkInterfaceId"), p.get("PrivateIpAddress"))
    association_id = addresses.associate_address(
        call.cloud, p.get("AllocationId"), p.get("PublicIp"), target, p.get("AllowReassociation")
    )
    return {"AssociationId": association_id}


@registry.op("DisassociateAddress")
def disassociate_address(call: Call, p: Params) -> Result:
    addresses.disassociate_address(call.cloud, p.get("AssociationId"), p.get("PublicIp"))
    return {}


@registry.op("ReleaseAddress")
def release_address(call: Call, p: Params) -> Result:
    addresses.release_address(call.cloud, p.get("AllocationId"), p.get("PublicIp"))
    return {}


@registry.op("DescribeAddresses", filters=addresses.FILTERS)
def describe_addresses(call: Call, p: Params) -> Result:
    found = addresses.describe_addresses(
        call.cloud, p.get("PublicIps", []), p.get("AllocationIds", []), filters_of(p)
    )
    return {"Addresses": [_address(call, a) for a in found]}
