"""Instances: RunInstances and DescribeInstances (state changes are in instance_actions).

The API records what the user wants; the reconciler makes the host match it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import (
    filters,
    images,
    instance_types,
    key_pairs,
    network,
    tags,
    volumes,
)
from pocketcloud.services.ec2 import profiles as ec2_profiles
from pocketcloud.services.ec2 import security_groups as sg
from pocketcloud.services.ec2.lifecycle import State
from pocketcloud.store.sqlite import Row

MAX_USER_DATA = 16 * 1024
MAX_LIVE_INSTANCES = 256
ROOT_DEVICE = "/dev/xvda"
MAX_GROUPS_PER_INTERFACE = 5  # EC2's default quota (an instance here has one interface)
FILTERS = (
    "instance-id",
    "instance-state-name",
    "instance-state-code",
    "key-name",
    "image-id",
    "private-ip-address",
    "instance-type",
    "vpc-id",
    "subnet-id",
    "availability-zone",
    "reservation-id",
    "instance.group-id",
    "instance.group-name",
    "group-id",
    "private-dns-name",
    "owner-id",
    "requester-id",
)


@dataclass(frozen=True)
class Instance:
    """One instance as stored, with its groups and tags."""

    instance_id: str
    reservation_id: str
    launch_index: int
    image_id: str
    instance_type: str
    key_name: str | None
    public_key: str | None
    subnet_id: str
    vpc_id: str
    zone: str
    private_ip: str
    state: State
    state_reason: str
    launch_time: str
    state_changed: str
    group_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    client_token: str | None = None
    #: the IAM instance profile's (ARN, id), while one is associated
    profile: tuple[str, str] | None = None

    @property
    def hostname(self) -> str:
        """EC2's resource name for the instance: ``ip-10-0-0-5``."""
        return "ip-" + self.private_ip.replace(".", "-")


@dataclass(frozen=True)
class Interface:
    """What a launch asks of the primary network interface (beyond subnet and address)."""

    description: str = ""
    delete_on_termination: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LaunchRequest:
    """What RunInstances asks for, in domain terms."""

    image_id: str
    instance_type: str = "t3.micro"
    key_name: str | None = None
    group_ids: Sequence[str] = ()
    group_names: Sequence[str] = ()
    subnet_id: str | None = None
    zone: str | None = None
    private_ip: str | None = None
    user_data: str | None = None  # base64, as on the wire
    min_count: int = 1
    max_count: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)
    client_token: str | None = None
    root: volumes.RootDisk = field(default_factory=volumes.RootDisk)
    volume_tags: Mapping[str, str] = field(default_factory=dict)
    interface: Interface = field(default_factory=Interface)
    #: tags AWS itself puts on the instance (``aws:ec2launchtemplate:id``), not validated
    system_tags: Mapping[str, str] = field(default_factory=dict)
    #: IamInstanceProfile: its (Arn, Name), either may be None
    profile: tuple[str | None, str | None] | None = None


@dataclass(frozen=True)
class Reservation:
    """The instances one RunInstances call launched."""

    reservation_id: str
    instances: list[Instance]


def decode_user_data(text: str | None) -> bytes | None:
    """User data arrives base64-encoded; InvalidParameterValue if it is not."""
    if not text:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValue("Invalid BASE64 encoding of user data.") from exc
    if len(raw) > MAX_USER_DATA:
        raise InvalidParameterValue("User data is limited to 16384 bytes")
    return raw


def _check_counts(request: LaunchRequest) -> None:
    if request.min_count < 1 or request.max_count < 1:
        raise InvalidParameterValue("MinCount and MaxCount must each be at least 1")
    if request.min_count > request.max_count:
        raise InvalidParameterValue("MinCount must be less than or equal to MaxCount")


def _subnet(cloud: Cloud, request: LaunchRequest) -> network.Subnet:
    if request.subnet_id:
        return network.require_subnet(cloud, request.subnet_id)
    subnets, _ = network.describe_subnets(cloud, [], [], None, None)
    defaults = sorted((s for s in subnets if s.default_for_az), key=lambda s: s.zone)
    if request.zone:
        defaults = [s for s in defaults if s.zone == request.zone]
        if not defaults:
            raise InvalidParameterValue(f"Invalid availability zone: [{request.zone}]")
    if not defaults:
        raise ClientError("VPCIdNotSpecified", "No default VPC for this user")
    return defaults[0]


