"""VPCs, subnets, regions and availability zones: what they are and how Describe* finds them.

Creating and deleting VPCs lives in ``vpcs``, subnets in ``subnets``, internet gateways
in ``gateways`` and route tables in ``routing``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters, tags
from pocketcloud.store.sqlite import Row

VPC_FILTERS = (
    "cidr",
    "cidr-block",  # undocumented but accepted by EC2; Ansible's ec2_vpc_net sends it
    "cidrBlock",
    "cidr-block-association.cidr-block",
    "cidr-block-association.association-id",
    "cidr-block-association.state",
    "dhcp-options-id",
    "ipv6-cidr-block-association.ipv6-cidr-block",
    "ipv6-cidr-block-association.ipv6-pool",
    "ipv6-cidr-block-association.association-id",
    "ipv6-cidr-block-association.state",
    "is-default",
    "isDefault",
    "owner-id",
    "state",
    "vpc-id",
)
SUBNET_FILTERS = (
    "availability-zone",
    "availabilityZone",
    "availability-zone-id",
    "availabilityZoneId",
    "available-ip-address-count",
    "cidr-block",
    "cidr",
    "cidrBlock",
    "customer-owned-ipv4-pool",
    "default-for-az",
    "defaultForAz",
    "enable-dns64",
    "enable-lni-at-device-index",
    "ipv6-cidr-block-association.ipv6-cidr-block",
    "ipv6-cidr-block-association.association-id",
    "ipv6-cidr-block-association.state",
    "ipv6-native",
    "map-customer-owned-ip-on-launch",
    "map-public-ip-on-launch",
    "outpost-arn",
    "owner-id",
    "private-dns-name-options-on-launch.hostname-type",
    "private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
    "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record",
    "state",
    "subnet-arn",
    "subnet-id",
    "vpc-id",
)
ZONE_FILTERS = (
    "zone-name",
    "zone-id",
    "region-name",
    "state",
    "zone-type",
    "group-name",
    "group-long-name",
    "message",
    "opt-in-status",
    "parent-zone-id",
    "parent-zone-name",
)
#: the names EC2 gives its regions' zone groups ("US East (N. Virginia) 1")
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-central-1": "Europe (Frankfurt)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}
REGION_FILTERS = ("region-name", "endpoint", "opt-in-status")
#: filters that name an IPv6 or Outposts feature pocketcloud has not: nothing matches them
_ABSENT_FEATURES = (
    "ipv6-cidr-block-association.",
    "customer-owned-ipv4-pool",
    "outpost-arn",
    "enable-lni-at",
)


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    cidr: str
    is_default: bool
    dns_support: bool = True
    dns_hostnames: bool = False
    tenancy: str = "default"
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def cidr_association_id(self) -> str:
        """The id of the VPC's (one) IPv4 CIDR block association."""
        return self.vpc_id.replace("vpc-", "vpc-cidr-assoc-", 1)


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    cidr: str
    zone: str
    zone_id: str
    default_for_az: bool
    available_ips: int
    map_public_ip: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Zone:
    name: str
    zone_id: str
    region: str


def refuse_unsupported(features: Sequence[str], operation: str) -> None:
    """UnsupportedOperation naming the request members pocketcloud has no feature for
    (IPv6, IPAM pools, Outposts); better than ignoring them silently."""
    if features:
        raise ClientError(
            "UnsupportedOperation",
            f"{operation}: pocketcloud networks are IPv4 only, without IPAM or Outposts; "
            f"unsupported: {', '.join(features)}",
        )


def zone_id(cloud: Cloud, zone: str) -> str:
    """AWS-style zone id: ``use1-az1`` for us-east-1a."""
    parts = cloud.region.split("-")
    short = parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]
    return f"{short}-az{ord(zone[-1]) - ord('a') + 1}"


def _vpc(row: Row, vpc_tags: Mapping[str, str]) -> Vpc:
    return Vpc(
        row["vpc_id"],
        row["cidr"],
        bool(row["is_default"]),
        bool(row["dns_support"]),
        bool(row["dns_hostnames"]),
        row["tenancy"],
        vpc_tags,
    )


def default_vpc(cloud: Cloud) -> Vpc:
    """The default VPC; VPCIdNotSpecified once it has been deleted."""
    row = cloud.store.one("SELECT * FROM vpcs WHERE is_default = 1")
    if row is None:
        raise ClientError("VPCIdNotSpecified", "No default VPC for this user")
    return _vpc(row, tags.for_resource(cloud, row["vpc_id"]))


