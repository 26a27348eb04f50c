"""Network interfaces: every instance's primary interface (its eth0), as EC2 shows it.

An interface's subnet, private address and security groups are its instance's; its
MAC is the one the instance's eth0 gets. An instance's public address is its Elastic
IP when one is associated, else (while it runs, in a subnet that maps public
addresses on launch) its private address, which the host reaches directly.
Interfaces of terminated instances are gone, as EC2 deletes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud.errors import ClientError, InvalidParameterCombination, MissingParameter
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters, instances, network, tags
from pocketcloud.services.ec2.lifecycle import LIVE, State
from pocketcloud.store.sqlite import Row

FILTERS = (
    "addresses.association.owner-id",
    "addresses.association.public-ip",
    "addresses.primary",
    "addresses.private-ip-address",
    "association.allocation-id",
    "association.association-id",
    "association.ip-owner-id",
    "association.public-ip",
    "association.public-dns-name",
    "attachment.attach-time",
    "attachment.attachment-id",
    "attachment.delete-on-termination",
    "attachment.device-index",
    "attachment.instance-id",
    "attachment.instance-owner-id",
    "attachment.status",
    "availability-zone",
    "availability-zone-id",
    "description",
    "group-id",
    "group-name",
    "ipv6-addresses.ipv6-address",
    "interface-type",
    "mac-address",
    "network-interface-id",
    "operator.managed",
    "operator.principal",
    "owner-id",
    "private-dns-name",
    "private-ip-address",
    "requester-id",
    "requester-managed",
    "source-dest-check",
    "source-desk-check",  # an old misspelling AWS still accepts
    "status",
    "subnet-id",
    "vpc-id",
)
ATTRIBUTES = (
    "description",
    "groupSet",
    "sourceDestCheck",
    "attachment",
    "associatePublicIpAddress",
)
#: who owns an address EC2 assigned on launch (an Elastic IP is owned by the account)
AMAZON = "amazon"


@dataclass(frozen=True)
class PublicAddress:
    """The public address of an interface: an Elastic IP, or the one given at launch."""

    public_ip: str
    allocation_id: str | None = None  # None: assigned at launch (the private address here)
    association_id: str | None = None


@dataclass(frozen=True)
class Interface:
    """One instance's primary network interface, with what it takes from the instance."""

    eni_id: str
    instance_id: str
    attachment_id: str
    mac: str
    description: str
    source_dest_check: bool
    delete_on_termination: bool
    attach_time: str
    subnet_id: str
    vpc_id: str
    zone: str
    private_ip: str
    map_public_ip: bool
    groups: tuple[tuple[str, str], ...] = ()  # (group id, group name)
    public: PublicAddress | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def private_dns_name(self) -> str:
        """EC2's internal name for the address: ``ip-10-0-0-5.ec2.internal``."""
        return "ip-" + self.private_ip.replace(".", "-") + ".ec2.internal"


_SELECT = (
    "SELECT n.*, i.subnet_id, i.private_ip, i.state, s.vpc_id, s.zone, s.map_public_ip, "
    "a.allocation_id, a.public_ip, a.association_id "
    "FROM network_interfaces n JOIN instances i ON i.instance_id = n.instance_id "
    "JOIN subnets s ON s.subnet_id = i.subnet_id "
    "LEFT JOIN addresses a ON a.instance_id = n.instance_id AND a.association_id IS NOT NULL "
    "WHERE i.state != 'terminated'"
)


def _public(row: Row) -> PublicAddress | None:
    if row["association_id"] is not None:
        return PublicAddress(row["public_ip"], row["allocation_id"], row["association_id"])
    if row["map_public_ip"] and State(row["state"]) in LIVE:
        return PublicAddress(row["private_ip"])
    return None


def _from_row(
    row: Row, groups: Sequence[tuple[str, str]], eni_tags: Mapping[str, str]
) -> Interface:
    return Interface(
        eni_id=row["eni_id"],
        instance_id=row["instance_id"],
        attachment_id=row["attachment_id"],
        mac=row["mac"],
        description=row["description"],
        source_dest_check=bool(row["source_dest_check"]),
        delete_on_termination=bool(row["delete_on_termination"]),
        attach_time=row["attach_time"],
        subnet_id=row["subnet_id"],
        vpc_id=row["vpc_id"],
        zone=row["zone"],
        private_ip=row["private_ip"],
        map_public_ip=bool(row["map_public_ip"]),
        groups=tuple(groups),
        public=_public(row),
        tags=eni_tags,
    )


