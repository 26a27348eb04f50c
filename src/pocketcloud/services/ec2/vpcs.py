"""Creating, changing and deleting VPCs, the default VPC included.

pocketcloud routes every VPC in the host's main routing table, so a new VPC's CIDR may
overlap neither another VPC of this cloud nor a route the host already has; such a
CreateVpc is refused with InvalidVpc.Range and a message naming what it overlaps (AWS
allows overlapping VPCs; this is our stated difference).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping, Sequence

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterCombination, InvalidParameterValue
from pocketcloud.host import routes as host_routes
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import gateways, network, routing, security_groups, subnets, tags

#: the smallest and the largest VPC AWS allows (as prefix lengths)
PREFIXES = (16, 28)
#: ranges a VPC cannot use on this machine (this host, link-local incl. the instances'
#: gateway 169.254.1.1, multicast and reserved)
RESERVED = tuple(
    ipaddress.IPv4Network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/3")
)
TENANCIES = ("default", "dedicated")
#: the default VPC's subnets: one of this size per zone
DEFAULT_SUBNET_PREFIX = 20
_RELEASED = "vpcs.released_cidrs"


def _range(text: str | None) -> ipaddress.IPv4Network:
    cidr = subnets.parse_cidr(text, "cidrBlock")
    if not PREFIXES[0] <= cidr.prefixlen <= PREFIXES[1] or any(cidr.overlaps(r) for r in RESERVED):
        raise ClientError("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")
    return cidr


def overlap(
    cidr: ipaddress.IPv4Network,
    vpcs: Sequence[network.Vpc],
    routes: Sequence[host_routes.HostRoute],
    ours: Collection[str],
) -> str | None:
    """Why ``cidr`` cannot be a new VPC here, or None (pure).

    ``ours``: CIDRs whose pocketcloud route (proto 99) is this cloud's own, not a conflict.
    """
    why = "pocketcloud routes every VPC in this machine's main routing table, so a VPC may "
    why += "not overlap another VPC or a route the machine has"
    for vpc in vpcs:
        if cidr.overlaps(ipaddress.IPv4Network(vpc.cidr)):
            return f"The CIDR '{cidr}' overlaps {vpc.vpc_id} ({vpc.cidr}) of this cloud: {why}."
    mine = host_routes.VPC_PROTOCOL
    for route in sorted(routes, key=lambda r: r.protocol != mine):
        if route.protocol == mine and route.destination in ours:
            continue
        if cidr.overlaps(ipaddress.IPv4Network(route.destination, strict=False)):
            if route.protocol == mine:
                what = f"{route.destination}, a VPC of another pocketcloud on this machine"
            else:
                what = (
                    f"the machine's route {route.destination} ({route.via}, proto {route.protocol})"
                )
            return f"The CIDR '{cidr}' overlaps {what}: {why}."
    return None


def _check_overlap(cloud: Cloud, cidr: ipaddress.IPv4Network) -> None:
    pool = ipaddress.IPv4Network(cloud.settings.eip_pool)
    if cidr.overlaps(pool):
        raise ClientError(
            "InvalidVpc.Range",
            f"The CIDR '{cidr}' overlaps this cloud's Elastic IP pool ({pool}).",
        )
    ours = {v.cidr for v in network.all_vpcs(cloud)} | {cloud.settings.vpc_cidr}
    ours |= cloud.caches.get(_RELEASED, set())
    reason = overlap(cidr, network.all_vpcs(cloud), host_routes.main_routes(), ours)
    if reason is not None:
        raise ClientError("InvalidVpc.Range", reason)


def _insert(cloud: Cloud, cidr: str, *, is_default: bool, tenancy: str = "default") -> str:
    vpc_id = ids.ec2_id("vpc")
    cloud.store.execute(
        "INSERT INTO vpcs(vpc_id, cidr, is_default, dns_support, dns_hostnames, tenancy) "
        "VALUES(?, ?, ?, 1, ?, ?)",
        (vpc_id, cidr, int(is_default), int(is_default), tenancy),
    )
    security_groups.create_default_group(cloud, vpc_id)
    return vpc_id


def create_vpc(
    cloud: Cloud, cidr_text: str | None, tenancy: str | None, vpc_tags: Mapping[str, str]
) -> network.Vpc:
    """CreateVpc: a VPC with its default security group and main route table (local
    route only); wakes the host side, which routes its CIDR."""
    cidr = _range(cidr_text)
    tenancy = tenancy or "default"
    if tenancy not in TENANCIES:
        raise InvalidParameterValue(
            f"Value ({tenancy}) for parameter instanceTenancy is invalid. "
            f"Valid values: {', '.join(TENANCIES)}"
        )
    tags.validate(vpc_tags)
    with cloud.store.transaction():
        _check_overlap(cloud, cidr)
        vpc_id = _insert(cloud, str(cidr), is_default=False, tenancy=tenancy)
        routing.create_main_table(cloud, vpc_id)
        tags.apply(cloud, vpc_id, vpc_tags)
    cloud.wake()
    return network.require_vpc(cloud, vpc_id)


def create_default_network(cloud: Cloud, cidr: str) -> str:
    """A default VPC as AWS makes it (inside a transaction): one /20 subnet per zone with
    public addresses on launch, DNS hostnames on, its default security group, an internet
    gateway attached and a main route table sending 0.0.0.0/0 to it. Returns its id."""
    net = ipaddress.IPv4Network(cidr)
    vpc_id = _insert(cloud, str(net), is_default=True)
    igw_id = gateways.insert(cloud, vpc_id, {})
    routing.create_main_table(cloud, vpc_id, igw_id)
    blocks = net.subnets(new_prefix=max(net.prefixlen, DEFAULT_SUBNET_PREFIX))
    for zone, block in zip(cloud.zones(), blocks, strict=False):
        subnets.insert_subnet(
            cloud, vpc_id, str(block), zone, default_for_az=True, map_public_ip=True
        )
    return vpc_id


def create_default_vpc(cloud: Cloud) -> network.Vpc:
    """CreateDefaultVpc: DefaultVpcAlreadyExists while there is one; wakes the host side."""
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM vpcs WHERE is_default = 1"):
            raise ClientError(
                "DefaultVpcAlreadyExists",
                "A Default VPC already exists for this account in this region.",
            )
        cidr = ipaddress.IPv4Network(cloud.settings.vpc_cidr)
        _check_overlap(cloud, cidr)
        vpc_id = create_default_network(cloud, str(cidr))
    cloud.wake()
    return network.require_vpc(cloud, vpc_id)


def _dependencies(cloud: Cloud, vpc_id: str) -> list[str]:
    """What keeps a VPC from being deleted, as AWS counts it."""
    found = [
        f"subnet {r['subnet_id']}"
        for r in cloud.store.all("SELECT subnet_id FROM subnets WHERE vpc_id = ?", (vpc_id,))
    ]
    igw = gateways.attached_to(cloud, vpc_id)
    if igw:
        found.append(f"internet gateway {igw} is attached")
    found += [
        f"security group {r['group_id']}"
        for r in cloud.store.all(
            "SELECT group_id FROM security_groups WHERE vpc_id = ? AND name != ?",
            (vpc_id, security_groups.DEFAULT),
        )
    ]
    found += [f"route table {t}" for t in routing.non_main_tables(cloud, vpc_id)]
    found += [
        f"a rule of {r['group_id']} references its default group"
        for r in cloud.store.all(
            "SELECT r.group_id FROM security_group_rules r "
            "JOIN security_groups mine ON mine.group_id = r.ref_group_id "
            "JOIN security_groups other ON other.group_id = r.group_id "
            "WHERE mine.vpc_id = ? AND other.vpc_id != ?",
            (vpc_id, vpc_id),
        )
    ]
    return found


def delete_vpc(cloud: Cloud, vpc_id: str) -> None:
    """DeleteVpc: refused (DependencyViolation) while subnets, an attached gateway, other
    security groups or other route tables remain; takes its default group and main route
    table with it; wakes the host side, which stops routing its CIDR."""
    with cloud.store.transaction():
        vpc = network.require_vpc(cloud, vpc_id)
        blockers = _dependencies(cloud, vpc_id)
        if blockers:
            raise ClientError(
                "DependencyViolation",
                f"The vpc '{vpc_id}' has dependencies and cannot be deleted "
                f"({'; '.join(blockers)}).",
            )
        _delete_default_group(cloud, vpc_id)
        routing.delete_vpc_tables(cloud, vpc_id)
        cloud.store.execute("DELETE FROM vpcs WHERE vpc_id = ?", (vpc_id,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (vpc_id,))
    cloud.caches.setdefault(_RELEASED, set()).add(vpc.cidr)
    cloud.wake()


def _delete_default_group(cloud: Cloud, vpc_id: str) -> None:
    for group in cloud.store.all(
        "SELECT group_id FROM security_groups WHERE vpc_id = ?", (vpc_id,)
    ):
        gid = group["group_id"]
        cloud.store.execute(
            "DELETE FROM tags WHERE resource_id IN "
            "(SELECT rule_id FROM security_group_rules WHERE group_id = ?)",
            (gid,),
        )
        cloud.store.execute("DELETE FROM security_group_rules WHERE group_id = ?", (gid,))
        cloud.store.execute("DELETE FROM instance_groups WHERE group_id = ?", (gid,))
        cloud.store.execute("DELETE FROM security_groups WHERE group_id = ?", (gid,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (gid,))


VPC_ATTRIBUTES = ("enableDnsSupport", "enableDnsHostnames", "enableNetworkAddressUsageMetrics")


def modify_vpc_attribute(cloud: Cloud, vpc_id: str, changes: Mapping[str, bool]) -> None:
    """ModifyVpcAttribute: one attribute per call; DNS hostnames only with DNS support;
    network address usage metrics can only stay off."""
    if len(changes) != 1:
        raise InvalidParameterCombination(
            "You cannot modify the DNS resolution and DNS hostnames attributes in the same "
            "request. Use separate requests for each attribute."
        )
    ((name, value),) = changes.items()
    with cloud.store.transaction():
        vpc = network.require_vpc(cloud, vpc_id)
        if name == "enableNetworkAddressUsageMetrics":
            if value:
                raise ClientError(
                    "UnsupportedOperation",
                    "pocketcloud does not offer network address usage metrics",
                )
            return
        if name == "enableDnsHostnames" and value and not vpc.dns_support:
            raise InvalidParameterValue(
                "You can only enable DNS hostnames if you've enabled DNS support."
            )
        column = "dns_support" if name == "enableDnsSupport" else "dns_hostnames"
        cloud.store.execute(
            f"UPDATE vpcs SET {column} = ? WHERE vpc_id = ?",  # noqa: S608 (fixed names)
            (int(value), vpc_id),
        )
    cloud.wake()


def describe_vpc_attribute(cloud: Cloud, vpc_id: str, attribute: str) -> bool:
    """DescribeVpcAttribute: the value of one of VPC_ATTRIBUTES."""
    if attribute not in VPC_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Value ({attribute}) for parameter attribute is invalid. Unknown attribute."
        )
    vpc = network.require_vpc(cloud, vpc_id)
    return {
        "enableDnsSupport": vpc.dns_support,
        "enableDnsHostnames": vpc.dns_hostnames,
    }.get(attribute, False)
