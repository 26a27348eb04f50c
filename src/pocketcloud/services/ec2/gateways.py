"""Internet gateways: Create, Attach, Detach, Delete, Describe.

A gateway attached to a VPC is what a route to 0.0.0.0/0 needs to lead outside; the
kernel side (``reconcile``) follows the ``internet_gateways`` table after ``cloud.wake()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud import ids
from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters, network, tags
from pocketcloud.store.sqlite import Row

GATEWAY_FILTERS = (
    "attachment.state",
    "attachment.vpc-id",
    "internet-gateway-id",
    "owner-id",
)


@dataclass(frozen=True)
class InternetGateway:
    """An internet gateway; ``vpc_id`` is None while it is detached."""

    igw_id: str
    vpc_id: str | None
    tags: Mapping[str, str] = field(default_factory=dict)


def _gateway(row: Row, igw_tags: Mapping[str, str]) -> InternetGateway:
    return InternetGateway(row["igw_id"], row["vpc_id"], igw_tags)


def require_gateway(cloud: Cloud, igw_id: str) -> InternetGateway:
    """One gateway; InvalidInternetGatewayID.NotFound if absent."""
    row = cloud.store.one("SELECT * FROM internet_gateways WHERE igw_id = ?", (igw_id,))
    if row is None:
        raise ClientError(
            "InvalidInternetGatewayID.NotFound",
            f"The internetGateway ID '{igw_id}' does not exist",
        )
    return _gateway(row, tags.for_resource(cloud, igw_id))


def insert(cloud: Cloud, vpc_id: str | None, igw_tags: Mapping[str, str]) -> str:
    """Record a new gateway, attached to ``vpc_id`` if given (inside a transaction)."""
    igw_id = ids.ec2_id("igw")
    cloud.store.execute(
        "INSERT INTO internet_gateways(igw_id, vpc_id) VALUES(?, ?)", (igw_id, vpc_id)
    )
    tags.apply(cloud, igw_id, igw_tags)
    return igw_id


def create_internet_gateway(cloud: Cloud, igw_tags: Mapping[str, str]) -> InternetGateway:
    """CreateInternetGateway: a new, detached gateway."""
    tags.validate(igw_tags)
    with cloud.store.transaction():
        return require_gateway(cloud, insert(cloud, None, igw_tags))


def attach_internet_gateway(cloud: Cloud, igw_id: str, vpc_id: str) -> None:
    """AttachInternetGateway: one gateway per VPC, one VPC per gateway; wakes the host side."""
    with cloud.store.transaction():
        gateway = require_gateway(cloud, igw_id)
        network.require_vpc(cloud, vpc_id)
        if gateway.vpc_id is not None:
            raise ClientError(
                "Resource.AlreadyAssociated",
                f"resource {igw_id} is already attached to network {gateway.vpc_id}",
            )
        present = attached_to(cloud, vpc_id)
        if present is not None:
            raise ClientError(
                "Resource.AlreadyAssociated",
                f"network {vpc_id} already has an internet gateway attached ({present})",
            )
        cloud.store.execute(
            "UPDATE internet_gateways SET vpc_id = ? WHERE igw_id = ?", (vpc_id, igw_id)
        )
    cloud.wake()


def attached_to(cloud: Cloud, vpc_id: str) -> str | None:
    """The id of the gateway attached to ``vpc_id``, if any."""
    found = cloud.store.scalar("SELECT igw_id FROM internet_gateways WHERE vpc_id = ?", (vpc_id,))
    return None if found is None else str(found)


def detach_internet_gateway(cloud: Cloud, igw_id: str, vpc_id: str) -> None:
    """DetachInternetGateway: refused while the VPC's instances hold Elastic IPs; wakes."""
    with cloud.store.transaction():
        gateway = require_gateway(cloud, igw_id)
        network.require_vpc(cloud, vpc_id)
        if gateway.vpc_id != vpc_id:
            raise ClientError(
                "Gateway.NotAttached", f"resource {igw_id} is not attached to network {vpc_id}"
            )
        mapped = cloud.store.scalar(
            "SELECT a.public_ip FROM addresses a JOIN instances i USING (instance_id) "
            "JOIN subnets s ON s.subnet_id = i.subnet_id "
            "WHERE s.vpc_id = ? AND i.state != 'terminated'",
            (vpc_id,),
        )
        if mapped:
            raise ClientError(
                "DependencyViolation",
                f"Network {vpc_id} has some mapped public address(es) ({mapped}). "
                "Please unmap those public address(es) before detaching the gateway.",
            )
        cloud.store.execute(
            "UPDATE internet_gateways SET vpc_id = NULL WHERE igw_id = ?", (igw_id,)
        )
    cloud.wake()


def delete_internet_gateway(cloud: Cloud, igw_id: str) -> None:
    """DeleteInternetGateway: only a detached one; routes to it stay, as blackholes."""
    with cloud.store.transaction():
        gateway = require_gateway(cloud, igw_id)
        if gateway.vpc_id is not None:
            raise ClientError(
                "DependencyViolation",
                f"The internetGateway '{igw_id}' has dependencies and cannot be deleted "
                f"(it is attached to {gateway.vpc_id}).",
            )
        cloud.store.execute("DELETE FROM internet_gateways WHERE igw_id = ?", (igw_id,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (igw_id,))
    cloud.wake()


def describe_internet_gateways(
    cloud: Cloud,
    igw_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[InternetGateway], str | None]:
    """DescribeInternetGateways: every id asked for must exist; filters; pagination."""
    filters.check_filter_names(flts, GATEWAY_FILTERS)
    if igw_ids:
        found = [require_gateway(cloud, g) for g in dict.fromkeys(igw_ids)]
    else:
        rows = cloud.store.all("SELECT * FROM internet_gateways")
        all_tags = tags.for_resources(cloud, (r["igw_id"] for r in rows))
        found = [_gateway(r, all_tags[r["igw_id"]]) for r in rows]
    chosen = [g for g in found if filters.matches(flts, partial(_fields, cloud, g))]
    return filters.paginate(chosen, lambda g: g.igw_id, max_results, next_token)


def _fields(cloud: Cloud, gateway: InternetGateway, name: str) -> list[str] | None:
    attached = gateway.vpc_id is not None
    own = {
        "attachment.state": ["available"] if attached else [],
        "attachment.vpc-id": [gateway.vpc_id] if gateway.vpc_id else [],
        "internet-gateway-id": [gateway.igw_id],
        "owner-id": [cloud.account_id],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, gateway.tags)
