"""The kinds of EC2 resource, recognised by their id prefix."""

from __future__ import annotations

from dataclasses import dataclass

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud


@dataclass(frozen=True)
class Kind:
    """One kind of EC2 resource and where its rows live."""

    resource_type: str
    table: str
    id_column: str
    not_found: str


KINDS: dict[str, Kind] = {
    "key": Kind("key-pair", "key_pairs", "key_pair_id", "InvalidKeyPair.NotFound"),
    "sg": Kind("security-group", "security_groups", "group_id", "InvalidGroup.NotFound"),
    "sgr": Kind(
        "security-group-rule",
        "security_group_rules",
        "rule_id",
        "InvalidSecurityGroupRuleId.NotFound",
    ),
    "vpc": Kind("vpc", "vpcs", "vpc_id", "InvalidVpcID.NotFound"),
    "subnet": Kind("subnet", "subnets", "subnet_id", "InvalidSubnetID.NotFound"),
    "i": Kind("instance", "instances", "instance_id", "InvalidInstanceID.NotFound"),
    "vol": Kind("volume", "volumes", "volume_id", "InvalidVolume.NotFound"),
    "lt": Kind(
        "launch-template", "launch_templates", "template_id", "InvalidLaunchTemplateId.NotFound"
    ),
    "igw": Kind(
        "internet-gateway", "internet_gateways", "igw_id", "InvalidInternetGatewayID.NotFound"
    ),
    "rtb": Kind("route-table", "route_tables", "route_table_id", "InvalidRouteTableID.NotFound"),
    "eni": Kind(
        "network-interface",
        "network_interfaces",
        "eni_id",
        "InvalidNetworkInterfaceID.NotFound",
    ),
    "eipalloc": Kind("elastic-ip", "addresses", "allocation_id", "InvalidAllocationID.NotFound"),
}


def kind_of(resource_id: str) -> Kind:
    """The kind named by an id's prefix; ``InvalidID`` for anything else."""
    prefix, _, rest = resource_id.partition("-")
    kind = KINDS.get(prefix)
    if kind is None or not rest or not all(c in "0123456789abcdef" for c in rest):
        raise ClientError("InvalidID", f"The ID '{resource_id}' is not valid")
    return kind


def require(cloud: Cloud, resource_id: str) -> Kind:
    """The resource's kind; its kind's NotFound error if it does not exist."""
    kind = kind_of(resource_id)
    found = cloud.store.one(
        f"SELECT 1 FROM {kind.table} WHERE {kind.id_column} = ?",  # noqa: S608 (names from KINDS)
        (resource_id,),
    )
    if found is None:
        raise ClientError(
            kind.not_found, f"The {kind.resource_type} ID '{resource_id}' does not exist"
        )
    return kind
