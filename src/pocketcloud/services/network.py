"""VPCs, subnets, regions and availability zones, as a new AWS account has them."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud.errors import ClientError
from pocketcloud.services import filters, tags
from pocketcloud.services.context import Cloud
from pocketcloud.store.sqlite import Row

VPC_FILTERS = (
    "vpc-id",
    "cidr",
    "cidr-block-association.cidr-block",
    "is-default",
    "state",
    "owner-id",
)
SUBNET_FILTERS = (
    "subnet-id",
    "vpc-id",
    "cidr-block",
    "cidr",
    "availability-zone",
    "availability-zone-id",
    "default-for-az",
    "state",
    "owner-id",
)
ZONE_FILTERS = ("zone-name", "zone-id", "region-name", "state", "zone-type")
REGION_FILTERS = ("region-name", "endpoint", "opt-in-status")


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    cidr: str
    is_default: bool
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    cidr: str
    zone: str
    zone_id: str
    default_for_az: bool
    available_ips: int
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Zone:
    name: str
    zone_id: str
    region: str


def zone_id(cloud: Cloud, zone: str) -> str:
    """AWS-style zone id: ``use1-az1`` for us-east-1a."""
    parts = cloud.region.split("-")
    short = parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]
    return f"{short}-az{ord(zone[-1]) - ord('a') + 1}"


def _vpc(row: Row, vpc_tags: Mapping[str, str]) -> Vpc:
    return Vpc(row["vpc_id"], row["cidr"], bool(row["is_default"]), vpc_tags)


def default_vpc(cloud: Cloud) -> Vpc:
    """The default VPC (every cloud has one)."""
    row = cloud.store.one("SELECT * FROM vpcs WHERE is_default = 1")
    if row is None:
        raise ClientError("VPCIdNotSpecified", "No default VPC for this user")
    return _vpc(row, tags.for_resource(cloud, row["vpc_id"]))


def require_vpc(cloud: Cloud, vpc_id: str) -> Vpc:
    """One VPC; InvalidVpcID.NotFound if absent."""
    row = cloud.store.one("SELECT * FROM vpcs WHERE vpc_id = ?", (vpc_id,))
    if row is None:
        raise ClientError("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")
    return _vpc(row, tags.for_resource(cloud, vpc_id))


def describe_vpcs(
    cloud: Cloud,
    vpc_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Vpc], str | None]:
    """DescribeVpcs."""
    filters.check_filter_names(flts, VPC_FILTERS)
    vpcs = (
        [require_vpc(cloud, v) for v in vpc_ids]
        if vpc_ids
        else [
            _vpc(r, tags.for_resource(cloud, r["vpc_id"]))
            for r in cloud.store.all("SELECT * FROM vpcs")
        ]
    )
    chosen = [v for v in vpcs if filters.matches(flts, partial(_vpc_fields, cloud, v))]
    return filters.paginate(chosen, lambda v: v.vpc_id, max_results, next_token)


def _vpc_fields(cloud: Cloud, vpc: Vpc, name: str) -> list[str] | None:
    own = {
        "vpc-id": [vpc.vpc_id],
        "cidr": [vpc.cidr],
        "cidr-block-association.cidr-block": [vpc.cidr],
        "is-default": [str(vpc.is_default).lower()],
        "state": ["available"],
        "owner-id": [cloud.account_id],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, vpc.tags)


def _subnet(cloud: Cloud, row: Row) -> Subnet:
    size = ipaddress.ip_network(row["cidr"]).num_addresses - 5  # AWS reserves five per subnet
    return Subnet(
        row["subnet_id"],
        row["vpc_id"],
        row["cidr"],
        row["zone"],
        zone_id(cloud, row["zone"]),
        bool(row["default_for_az"]),
        size,
        tags.for_resource(cloud, row["subnet_id"]),
    )


def require_subnet(cloud: Cloud, subnet_id: str) -> Subnet:
    """One subnet; InvalidSubnetID.NotFound if absent."""
    row = cloud.store.one("SELECT * FROM subnets WHERE subnet_id = ?", (subnet_id,))
    if row is None:
        raise ClientError("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist")
    return _subnet(cloud, row)


def describe_subnets(
    cloud: Cloud,
    subnet_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Subnet], str | None]:
    """DescribeSubnets."""
    filters.check_filter_names(flts, SUBNET_FILTERS)
    subnets = (
        [require_subnet(cloud, s) for s in subnet_ids]
        if subnet_ids
        else [_subnet(cloud, r) for r in cloud.store.all("SELECT * FROM subnets")]
    )
    chosen = [s for s in subnets if filters.matches(flts, partial(_subnet_fields, cloud, s))]
    return filters.paginate(chosen, lambda s: s.subnet_id, max_results, next_token)


def _subnet_fields(cloud: Cloud, subnet: Subnet, name: str) -> list[str] | None:
    own = {
        "subnet-id": [subnet.subnet_id],
        "vpc-id": [subnet.vpc_id],
        "cidr-block": [subnet.cidr],
        "cidr": [subnet.cidr],
        "availability-zone": [subnet.zone],
        "availability-zone-id": [subnet.zone_id],
        "default-for-az": [str(subnet.default_for_az).lower()],
        "state": ["available"],
        "owner-id": [cloud.account_id],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, subnet.tags)


def describe_zones(
    cloud: Cloud, names: Sequence[str], zone_ids: Sequence[str], flts: Sequence[filters.Filter]
) -> list[Zone]:
    """DescribeAvailabilityZones for the cloud's one region."""
    filters.check_filter_names(flts, ZONE_FILTERS)
    zones = [Zone(z, zone_id(cloud, z), cloud.region) for z in cloud.zones()]
    for wanted, attr in ((names, "name"), (zone_ids, "zone_id")):
        known = {getattr(z, attr) for z in zones}
        for item in wanted:
            if item not in known:
                raise ClientError(
                    "InvalidParameterValue", f"The zone '{item}' does not exist in {cloud.region}"
                )
        if wanted:
            zones = [z for z in zones if getattr(z, attr) in wanted]
    return [z for z in zones if filters.matches(flts, partial(_zone_fields, z))]


def _zone_fields(zone: Zone, name: str) -> list[str] | None:
    return {
        "zone-name": [zone.name],
        "zone-id": [zone.zone_id],
        "region-name": [zone.region],
        "state": ["available"],
        "zone-type": ["availability-zone"],
    }.get(name)


def describe_regions(
    cloud: Cloud, names: Sequence[str], flts: Sequence[filters.Filter]
) -> list[str]:
    """DescribeRegions: a pocketcloud serves exactly one region."""
    filters.check_filter_names(flts, REGION_FILTERS)
    for name in names:
        if name != cloud.region:
            raise ClientError("InvalidParameterValue", f"Invalid region: {name}")
    endpoint = cloud.settings.endpoint
    fields = {
        "region-name": [cloud.region],
        "endpoint": [endpoint],
        "opt-in-status": ["opt-in-not-required"],
    }
    return [cloud.region] if filters.matches(flts, fields.get) else []
