"""Creating, changing and deleting subnets (reading them lives in ``network``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterCombination, InvalidParameterValue
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import network, route_associations, tags

#: the smallest and the largest subnet AWS allows (as prefix lengths)
PREFIXES = (16, 28)


def parse_cidr(text: str | None, parameter: str) -> ipaddress.IPv4Network:
    """An IPv4 CIDR block as given for ``parameter``; InvalidParameterValue if it is not one."""
    if not text:
        raise ClientError("MissingParameter", f"The request must contain the parameter {parameter}")
    try:
        return ipaddress.IPv4Network(text)
    except ValueError as exc:
        raise InvalidParameterValue(
            f"Value ({text}) for parameter {parameter} is invalid. This is not a valid CIDR block."
        ) from exc


def _zone(cloud: Cloud, vpc_id: str, zone: str | None, zone_id: str | None) -> str:
    """The zone asked for (by name or id), else the VPC's zone with the fewest subnets."""
    known = network.zones(cloud)
    if zone and zone_id:
        raise InvalidParameterCombination(
            "The parameters availabilityZone and availabilityZoneId cannot be used together"
        )
    if zone or zone_id:
        for candidate in known:
            if zone in (candidate.name, None) and zone_id in (candidate.zone_id, None):
                return candidate.name
        names = ", ".join(z.name for z in known)
        raise InvalidParameterValue(
            f"Value ({zone or zone_id}) for parameter availabilityZone is invalid. Subnets can "
            f"currently only be created in the following availability zones: {names}."
        )
    counts = {z.name: 0 for z in known}
    for row in cloud.store.all("SELECT zone FROM subnets WHERE vpc_id = ?", (vpc_id,)):
        if row["zone"] in counts:
            counts[row["zone"]] += 1
    return min(counts, key=lambda name: (counts[name], name))


def _check_range(cloud: Cloud, vpc: network.Vpc, cidr: ipaddress.IPv4Network) -> None:
    """Inside the VPC, /16 to /28, overlapping none of the VPC's subnets."""
    if not PREFIXES[0] <= cidr.prefixlen <= PREFIXES[1] or not cidr.subnet_of(
        ipaddress.IPv4Network(vpc.cidr)
    ):
        raise ClientError("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.")
    for row in cloud.store.all(
        "SELECT subnet_id, cidr FROM subnets WHERE vpc_id = ?", (vpc.vpc_id,)
    ):
        if cidr.overlaps(ipaddress.IPv4Network(row["cidr"])):
            raise ClientError(
                "InvalidSubnet.Conflict",
                f"The CIDR '{cidr}' conflicts with another subnet ({row['subnet_id']}, "
                f"{row['cidr']})",
            )


def insert_subnet(
    cloud: Cloud, vpc_id: str, cidr: str, zone: str, *, default_for_az: bool, map_public_ip: bool
) -> str:
    """Record a subnet (inside a transaction); returns its id."""
    subnet_id = ids.ec2_id("subnet")
    cloud.store.execute(
        "INSERT INTO subnets(subnet_id, vpc_id, cidr, zone, default_for_az, map_public_ip) "
        "VALUES(?, ?, ?, ?, ?, ?)",
        (subnet_id, vpc_id, cidr, zone, int(default_for_az), int(map_public_ip)),
    )
    return subnet_id


@dataclass(frozen=True)
class SubnetRequest:
    """What CreateSubnet asks for."""

    vpc_id: str
    cidr: str | None
    zone: str | None = None
    zone_id: str | None = None


def create_subnet(
    cloud: Cloud, request: SubnetRequest, subnet_tags: Mapping[str, str]
) -> network.Subnet:
    """CreateSubnet: a CIDR inside the VPC that overlaps none of its other subnets."""
    cidr = parse_cidr(request.cidr, "cidrBlock")
    tags.validate(subnet_tags)
    with cloud.store.transaction():
        vpc = network.require_vpc(cloud, request.vpc_id)
        _check_range(cloud, vpc, cidr)
        zone = _zone(cloud, vpc.vpc_id, request.zone, request.zone_id)
        subnet_id = insert_subnet(
            cloud, vpc.vpc_id, str(cidr), zone, default_for_az=False, map_public_ip=False
        )
        tags.apply(cloud, subnet_id, subnet_tags)
    cloud.wake()
    return network.require_subnet(cloud, subnet_id)


def delete_subnet(cloud: Cloud, subnet_id: str) -> None:
    """DeleteSubnet: refused while an instance that is not terminated is in it.

    Terminated instances of the subnet are forgotten at once (their records refer to it);
    its explicit route table association goes with it.
    """
    with cloud.store.transaction():
        network.require_subnet(cloud, subnet_id)
        user = cloud.store.scalar(
            "SELECT instance_id FROM instances WHERE subnet_id = ? AND state != 'terminated'",
            (subnet_id,),
        )
        if user:
            raise ClientError(
                "DependencyViolation",
                f"The subnet '{subnet_id}' has dependencies and cannot be deleted "
                f"(instance {user} is in it).",
            )
        for row in cloud.store.all(
            "SELECT instance_id FROM instances WHERE subnet_id = ?", (subnet_id,)
        ):
            cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (row["instance_id"],))
            cloud.store.execute(
                "DELETE FROM instances WHERE instance_id = ?", (row["instance_id"],)
            )
        route_associations.remove_subnet_association(cloud, subnet_id)
        cloud.store.execute("DELETE FROM subnets WHERE subnet_id = ?", (subnet_id,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (subnet_id,))
    cloud.wake()


def modify_subnet_attribute(
    cloud: Cloud, subnet_id: str, map_public_ip: bool | None, unsupported: Mapping[str, object]
) -> None:
    """ModifySubnetAttribute: MapPublicIpOnLaunch (one attribute per call, as AWS).

    ``unsupported`` holds the other attributes the call set; turning any of them on is
    refused (pocketcloud has no IPv6, DNS64 or Outposts), turning it off is a no-op.
    """
    given = (0 if map_public_ip is None else 1) + len(unsupported)
    if given != 1:
        raise InvalidParameterCombination("Exactly one attribute may be modified at a time")
    for name, value in unsupported.items():
        if value not in (False, None, "", "ip-name"):
            raise ClientError(
                "UnsupportedOperation", f"pocketcloud does not support the attribute {name}"
            )
    with cloud.store.transaction():
        network.require_subnet(cloud, subnet_id)
        if map_public_ip is not None:
            cloud.store.execute(
                "UPDATE subnets SET map_public_ip = ? WHERE subnet_id = ?",
                (int(map_public_ip), subnet_id),
            )
    cloud.wake()
