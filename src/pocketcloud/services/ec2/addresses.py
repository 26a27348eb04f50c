"""Elastic IPs: addresses from the cloud's pool, forwarded to the instance they follow.

The store records what is allocated and where it is associated; the reconciler makes
the kernel forward each associated address to its instance's private address
(``pocketcloud.host.eip``). An address stays allocated when its instance stops or
terminates (termination disassociates it), as on EC2.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud import ids
from pocketcloud.errors import (
    ClientError,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
)
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import filters, instances, interfaces, tags
from pocketcloud.services.ec2.lifecycle import State
from pocketcloud.store.sqlite import Row

FILTERS = (
    "allocation-id",
    "association-id",
    "domain",
    "instance-id",
    "network-border-group",
    "network-interface-id",
    "network-interface-owner-id",
    "private-ip-address",
    "public-ip",
)
ASSOCIABLE = (State.RUNNING, State.STOPPED)


@dataclass(frozen=True)
class Address:
    """An Elastic IP and, when associated, where it leads."""

    allocation_id: str
    public_ip: str
    association_id: str | None = None
    instance_id: str | None = None
    eni_id: str | None = None
    private_ip: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """What AssociateAddress names: an instance or an interface, and optionally its
    private address."""

    instance_id: str | None = None
    eni_id: str | None = None
    private_ip: str | None = None


_SELECT = (
    "SELECT a.*, n.eni_id, i.private_ip FROM addresses a "
    "LEFT JOIN network_interfaces n ON n.instance_id = a.instance_id "
    "LEFT JOIN instances i ON i.instance_id = a.instance_id"
)


def _from_row(row: Row, address_tags: Mapping[str, str]) -> Address:
    associated = row["association_id"] is not None
    return Address(
        row["allocation_id"],
        row["public_ip"],
        row["association_id"],
        row["instance_id"] if associated else None,
        row["eni_id"] if associated else None,
        row["private_ip"] if associated else None,
        address_tags,
    )


def load(cloud: Cloud) -> list[Address]:
    """Every allocated address, by public address."""
    rows = cloud.store.all(_SELECT + " ORDER BY a.public_ip")
    all_tags = tags.for_resources(cloud, (r["allocation_id"] for r in rows))
    return [_from_row(r, all_tags[r["allocation_id"]]) for r in rows]


def pool(cloud: Cloud) -> ipaddress.IPv4Network:
    """The cloud's Elastic IP pool."""
    return ipaddress.IPv4Network(cloud.settings.eip_pool)


def _pick(cloud: Cloud, wanted: str | None) -> str:
    """The address to allocate: ``wanted`` if it is a free address of the pool, else the
    lowest free one (the pool is walked lazily: a large one costs no more)."""
    used = {r["public_ip"] for r in cloud.store.all("SELECT public_ip FROM addresses")}
    if wanted is not None:
        if not _in_pool(pool(cloud), wanted) or wanted in used:
            raise ClientError(
                "InvalidAddress.NotFound", f"The address '{wanted}' is not available to allocate"
            )
        return wanted
    for address in pool(cloud).hosts():
        if str(address) not in used:
            return str(address)
    raise ClientError("AddressLimitExceeded", "The maximum number of addresses has been reached.")


def _in_pool(network: ipaddress.IPv4Network, text: str) -> bool:
    """Whether ``text`` is one of the addresses ``network.hosts()`` yields."""
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return False
    ends = (network.network_address, network.broadcast_address)
    return address in network and (network.prefixlen >= 31 or address not in ends)


def allocate_address(
    cloud: Cloud, wanted: str | None = None, address_tags: Mapping[str, str] | None = None
) -> Address:
    """AllocateAddress: the lowest free address of the pool (or the one asked for, if it
    is free); AddressLimitExceeded when the pool is used up."""
    tags.validate(address_tags or {})
    with cloud.store.transaction():
        public_ip = _pick(cloud, wanted)
        allocation_id = ids.ec2_id("eipalloc")
        cloud.store.execute(
            "INSERT INTO addresses(allocation_id, public_ip, created) VALUES(?, ?, ?)",
            (allocation_id, public_ip, now()),
        )
        tags.apply(cloud, allocation_id, address_tags or {})
    return Address(allocation_id, public_ip, tags=dict(address_tags or {}))