def default_vpc_id(cloud: Cloud) -> str:
    """The default VPC's id (one query, no tags); VPCIdNotSpecified once it is deleted."""
    found = cloud.store.scalar("SELECT vpc_id FROM vpcs WHERE is_default = 1")
    if found is None:
        raise ClientError("VPCIdNotSpecified", "No default VPC for this user")
    return str(found)


def require_vpc(cloud: Cloud, vpc_id: str) -> Vpc:
    """One VPC; InvalidVpcID.NotFound if absent."""
    row = cloud.store.one("SELECT * FROM vpcs WHERE vpc_id = ?", (vpc_id,))
    if row is None:
        raise ClientError("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")
    return _vpc(row, tags.for_resource(cloud, vpc_id))


def all_vpcs(cloud: Cloud) -> list[Vpc]:
    """Every VPC of the cloud, with its tags."""
    rows = cloud.store.all("SELECT * FROM vpcs ORDER BY vpc_id")
    found = tags.for_resources(cloud, (r["vpc_id"] for r in rows))
    return [_vpc(r, found[r["vpc_id"]]) for r in rows]


def describe_vpcs(
    cloud: Cloud,
    vpc_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Vpc], str | None]:
    """DescribeVpcs: every id asked for must exist; filters; pagination."""
    filters.check_filter_names(flts, VPC_FILTERS)
    vpcs = [require_vpc(cloud, v) for v in dict.fromkeys(vpc_ids)] if vpc_ids else all_vpcs(cloud)
    chosen = [v for v in vpcs if filters.matches(flts, partial(_vpc_fields, cloud, v))]
    return filters.paginate(chosen, lambda v: v.vpc_id, max_results, next_token)


def _vpc_fields(cloud: Cloud, vpc: Vpc, name: str) -> list[str] | None:
    if name.startswith("ipv6-"):
        return []
    own = {
        "cidr": [vpc.cidr],
        "cidr-block": [vpc.cidr],
        "cidrBlock": [vpc.cidr],
        "cidr-block-association.cidr-block": [vpc.cidr],
        "cidr-block-association.association-id": [vpc.cidr_association_id],
        "cidr-block-association.state": ["associated"],
        "dhcp-options-id": ["default"],
        "is-default": [str(vpc.is_default).lower()],
        "isDefault": [str(vpc.is_default).lower()],
        "owner-id": [cloud.account_id],
        "state": ["available"],
        "vpc-id": [vpc.vpc_id],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, vpc.tags)


def _subnet(cloud: Cloud, row: Row, subnet_tags: Mapping[str, str], used: int) -> Subnet:
    size = ipaddress.ip_network(row["cidr"]).num_addresses - 5  # AWS reserves five per subnet
    return Subnet(
        row["subnet_id"],
        row["vpc_id"],
        row["cidr"],
        row["zone"],
        zone_id(cloud, row["zone"]),
        bool(row["default_for_az"]),
        size - used,
        bool(row["map_public_ip"]),
        subnet_tags,
    )


def _used_addresses(cloud: Cloud) -> dict[str, int]:
    """How many addresses live instances hold in each subnet."""
    rows = cloud.store.all(
        "SELECT subnet_id, count(*) AS n FROM instances WHERE state != 'terminated' "
        "GROUP BY subnet_id"
    )
    return {r["subnet_id"]: int(r["n"]) for r in rows}


def require_subnet(cloud: Cloud, subnet_id: str) -> Subnet:
    """One subnet; InvalidSubnetID.NotFound if absent."""
    row = cloud.store.one("SELECT * FROM subnets WHERE subnet_id = ?", (subnet_id,))
    if row is None:
        raise ClientError("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist")
    used = _used_addresses(cloud).get(subnet_id, 0)
    return _subnet(cloud, row, tags.for_resource(cloud, subnet_id), used)


def all_subnets(cloud: Cloud) -> list[Subnet]:
    """Every subnet of the cloud, with its tags."""
    rows = cloud.store.all("SELECT * FROM subnets ORDER BY subnet_id")
    found = tags.for_resources(cloud, (r["subnet_id"] for r in rows))
    used = _used_addresses(cloud)
    return [_subnet(cloud, r, found[r["subnet_id"]], used.get(r["subnet_id"], 0)) for r in rows]