def _groups(cloud: Cloud, request: LaunchRequest, vpc_id: str) -> list[str]:
    wanted = [sg.resolve(cloud, gid, None) for gid in request.group_ids]
    wanted += [sg.resolve(cloud, None, name) for name in request.group_names]
    for group_id in wanted:
        if sg.get(cloud, group_id).vpc_id != vpc_id:
            raise InvalidParameterValue(
                f"Security group {group_id} and subnet belong to different networks."
            )
    if not wanted:
        found = cloud.store.scalar(
            "SELECT group_id FROM security_groups WHERE vpc_id = ? AND name = 'default'",
            (vpc_id,),
        )
        wanted = [str(found)]
    return list(dict.fromkeys(wanted))


def _free_ips(cloud: Cloud, subnet: network.Subnet) -> list[str]:
    """Addresses of the subnet no live instance holds (AWS keeps the first 4 and the last)."""
    used = {
        r["private_ip"]
        for r in cloud.store.all(
            "SELECT private_ip FROM instances WHERE subnet_id = ? AND state != 'terminated'",
            (subnet.subnet_id,),
        )
    }
    net = ipaddress.ip_network(subnet.cidr)
    free = []
    for offset in range(4, net.num_addresses - 1):
        address = str(net.network_address + offset)
        if address not in used:
            free.append(address)
        if len(free) >= MAX_LIVE_INSTANCES:
            break
    return free


def _addresses(cloud: Cloud, subnet: network.Subnet, request: LaunchRequest) -> list[str]:
    free = _free_ips(cloud, subnet)
    if request.private_ip:
        if request.max_count > 1:
            raise InvalidParameterValue("PrivateIpAddress can be used with one instance only")
        if request.private_ip not in free:
            raise ClientError(
                "InvalidIPAddress.InUse",
                f"Address {request.private_ip} is in use or outside subnet {subnet.subnet_id}",
            )
        return [request.private_ip]
    live = cloud.store.scalar("SELECT count(*) FROM instances WHERE state != 'terminated'")
    room = min(len(free), MAX_LIVE_INSTANCES - int(live))
    if room < request.min_count:
        raise ClientError(
            "InsufficientInstanceCapacity",
            f"There is room for {max(room, 0)} more instances; MinCount is {request.min_count}.",
        )
    return free[: min(room, request.max_count)]


def run_instances(cloud: Cloud, request: LaunchRequest, requester: str) -> Reservation:
    """RunInstances: records the instances as pending (one transaction), wakes the reconciler."""
    reservation = _record_launch(cloud, request, requester)
    cloud.wake()
    return reservation


def _record_launch(cloud: Cloud, request: LaunchRequest, requester: str) -> Reservation:
    _check_counts(request)
    instance_type = instance_types.lookup(request.instance_type)
    user_data = decode_user_data(request.user_data)
    for wanted in (request.tags, request.volume_tags, request.interface.tags):
        tags.validate(wanted)
    volumes.check_root(request.root)
    with cloud.store.transaction():
        if request.client_token:
            found = _by_token(cloud, request.client_token)
            if found is not None:
                return found
        image = images.require(cloud, request.image_id)
        instance_types.check_architecture(instance_type, image.architecture)
        public_key = None
        if request.key_name:
            public_key = key_pairs.get_by_name(cloud, request.key_name).public_key
        profile = ec2_profiles.resolve(cloud, *request.profile) if request.profile else None
        subnet = _subnet(cloud, request)
        group_ids = _groups(cloud, request, subnet.vpc_id)
        addresses = _addresses(cloud, subnet, request)
        reservation_id = ids.ec2_id("r")
        stamp = now()
        cloud.store.execute(
            "INSERT INTO reservations(reservation_id, client_token, requester, created) "
            "VALUES(?, ?, ?, ?)",
            (reservation_id, request.client_token, requester, stamp),
        )
        for index, address in enumerate(addresses):
            instance_id = ids.ec2_id("i")
            cloud.store.execute(
                "INSERT INTO instances(instance_id, reservation_id, launch_index, image_id, "
                "instance_type, key_name, public_key, subnet_id, private_ip, state, user_data, "
                "launch_time, state_changed) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                (
                    instance_id,
                    reservation_id,
                    index,
                    request.image_id,
                    instance_type.name,
                    request.key_name,
                    public_key,
                    subnet.subnet_id,
                    address,
                    user_data,
                    stamp,
                    stamp,
                ),
            )
            set_groups(cloud, instance_id, group_ids)
            _record_parts(cloud, instance_id, subnet.zone, stamp, request)
            tags.apply(cloud, instance_id, request.tags)
            _apply_system_tags(cloud, instance_id, request.system_tags)
            if profile is not None:
                ec2_profiles.associate(cloud, instance_id, profile)
        return Reservation(reservation_id, load(cloud, reservation_id=reservation_id))