def load(
    cloud: Cloud, *, instance_ids: Sequence[str] | None = None, eni_ids: Sequence[str] | None = None
) -> list[Interface]:
    """Interfaces of instances that are not terminated (all, or by instance or by id)."""
    sql, params = _SELECT, []
    for column, wanted in (("n.instance_id", instance_ids), ("n.eni_id", eni_ids)):
        if wanted is not None:
            sql += f" AND {column} IN ({','.join('?' * len(wanted))})"
            params += list(wanted)
    rows = cloud.store.all(sql + " ORDER BY n.eni_id", params)
    groups = _groups(cloud, [r["instance_id"] for r in rows] if len(rows) < 100 else None)
    all_tags = tags.for_resources(cloud, (r["eni_id"] for r in rows))
    return [_from_row(r, groups.get(r["instance_id"], ()), all_tags[r["eni_id"]]) for r in rows]


def _groups(cloud: Cloud, instance_ids: Sequence[str] | None) -> dict[str, list[tuple[str, str]]]:
    """Instances' (group id, name) pairs in order: these instances' (one query each way:
    an instance view asks for one), or everyone's."""
    sql = (
        "SELECT ig.instance_id, ig.group_id, g.name FROM instance_groups ig "
        "JOIN security_groups g ON g.group_id = ig.group_id"
    )
    params: list[str] = []
    if instance_ids is not None:
        sql += f" WHERE ig.instance_id IN ({','.join('?' * len(instance_ids))})"
        params = list(instance_ids)
    found: dict[str, list[tuple[str, str]]] = {}
    for g in cloud.store.all(sql + " ORDER BY ig.position", params):
        found.setdefault(g["instance_id"], []).append((g["group_id"], g["name"]))
    return found


def of_instance(cloud: Cloud, instance_id: str) -> Interface | None:
    """The instance's primary interface (None once it is terminated)."""
    found = load(cloud, instance_ids=[instance_id])
    return found[0] if found else None


def check_id(eni_id: str) -> None:
    """InvalidNetworkInterfaceID.Malformed unless the id looks like ``eni-`` + hex."""
    rest = eni_id[4:]
    if not eni_id.startswith("eni-") or not rest or any(c not in "0123456789abcdef" for c in rest):
        raise ClientError(
            "InvalidNetworkInterfaceID.Malformed", f'Invalid id: "{eni_id}" (expecting "eni-...")'
        )


def require(cloud: Cloud, eni_ids: Sequence[str]) -> list[Interface]:
    """The named interfaces, in the order asked; NotFound for the first missing one."""
    for eni_id in eni_ids:
        check_id(eni_id)
    found = {i.eni_id: i for i in load(cloud, eni_ids=list(eni_ids))}
    for eni_id in eni_ids:
        if eni_id not in found:
            raise ClientError(
                "InvalidNetworkInterfaceID.NotFound",
                f"The networkInterface ID '{eni_id}' does not exist",
            )
    return [found[e] for e in dict.fromkeys(eni_ids)]


def describe_network_interfaces(
    cloud: Cloud,
    eni_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Interface], str | None]:
    """DescribeNetworkInterfaces: by id and filters, paginated."""
    filters.check_filter_names(flts, FILTERS)
    if max_results is not None and eni_ids:
        raise InvalidParameterCombination(
            "The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults"
        )
    found = require(cloud, eni_ids) if eni_ids else load(cloud)
    chosen = [i for i in found if filters.matches(flts, partial(_fields, cloud, i))]
    return filters.paginate(chosen, lambda i: i.eni_id, max_results, next_token)


def _bool(value: bool) -> list[str]:
    return [str(value).lower()]


def _association_fields(cloud: Cloud, i: Interface) -> dict[str, list[str]]:
    public = i.public
    if public is None:
        return {}
    owner = cloud.account_id if public.allocation_id else AMAZON
    return {
        "association.public-ip": [public.public_ip],
        "association.public-dns-name": [public.public_ip],
        "association.ip-owner-id": [owner],
        "association.allocation-id": [public.allocation_id] if public.allocation_id else [],
        "association.association-id": [public.association_id] if public.association_id else [],
        "addresses.association.public-ip": [public.public_ip],
        "addresses.association.owner-id": [owner],
    }