def describe_subnets(
    cloud: Cloud,
    subnet_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Subnet], str | None]:
    """DescribeSubnets: every id asked for must exist; filters; pagination."""
    filters.check_filter_names(flts, SUBNET_FILTERS)
    subnets = (
        [require_subnet(cloud, s) for s in dict.fromkeys(subnet_ids)]
        if subnet_ids
        else all_subnets(cloud)
    )
    chosen = [s for s in subnets if filters.matches(flts, partial(_subnet_fields, cloud, s))]
    return filters.paginate(chosen, lambda s: s.subnet_id, max_results, next_token)


def subnet_arn(cloud: Cloud, subnet_id: str) -> str:
    """The subnet's ARN."""
    return f"arn:aws:ec2:{cloud.region}:{cloud.account_id}:subnet/{subnet_id}"


def _subnet_fields(cloud: Cloud, subnet: Subnet, name: str) -> list[str] | None:
    if name.startswith(_ABSENT_FEATURES):
        return []
    own = {
        "availability-zone": [subnet.zone],
        "availabilityZone": [subnet.zone],
        "availability-zone-id": [subnet.zone_id],
        "availabilityZoneId": [subnet.zone_id],
        "available-ip-address-count": [str(subnet.available_ips)],
        "cidr-block": [subnet.cidr],
        "cidr": [subnet.cidr],
        "cidrBlock": [subnet.cidr],
        "default-for-az": [str(subnet.default_for_az).lower()],
        "defaultForAz": [str(subnet.default_for_az).lower()],
        "enable-dns64": ["false"],
        "ipv6-native": ["false"],
        "map-customer-owned-ip-on-launch": ["false"],
        "map-public-ip-on-launch": [str(subnet.map_public_ip).lower()],
        "owner-id": [cloud.account_id],
        "private-dns-name-options-on-launch.hostname-type": ["ip-name"],
        "private-dns-name-options-on-launch.enable-resource-name-dns-a-record": ["false"],
        "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": ["false"],
        "state": ["available"],
        "subnet-arn": [subnet_arn(cloud, subnet.subnet_id)],
        "subnet-id": [subnet.subnet_id],
        "vpc-id": [subnet.vpc_id],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, subnet.tags)


def zones(cloud: Cloud) -> list[Zone]:
    """The availability zones of the cloud's region."""
    return [Zone(z, zone_id(cloud, z), cloud.region) for z in cloud.zones()]


def describe_zones(
    cloud: Cloud, names: Sequence[str], zone_ids: Sequence[str], flts: Sequence[filters.Filter]
) -> list[Zone]:
    """DescribeAvailabilityZones for the cloud's one region."""
    filters.check_filter_names(flts, ZONE_FILTERS)
    found = zones(cloud)
    for wanted, attr in ((names, "name"), (zone_ids, "zone_id")):
        known = {getattr(z, attr) for z in found}
        for item in wanted:
            if item not in known:
                raise InvalidParameterValue(f"The zone '{item}' does not exist in {cloud.region}")
        if wanted:
            found = [z for z in found if getattr(z, attr) in wanted]
    return [z for z in found if filters.matches(flts, partial(_zone_fields, z))]


def group_long_name(region: str) -> str:
    """The zone group's long name, as EC2 shows it: ``US East (N. Virginia) 1``."""
    return f"{REGION_NAMES.get(region, region)} 1"


def _zone_fields(zone: Zone, name: str) -> list[str] | None:
    return {
        "zone-name": [zone.name],
        "zone-id": [zone.zone_id],
        "region-name": [zone.region],
        "state": ["available"],
        "zone-type": ["availability-zone"],
        "group-name": [zone.region],
        "group-long-name": [group_long_name(zone.region)],
        "message": [],
        "opt-in-status": ["opt-in-not-required"],
        "parent-zone-id": [],
        "parent-zone-name": [],
    }.get(name)


def describe_regions(
    cloud: Cloud, names: Sequence[str], flts: Sequence[filters.Filter]
) -> list[str]:
    """DescribeRegions: a pocketcloud serves exactly one region."""
    filters.check_filter_names(flts, REGION_FILTERS)
    for name in names:
        if name != cloud.region:
            raise InvalidParameterValue(f"Invalid region: {name}")
    endpoint = cloud.settings.endpoint
    fields = {
        "region-name": [cloud.region],
        "endpoint": [endpoint],
        "opt-in-status": ["opt-in-not-required"],
    }
    return [cloud.region] if filters.matches(flts, fields.get) else []