def _check_allocation_id(allocation_id: str) -> None:
    rest = allocation_id.removeprefix("eipalloc-")
    if rest == allocation_id or not rest or any(c not in "0123456789abcdef" for c in rest):
        raise ClientError(
            "InvalidAllocationID.Malformed",
            f'Invalid id: "{allocation_id}" (expecting "eipalloc-...")',
        )


def require(cloud: Cloud, allocation_id: str | None, public_ip: str | None) -> Address:
    """One address by allocation id (or, deprecated, by public address)."""
    if allocation_id:
        _check_allocation_id(allocation_id)
        row = cloud.store.one(_SELECT + " WHERE a.allocation_id = ?", (allocation_id,))
        if row is None:
            raise ClientError(
                "InvalidAllocationID.NotFound",
                f"The allocation ID '{allocation_id}' does not exist",
            )
    elif public_ip:
        row = cloud.store.one(_SELECT + " WHERE a.public_ip = ?", (public_ip,))
        if row is None:
            raise ClientError("InvalidAddress.NotFound", f"Address '{public_ip}' not found.")
    else:
        raise MissingParameter("Either public IP or allocation id must be specified")
    return _from_row(row, tags.for_resource(cloud, row["allocation_id"]))


def _target_interface(cloud: Cloud, target: Target) -> interfaces.Interface:
    """The interface AssociateAddress points at; its instance must be running or stopped."""
    if target.instance_id and target.eni_id:
        raise InvalidParameterCombination(
            "You can specify either the instance ID or the network interface ID, but not both."
        )
    if target.instance_id:
        instance = instances.require(cloud, [target.instance_id])[0]
        found = interfaces.of_instance(cloud, instance.instance_id)
        state = instance.state
    elif target.eni_id:
        found = interfaces.require(cloud, [target.eni_id])[0]
        state = instances.require(cloud, [found.instance_id])[0].state
    else:
        raise MissingParameter("Either instance ID or network interface ID must be specified")
    if found is None or state not in ASSOCIABLE:
        raise ClientError(
            "IncorrectInstanceState",
            f"The instance '{target.instance_id or target.eni_id}' is not in a valid state "
            "for this operation.",
        )
    if target.private_ip and target.private_ip != found.private_ip:
        raise InvalidParameterValue(
            f"The private IP address {target.private_ip} is not assigned to the network "
            f"interface {found.eni_id}."
        )
    return found


def _check_gateway(cloud: Cloud, vpc_id: str) -> None:
    """EC2 refuses an Elastic IP for a VPC without an internet gateway."""
    if cloud.store.one("SELECT 1 FROM internet_gateways WHERE vpc_id = ?", (vpc_id,)) is None:
        raise ClientError(
            "Gateway.NotAttached", f"Network {vpc_id} is not attached to any internet gateway"
        )


def associate_address(
    cloud: Cloud,
    allocation_id: str | None,
    public_ip: str | None,
    target: Target,
    allow_reassociation: bool | None = None,
) -> str:
    """AssociateAddress: moves the address to the target (unless AllowReassociation is
    false and it is associated elsewhere); the target's previous Elastic IP is
    disassociated. Returns the association id; wakes the reconciler."""
    with cloud.store.transaction():
        address = require(cloud, allocation_id, public_ip)
        interface = _target_interface(cloud, target)
        if address.instance_id == interface.instance_id and address.association_id:
            return address.association_id
        if address.association_id and allow_reassociation is False:
            raise ClientError(
                "Resource.AlreadyAssociated",
                f"resource {address.allocation_id} is already associated with associate-id "
                f"{address.association_id}",
            )
        _check_gateway(cloud, interface.vpc_id)
        _disassociate_where(cloud, "instance_id = ?", interface.instance_id)
        association_id = ids.ec2_id("eipassoc")
        cloud.store.execute(
            "UPDATE addresses SET association_id = ?, instance_id = ? WHERE allocation_id = ?",
            (association_id, interface.instance_id, address.allocation_id),
        )
    cloud.wake()
    return association_id