def _record_parts(
    cloud: Cloud, instance_id: str, zone: str, stamp: str, request: LaunchRequest
) -> None:
    """The instance's primary network interface and root volume, with their tags."""
    eni_id, volume_id, nic, root = (
        ids.ec2_id("eni"),
        ids.ec2_id("vol"),
        request.interface,
        request.root,
    )
    cloud.store.execute(
        "INSERT INTO network_interfaces(eni_id, instance_id, attachment_id, mac, description, "
        "delete_on_termination, attach_time) VALUES(?, ?, ?, ?, ?, ?, ?)",
        (
            eni_id,
            instance_id,
            ids.ec2_id("eni-attach"),
            ids.mac_address(),
            nic.description,
            int(nic.delete_on_termination),
            stamp,
        ),
    )
    cloud.store.execute(
        "INSERT INTO volumes(volume_id, instance_id, device, size_gib, volume_type, zone, state, "
        "delete_on_termination, created, attach_time) VALUES(?, ?, ?, ?, ?, ?, 'in-use', ?, ?, ?)",
        (
            volume_id,
            instance_id,
            ROOT_DEVICE,
            root.size_gib,
            root.volume_type,
            zone,
            int(root.delete_on_termination),
            stamp,
            stamp,
        ),
    )
    tags.apply(cloud, eni_id, nic.tags)
    tags.apply(cloud, volume_id, request.volume_tags)


def _apply_system_tags(cloud: Cloud, instance_id: str, system: Mapping[str, str]) -> None:
    """Tags under ``aws:``, which users may not set but AWS sets itself."""
    cloud.store.executemany(
        "INSERT OR REPLACE INTO tags(resource_id, key, value) VALUES(?, ?, ?)",
        [(instance_id, key, value) for key, value in system.items()],
    )


def _by_token(cloud: Cloud, token: str) -> Reservation | None:
    reservation_id = cloud.store.scalar(
        "SELECT reservation_id FROM reservations WHERE client_token = ?", (token,)
    )
    if reservation_id is None:
        return None
    return Reservation(str(reservation_id), load(cloud, reservation_id=str(reservation_id)))


def change_groups(cloud: Cloud, instance_id: str, group_ids: Sequence[str]) -> None:
    """ModifyInstanceAttribute's (and the primary interface's) groupSet: the groups, each in
    the instance's VPC, replace its own (call inside a transaction; the caller wakes the
    reconciler, and the firewall follows)."""
    instance = require(cloud, [instance_id])[0]
    if instance.state is State.TERMINATED:
        raise ClientError("IncorrectInstanceState", f"The instance '{instance_id}' is terminated.")
    if not group_ids:
        raise InvalidParameterValue("An instance needs at least one security group")
    for group_id in group_ids:
        if sg.get(cloud, sg.resolve(cloud, group_id, None)).vpc_id != instance.vpc_id:
            raise InvalidParameterValue(f"Security group {group_id} is not in the instance's VPC")
    set_groups(cloud, instance_id, list(dict.fromkeys(group_ids)))


def set_groups(cloud: Cloud, instance_id: str, group_ids: Sequence[str]) -> None:
    """Replace an instance's security groups (call inside a transaction)."""
    if len(group_ids) > MAX_GROUPS_PER_INTERFACE:
        raise ClientError(
            "SecurityGroupsPerInterfaceLimitExceeded",
            "The maximum number of security groups per interface has been reached.",
        )
    cloud.store.execute("DELETE FROM instance_groups WHERE instance_id = ?", (instance_id,))
    cloud.store.executemany(
        "INSERT INTO instance_groups(instance_id, group_id, position) VALUES(?, ?, ?)",
        [(instance_id, gid, pos) for pos, gid in enumerate(group_ids)],
    )


def _from_row(
    row: Row,
    groups: tuple[str, ...],
    instance_tags: Mapping[str, str],
    profile: ec2_profiles.Association | None,
) -> Instance:
    return Instance(
        row["instance_id"],
        row["reservation_id"],
        row["launch_index"],
        row["image_id"],
        row["instance_type"],
        row["key_name"],
        row["public_key"],
        row["subnet_id"],
        row["vpc_id"],
        row["zone"],
        row["private_ip"],
        State(row["state"]),
        row["state_reason"],
        row["launch_time"],
        row["state_changed"],
        groups,
        instance_tags,
        row["client_token"],
        (profile.profile_arn, profile.profile_id) if profile else None,
    )


