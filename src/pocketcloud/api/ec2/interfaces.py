"""EC2 network interface wire handlers, and the network parts of an Instance."""

from __future__ import annotations

from typing import Any

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_list
from pocketcloud.services.ec2 import interfaces, network
from pocketcloud.services.ec2.instances import Instance
from pocketcloud.services.ec2.interfaces import Interface, InterfaceChange

NOT_MANAGED: Result = {"Managed": False}  # no AWS service manages an instance's interface


def _association(call: Call, i: Interface, *, instance_form: bool = False) -> Result | None:
    """NetworkInterfaceAssociation (or its instance form, which omits the ids)."""
    public = i.public
    if public is None:
        return None
    out: Result = {
        "PublicIp": public.public_ip,
        # the address itself: no DNS serves EC2-style public names here
        "PublicDnsName": public.public_ip,
        "IpOwnerId": call.cloud.account_id if public.allocation_id else interfaces.AMAZON,
    }
    if public.allocation_id and not instance_form:
        out |= {"AllocationId": public.allocation_id, "AssociationId": public.association_id}
    return out


def _groups(i: Interface) -> list[Result]:
    return [{"GroupId": gid, "GroupName": name} for gid, name in i.groups]


def _private_addresses(call: Call, i: Interface, *, instance_form: bool = False) -> list[Result]:
    return [
        {
            "Primary": True,
            "PrivateIpAddress": i.private_ip,
            "PrivateDnsName": i.private_dns_name,
            "Association": _association(call, i, instance_form=instance_form),
        }
    ]


def _attachment(call: Call, i: Interface) -> Result:
    return {
        "AttachmentId": i.attachment_id,
        "AttachTime": i.attach_time,
        "DeleteOnTermination": i.delete_on_termination,
        "DeviceIndex": 0,
        "NetworkCardIndex": 0,
        "InstanceId": i.instance_id,
        "InstanceOwnerId": call.cloud.account_id,
        "Status": "attached",
    }


def interface_view(call: Call, i: Interface) -> Result:
    """A NetworkInterface structure as EC2 returns it."""
    return {
        "NetworkInterfaceId": i.eni_id,
        "Association": _association(call, i),
        "Attachment": _attachment(call, i),
        "AvailabilityZone": i.zone,
        "AvailabilityZoneId": network.zone_id(call.cloud, i.zone),
        "Description": i.description,
        "Groups": _groups(i),
        "InterfaceType": "interface",
        "Ipv6Addresses": [],
        "MacAddress": i.mac,
        "OwnerId": call.cloud.account_id,
        "PrivateDnsName": i.private_dns_name,
        "PrivateIpAddress": i.private_ip,
        "PrivateIpAddresses": _private_addresses(call, i),
        "RequesterManaged": False,
        "SourceDestCheck": i.source_dest_check,
        "Status": "in-use",
        "SubnetId": i.subnet_id,
        "VpcId": i.vpc_id,
        "TagSet": tag_list(i.tags),
        "Operator": NOT_MANAGED,
    }


def _instance_interface(call: Call, i: Interface) -> Result:
    """An InstanceNetworkInterface: the interface as an Instance lists it."""
    attachment = _attachment(call, i)
    for absent in ("InstanceId", "InstanceOwnerId"):
        attachment.pop(absent)
    return {
        "Association": _association(call, i, instance_form=True),
        "Attachment": attachment,
        "Description": i.description,
        "Groups": _groups(i),
        "Ipv6Addresses": [],
        "MacAddress": i.mac,
        "NetworkInterfaceId": i.eni_id,
        "OwnerId": call.cloud.account_id,
        "PrivateDnsName": i.private_dns_name,
        "PrivateIpAddress": i.private_ip,
        "PrivateIpAddresses": _private_addresses(call, i, instance_form=True),
        "SourceDestCheck": i.source_dest_check,
        "Status": "in-use",
        "SubnetId": i.subnet_id,
        "VpcId": i.vpc_id,
        "InterfaceType": "interface",
        "Operator": NOT_MANAGED,
    }


def instance_network(call: Call, instance: Instance) -> Result:
    """An Instance's NetworkInterfaces, PublicIpAddress and PublicDnsName: its Elastic IP
    when one is associated, else its private address while it runs in a subnet that
    maps public addresses; a terminated instance has no interface left. SourceDestCheck
    is the primary interface's, as on EC2."""
    found = interfaces.of_instance(call.cloud, instance.instance_id)
    public = found.public if found is not None else None
    return {
        "PublicDnsName": public.public_ip if public else "",
        "PublicIpAddress": public.public_ip if public else None,
        "NetworkInterfaces": [_instance_interface(call, found)] if found else [],
        "SourceDestCheck": found.source_dest_check if found is not None else True,
    }


@registry.op("DescribeNetworkInterfaces", filters=interfaces.FILTERS)
def describe_network_interfaces(call: Call, p: Params) -> Result:
    found, token = interfaces.describe_network_interfaces(
        call.cloud,
        p.get("NetworkInterfaceIds", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {
        "NetworkInterfaces": [interface_view(call, i) for i in found],
        "NextToken": token,
    }


def _value(p: Params, name: str) -> Any:
    """The ``Value`` of an AttributeValue/AttributeBooleanValue parameter, or None."""
    given = p.get(name)
    return given.get("Value") if isinstance(given, dict) else None


@registry.op("ModifyNetworkInterfaceAttribute")
def modify_network_interface_attribute(call: Call, p: Params) -> Result:
    attachment = p.get("Attachment") or {}
    change = InterfaceChange(
        description=_value(p, "Description"),
        source_dest_check=_value(p, "SourceDestCheck"),
        group_ids=p.get("Groups") or None,
        attachment_id=attachment.get("AttachmentId"),
        delete_on_termination=attachment.get("DeleteOnTermination"),
    )
    interfaces.modify_network_interface_attribute(call.cloud, p["NetworkInterfaceId"], change)
    return {}


@registry.op("DescribeNetworkInterfaceAttribute")
def describe_network_interface_attribute(call: Call, p: Params) -> Result:
    attribute = p.get("Attribute") or ""
    interfaces.check_attribute(attribute)
    i = interfaces.require(call.cloud, [p["NetworkInterfaceId"]])[0]
    out: Result = {"NetworkInterfaceId": i.eni_id}
    if attribute == "description":
        out["Description"] = {"Value": i.description}
    elif attribute == "groupSet":
        out["Groups"] = _groups(i)
    elif attribute == "sourceDestCheck":
        out["SourceDestCheck"] = {"Value": i.source_dest_check}
    elif attribute == "attachment":
        out["Attachment"] = _attachment(call, i)
    else:
        out["AssociatePublicIpAddress"] = i.public is not None and i.public.allocation_id is None
    return out
