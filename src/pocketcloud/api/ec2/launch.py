"""RunInstances parameters, as automation tools send them, turned into a LaunchRequest.

Handles a LaunchTemplate (its data under the call's explicit parameters), a primary
NetworkInterfaces entry (mapped to subnet, groups and address), BlockDeviceMappings for
the root device, and TagSpecifications for the instance, its volume and its interface.
IamInstanceProfile (Arn or Name) gives the instances a role; EbsOptimized is accepted and
nothing here can show it back.
"""

from __future__ import annotations

from typing import Any

from pocketcloud.api.call import Call, Params
from pocketcloud.api.ec2.common import tag_dict
from pocketcloud.api.ec2.launch_templates import with_template
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.ec2.instances import Interface, LaunchRequest
from pocketcloud.services.ec2.volumes import MIN_ROOT_GIB, ROOT_DEVICE, RootDisk

TAGGABLE = ("instance", "volume", "network-interface")
#: device names that mean the image's root device
ROOT_NAMES = (ROOT_DEVICE, "xvda", "/dev/sda1")


def _combination(what: str) -> ClientError:
    return ClientError(
        "InvalidParameterCombination",
        f"Network interfaces and an instance-level {what} may not be specified on the same request",
    )


def _tags(p: Params) -> dict[str, dict[str, str]]:
    """TagSpecifications by resource type (instance, volume, network-interface)."""
    wanted: dict[str, dict[str, str]] = {kind: {} for kind in TAGGABLE}
    for spec in p.get("TagSpecifications", []):
        kind = spec.get("ResourceType")
        if kind not in wanted:
            raise InvalidParameterValue(
                f"'{kind}' is not a valid taggable resource type for this operation."
            )
        wanted[kind].update(tag_dict(spec.get("Tags", [])))
    return wanted


def _primary(p: Params) -> Params | None:
    """The one network interface a launch may describe (device index 0), or None."""
    interfaces = p.get("NetworkInterfaces") or []
    if not interfaces:
        return None
    if p.get("SubnetId"):
        raise _combination("subnet ID")
    if p.get("SecurityGroupIds") or p.get("SecurityGroups"):
        raise _combination("security groups")
    if p.get("PrivateIpAddress"):
        raise _combination("private IP address")
    if len(interfaces) > 1 or int(interfaces[0].get("DeviceIndex", 0)) != 0:
        raise InvalidParameterValue(
            "An instance here has one network interface: give only DeviceIndex 0."
        )
    first: Params = interfaces[0]
    if first.get("NetworkInterfaceId"):
        raise InvalidParameterValue(
            "Launching with an existing network interface (NetworkInterfaceId) is not "
            "supported here; give SubnetId and Groups instead."
        )
    return first


def _private_ip(nic: Params) -> str | None:
    if nic.get("PrivateIpAddress"):
        return str(nic["PrivateIpAddress"])
    for item in nic.get("PrivateIpAddresses") or []:
        if item.get("Primary", True) and item.get("PrivateIpAddress"):
            return str(item["PrivateIpAddress"])
    return None


def _root(p: Params) -> RootDisk:
    """The root device's mapping; other devices cannot be attached here."""
    disk = RootDisk()
    for mapping in p.get("BlockDeviceMappings") or []:
        name = mapping.get("DeviceName", "")
        if mapping.get("NoDevice") is not None or mapping.get("VirtualName"):
            continue
        if name not in ROOT_NAMES:
            raise InvalidParameterValue(
                f"Only the root device ({ROOT_DEVICE}) can be mapped here, not '{name}'."
            )
        ebs = mapping.get("Ebs") or {}
        if ebs.get("Encrypted"):
            raise InvalidParameterValue("Encrypted volumes are not supported here.")
        disk = RootDisk(
            int(ebs.get("VolumeSize") or MIN_ROOT_GIB),
            ebs.get("VolumeType") or "gp3",
            bool(ebs.get("DeleteOnTermination", True)),
        )
    return disk


def _image_id(p: Params) -> str:
    if not p.get("ImageId"):
        raise ClientError("MissingParameter", "The request must contain the parameter ImageId")
    return str(p["ImageId"])


def launch_request(call: Call, given: Params) -> LaunchRequest:
    """The LaunchRequest a RunInstances call (with its template, if any) asks for."""
    p, system_tags = with_template(call, given)
    nic = _primary(p) or {}
    tagged = _tags(p)
    groups: Any = nic.get("Groups") if nic else p.get("SecurityGroupIds")
    return LaunchRequest(
        image_id=_image_id(p),
        instance_type=p.get("InstanceType") or "t3.micro",
        key_name=p.get("KeyName"),
        group_ids=list(groups or []),
        group_names=[] if nic else list(p.get("SecurityGroups") or []),
        subnet_id=nic.get("SubnetId") if nic else p.get("SubnetId"),
        zone=(p.get("Placement") or {}).get("AvailabilityZone"),
        private_ip=_private_ip(nic) if nic else p.get("PrivateIpAddress"),
        user_data=p.get("UserData"),
        min_count=p["MinCount"],
        max_count=p["MaxCount"],
        tags=tagged["instance"],
        client_token=p.get("ClientToken"),
        root=_root(p),
        volume_tags=tagged["volume"],
        interface=Interface(
            description=nic.get("Description") or "",
            delete_on_termination=bool(nic.get("DeleteOnTermination", True)),
            tags=tagged["network-interface"],
        ),
        system_tags=system_tags,
        profile=_profile(p),
    )


def _profile(p: Params) -> tuple[str | None, str | None] | None:
    spec = p.get("IamInstanceProfile")
    if not spec:
        return None
    return spec.get("Arn"), spec.get("Name")