def load(
    cloud: Cloud, *, reservation_id: str | None = None, instance_ids: Sequence[str] | None = None
) -> list[Instance]:
    """Instances with their groups and tags (all of them, or one reservation's, or by id)."""
    sql = (
        "SELECT i.*, s.vpc_id, s.zone, r.client_token FROM instances i "
        "JOIN subnets s ON s.subnet_id = i.subnet_id "
        "JOIN reservations r ON r.reservation_id = i.reservation_id"
    )
    params: list[str] = []
    if reservation_id is not None:
        sql += " WHERE i.reservation_id = ?"
        params.append(reservation_id)
    elif instance_ids is not None:
        sql += f" WHERE i.instance_id IN ({','.join('?' * len(instance_ids))})"
        params += list(instance_ids)
    rows = cloud.store.all(sql + " ORDER BY i.launch_time, i.launch_index", params)
    groups: dict[str, list[str]] = {}
    for g in cloud.store.all("SELECT instance_id, group_id FROM instance_groups ORDER BY position"):
        groups.setdefault(g["instance_id"], []).append(g["group_id"])
    all_tags = tags.for_resources(cloud, (r["instance_id"] for r in rows))
    linked = ec2_profiles.live(cloud)
    return [
        _from_row(
            r,
            tuple(groups.get(r["instance_id"], ())),
            all_tags[r["instance_id"]],
            linked.get(r["instance_id"]),
        )
        for r in rows
    ]


def check_id(instance_id: str) -> None:
    """InvalidInstanceID.Malformed unless the id looks like ``i-`` + hex."""
    rest = instance_id[2:]
    if (
        not instance_id.startswith("i-")
        or not rest
        or any(c not in "0123456789abcdef" for c in rest)
    ):
        raise ClientError("InvalidInstanceID.Malformed", f'Invalid id: "{instance_id}"')


def require(cloud: Cloud, instance_ids: Sequence[str]) -> list[Instance]:
    """The named instances, in the order asked; NotFound names every missing one."""
    for instance_id in instance_ids:
        check_id(instance_id)
    found = {i.instance_id: i for i in load(cloud, instance_ids=list(instance_ids))}
    missing = [i for i in instance_ids if i not in found]
    if len(missing) == 1:
        raise ClientError(
            "InvalidInstanceID.NotFound", f"The instance ID '{missing[0]}' does not exist"
        )
    if missing:
        listed = ", ".join(missing)
        raise ClientError("InvalidInstanceID.NotFound", f"The instance IDs '{listed}' do not exist")
    return [found[i] for i in dict.fromkeys(instance_ids)]


ViewFields = Callable[[Instance, str], list[str]]


def describe_instances(
    cloud: Cloud,
    instance_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
    view_fields: tuple[Sequence[str], ViewFields] | None = None,
) -> tuple[list[Reservation], str | None]:
    """DescribeInstances: reservations of the matching instances, paginated by instance.

    ``view_fields`` (the names and a reader) answers the filters that read what the API
    shows of an instance rather than what is stored (its interfaces, volumes, options)."""
    extra_names, extra = view_fields if view_fields is not None else ((), None)
    filters.check_filter_names(flts, (*FILTERS, *extra_names))
    if max_results is not None and instance_ids:
        raise ClientError(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        )
    found = require(cloud, instance_ids) if instance_ids else load(cloud)
    names = {
        g.group_id: g.name for g in sg.describe_security_groups(cloud, [], [], [], None, None)[0]
    }

    def fields(i: Instance, name: str) -> list[str] | None:
        own = _fields(cloud, names, i, name)
        if own is None and extra is not None and name in extra_names:
            return extra(i, name)
        return own

    chosen = [i for i in found if filters.matches(flts, partial(fields, i))]
    page, token = filters.paginate(chosen, lambda i: i.instance_id, max_results, next_token)
    return group_by_reservation(page), token


def group_by_reservation(found: Sequence[Instance]) -> list[Reservation]:
    """Instances grouped into their reservations, first-launched first."""
    grouped: dict[str, list[Instance]] = {}
    for instance in sorted(found, key=lambda i: (i.launch_time, i.launch_index)):
        grouped.setdefault(instance.reservation_id, []).append(instance)
    return [Reservation(rid, items) for rid, items in grouped.items()]


def _fields(cloud: Cloud, names: Mapping[str, str], i: Instance, name: str) -> list[str] | None:
    own = {
        "owner-id": [cloud.account_id],
        "requester-id": [],
        "instance-id": [i.instance_id],
        "instance-state-name": [i.state.value],
        "instance-state-code": [str(i.state.code)],
        "key-name": [i.key_name] if i.key_name else [],
        "image-id": [i.image_id],
        "private-ip-address": [i.private_ip] if i.state is not State.TERMINATED else [],
        "instance-type": [i.instance_type],
        "vpc-id": [i.vpc_id],
        "subnet-id": [i.subnet_id],
        "availability-zone": [i.zone],
        "reservation-id": [i.reservation_id],
        "instance.group-id": list(i.group_ids),
        "group-id": list(i.group_ids),
        "instance.group-name": [names.get(g, "") for g in i.group_ids],
        "private-dns-name": [f"{i.hostname}.ec2.internal"],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, i.tags)