def _fields(cloud: Cloud, i: Interface, name: str) -> list[str] | None:
    own = {
        "addresses.primary": ["true"],
        "addresses.private-ip-address": [i.private_ip],
        "attachment.attach-time": [i.attach_time],
        "attachment.attachment-id": [i.attachment_id],
        "attachment.delete-on-termination": _bool(i.delete_on_termination),
        "attachment.device-index": ["0"],
        "attachment.instance-id": [i.instance_id],
        "attachment.instance-owner-id": [cloud.account_id],
        "attachment.status": ["attached"],
        "availability-zone": [i.zone],
        "availability-zone-id": [network.zone_id(cloud, i.zone)],
        "description": [i.description],
        "group-id": [g[0] for g in i.groups],
        "group-name": [g[1] for g in i.groups],
        "ipv6-addresses.ipv6-address": [],
        "interface-type": ["interface"],
        "mac-address": [i.mac],
        "network-interface-id": [i.eni_id],
        "operator.managed": ["false"],
        "operator.principal": [],
        "owner-id": [cloud.account_id],
        "private-dns-name": [i.private_dns_name],
        "private-ip-address": [i.private_ip],
        "requester-id": [],
        "requester-managed": ["false"],
        "source-dest-check": _bool(i.source_dest_check),
        "source-desk-check": _bool(i.source_dest_check),
        "status": ["in-use"],
        "subnet-id": [i.subnet_id],
        "vpc-id": [i.vpc_id],
    }
    if name.startswith(("association.", "addresses.association.")):
        return _association_fields(cloud, i).get(name, [])
    found = own.get(name)
    return found if found is not None else filters.tag_fields(name, i.tags)


@dataclass(frozen=True)
class InterfaceChange:
    """What ModifyNetworkInterfaceAttribute asks for: exactly one attribute."""

    description: str | None = None
    source_dest_check: bool | None = None
    group_ids: Sequence[str] | None = None
    attachment_id: str | None = None
    delete_on_termination: bool | None = None

    def count(self) -> int:
        """How many attributes the change names (Attachment counts as one)."""
        given = (self.description, self.source_dest_check, self.group_ids)
        attachment = self.attachment_id is not None or self.delete_on_termination is not None
        return sum(v is not None for v in given) + int(attachment)


def modify_network_interface_attribute(cloud: Cloud, eni_id: str, change: InterfaceChange) -> None:
    """ModifyNetworkInterfaceAttribute: one attribute at a time, as on EC2. Groups act as
    ModifyInstanceAttribute's do (the firewall follows; wakes the reconciler)."""
    if change.count() != 1:
        raise InvalidParameterCombination(
            "Exactly one of description, sourceDestCheck, groupSet or attachment must be given"
        )
    if change.group_ids is not None:
        with cloud.store.transaction():
            interface = require(cloud, [eni_id])[0]
            instances.change_groups(cloud, interface.instance_id, change.group_ids)
        cloud.wake()
        return
    with cloud.store.transaction():
        interface = require(cloud, [eni_id])[0]
        if change.description is not None:
            _update(cloud, eni_id, "description", change.description)
        elif change.source_dest_check is not None:
            _update(cloud, eni_id, "source_dest_check", int(change.source_dest_check))
        else:
            _modify_attachment(cloud, interface, change)


def set_source_dest_check(cloud: Cloud, instance_id: str, enabled: bool) -> None:
    """ModifyInstanceAttribute's SourceDestCheck: the primary interface's (call inside a
    transaction)."""
    cloud.store.execute(
        "UPDATE network_interfaces SET source_dest_check = ? WHERE instance_id = ?",
        (int(enabled), instance_id),
    )


def _update(cloud: Cloud, eni_id: str, column: str, value: str | int) -> None:
    cloud.store.execute(
        f"UPDATE network_interfaces SET {column} = ? WHERE eni_id = ?",  # noqa: S608 (fixed names)
        (value, eni_id),
    )


def _modify_attachment(cloud: Cloud, interface: Interface, change: InterfaceChange) -> None:
    if change.attachment_id is None:
        raise MissingParameter("The request must contain the parameter attachment.attachmentId")
    if change.attachment_id != interface.attachment_id:
        raise ClientError(
            "InvalidAttachmentID.NotFound",
            f"The attachment ID '{change.attachment_id}' does not exist",
        )
    if change.delete_on_termination is not None:
        _update(cloud, interface.eni_id, "delete_on_termination", int(change.delete_on_termination))


def check_attribute(name: str) -> None:
    """InvalidParameterValue for an attribute DescribeNetworkInterfaceAttribute lacks."""
    if name not in ATTRIBUTES:
        raise ClientError(
            "InvalidParameterValue", f"Value ({name}) for parameter attribute is invalid."
        )