def _disassociate_where(cloud: Cloud, condition: str, value: str) -> None:
    cloud.store.execute(
        "UPDATE addresses SET association_id = NULL, instance_id = NULL "  # noqa: S608
        f"WHERE {condition}",
        (value,),
    )


def disassociate_address(cloud: Cloud, association_id: str | None, public_ip: str | None) -> None:
    """DisassociateAddress (by association id, or deprecated, by public address); wakes
    the reconciler. Disassociating an address that is not associated does nothing."""
    with cloud.store.transaction():
        if association_id:
            found = cloud.store.one(
                "SELECT 1 FROM addresses WHERE association_id = ?", (association_id,)
            )
            if found is None:
                raise ClientError(
                    "InvalidAssociationID.NotFound",
                    f"The association ID '{association_id}' does not exist",
                )
            _disassociate_where(cloud, "association_id = ?", association_id)
        elif public_ip:
            address = require(cloud, None, public_ip)
            _disassociate_where(cloud, "allocation_id = ?", address.allocation_id)
        else:
            raise MissingParameter("Either public IP or association id must be specified")
    cloud.wake()


def disassociate_instances(cloud: Cloud, instance_ids: Sequence[str]) -> None:
    """Disassociate the addresses of these instances (termination); wakes the reconciler."""
    with cloud.store.transaction():
        for instance_id in instance_ids:
            _disassociate_where(cloud, "instance_id = ?", instance_id)
    cloud.wake()


def release_address(cloud: Cloud, allocation_id: str | None, public_ip: str | None) -> None:
    """ReleaseAddress: an associated address is refused (InvalidIPAddress.InUse)."""
    if not allocation_id and public_ip:
        raise InvalidParameterValue(
            "You must specify an allocation id when releasing a VPC elastic IP address"
        )
    with cloud.store.transaction():
        address = require(cloud, allocation_id, None)
        if address.association_id:
            raise ClientError("InvalidIPAddress.InUse", f"Address {address.public_ip} is in use.")
        cloud.store.execute(
            "DELETE FROM addresses WHERE allocation_id = ?", (address.allocation_id,)
        )
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (address.allocation_id,))


def describe_addresses(
    cloud: Cloud,
    public_ips: Sequence[str],
    allocation_ids: Sequence[str],
    flts: Sequence[filters.Filter],
) -> list[Address]:
    """DescribeAddresses: by public address, allocation id and filters (no pagination)."""
    filters.check_filter_names(flts, FILTERS)
    for allocation_id in allocation_ids:
        require(cloud, allocation_id, None)
    for public_ip in public_ips:
        require(cloud, None, public_ip)
    found = [
        a
        for a in load(cloud)
        if (not public_ips or a.public_ip in public_ips)
        and (not allocation_ids or a.allocation_id in allocation_ids)
    ]
    return [a for a in found if filters.matches(flts, partial(_fields, cloud, a))]


def _fields(cloud: Cloud, a: Address, name: str) -> list[str] | None:
    def one(value: str | None) -> list[str]:
        return [value] if value else []

    own = {
        "allocation-id": [a.allocation_id],
        "association-id": one(a.association_id),
        "domain": ["vpc"],
        "instance-id": one(a.instance_id),
        "network-border-group": [cloud.region],
        "network-interface-id": one(a.eni_id),
        "network-interface-owner-id": [cloud.account_id] if a.eni_id else [],
        "private-ip-address": one(a.private_ip),
        "public-ip": [a.public_ip],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, a.tags)


@dataclass(frozen=True)
class Association:
    """An associated address as the kernel must forward it."""

    public_ip: str
    private_ip: str
    instance_id: str


def associations(cloud: Cloud) -> list[Association]:
    """Every associated address, with its instance's private address (one query)."""
    rows = cloud.store.all(
        "SELECT a.public_ip, i.private_ip, i.instance_id FROM addresses a "
        "JOIN instances i ON i.instance_id = a.instance_id "
        "WHERE a.association_id IS NOT NULL ORDER BY a.public_ip"
    )
    return [Association(r["public_ip"], r["private_ip"], r["instance_id"]) for r in rows]
