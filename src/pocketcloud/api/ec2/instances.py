"""EC2 instance wire handlers (registered on the EC2 registry)."""

from __future__ import annotations

import base64
from functools import partial

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2 import instance_filters, view_filters
from pocketcloud.api.ec2 import interfaces as ec2_interfaces
from pocketcloud.api.ec2 import launch as ec2_launch
from pocketcloud.api.ec2 import volumes as ec2_volumes
from pocketcloud.api.ec2.common import filters_of, registry, tag_list
from pocketcloud.services.ec2 import (
    filters,
    instance_actions,
    instance_types,
    instances,
    interfaces,
    network,
)
from pocketcloud.services.ec2 import security_groups as sg
from pocketcloud.services.ec2.instance_actions import StateChange
from pocketcloud.services.ec2.instances import Instance, Reservation
from pocketcloud.services.ec2.lifecycle import State


def _state(state: State) -> Result:
    return {"Code": state.code, "Name": state.value}


def _group_names(call: Call, instance: Instance) -> list[Result]:
    return [
        {"GroupId": gid, "GroupName": sg.get(call.cloud, gid).name} for gid in instance.group_ids
    ]


def instance_view(call: Call, i: Instance) -> Result:
    """An Instance structure as EC2 returns it for an instance launched with defaults."""
    itype = instance_types.lookup(i.instance_type)
    addressing = ec2_interfaces.instance_network(call, i)
    out: Result = {
        "InstanceId": i.instance_id,
        "ImageId": i.image_id,
        "State": _state(i.state),
        "PrivateDnsName": f"{i.hostname}.ec2.internal",
        "PublicDnsName": addressing["PublicDnsName"],
        "StateTransitionReason": i.state_reason,
        "KeyName": i.key_name,
        "AmiLaunchIndex": i.launch_index,
        "ProductCodes": [],
        "InstanceType": i.instance_type,
        "LaunchTime": i.launch_time,
        "Placement": {
            "AvailabilityZone": i.zone,
            "AvailabilityZoneId": network.zone_id(call.cloud, i.zone),
            "GroupName": "",
            "Tenancy": "default",
        },
        "Monitoring": {"State": "disabled"},
        "SubnetId": i.subnet_id,
        "VpcId": i.vpc_id,
        "PrivateIpAddress": i.private_ip,
        "PublicIpAddress": addressing["PublicIpAddress"],
        "NetworkInterfaces": addressing["NetworkInterfaces"],
        "Architecture": "x86_64",
        "RootDeviceType": "ebs",
        "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": ec2_volumes.block_device_mappings(call, i.instance_id),
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "ClientToken": i.client_token or "",
        "EbsOptimized": False,
        "EnaSupport": True,
        "SecurityGroups": _group_names(call, i),
        "SourceDestCheck": addressing["SourceDestCheck"],
        "Tags": tag_list(i.tags) or None,  # EC2 sends no tagSet for an untagged instance
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "UsageOperationUpdateTime": i.launch_time,
        "IamInstanceProfile": {"Arn": i.profile[0], "Id": i.profile[1]} if i.profile else None,
        "CpuOptions": {"CoreCount": itype.vcpus, "ThreadsPerCore": 1},
        "CapacityReservationSpecification": {"CapacityReservationPreference": "open"},
        "HibernationOptions": {"Configured": False},
        "EnclaveOptions": {"Enabled": False},
        "MetadataOptions": {
            "State": "applied",
            "HttpTokens": "optional",
            "HttpPutResponseHopLimit": 1,
            "HttpEndpoint": "enabled",
            "HttpProtocolIpv6": "disabled",
            "InstanceMetadataTags": "disabled",
        },
        "MaintenanceOptions": {"AutoRecovery": "default", "RebootMigration": "default"},
        "PrivateDnsNameOptions": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "CurrentInstanceBootMode": "legacy-bios",
        "NetworkPerformanceOptions": {"BandwidthWeighting": "default"},
        "Operator": {"Managed": False},
    }
    if i.state is State.TERMINATED:  # its address went back to the subnet
        for released in ("PrivateIpAddress", "PrivateDnsName", "SubnetId", "VpcId"):
            out.pop(released)
    if i.state is State.PENDING:
        out["StateReason"] = {"Code": "pending", "Message": "pending"}
    elif i.state is State.TERMINATED:
        out["StateReason"] = {
            "Code": "Client.UserInitiatedShutdown",
            "Message": "Client.UserInitiatedShutdown: User initiated shutdown",
        }
    return out


def _reservation(call: Call, r: Reservation) -> Result:
    groups = _group_names(call, r.instances[0]) if r.instances else []
    return {
        "ReservationId": r.reservation_id,
        "OwnerId": call.cloud.account_id,
        "Groups": groups,
        "Instances": [instance_view(call, i) for i in r.instances],
    }


@registry.op("RunInstances")
def run_instances(call: Call, p: Params) -> Result:
    request = ec2_launch.launch_request(call, p)
    reservation = instances.run_instances(call.cloud, request, call.principal.arn)
    return _reservation(call, reservation)


def _matching(call: Call, p: Params) -> tuple[list[Reservation], str | None]:
    """The reservations DescribeInstances selects (filters read what it shows)."""
    views: dict[str, Result] = {}

    def from_view(i: Instance, name: str) -> list[str]:
        view = views.get(i.instance_id)
        if view is None:
            view = views[i.instance_id] = instance_view(call, i)
        return view_filters.values(view, name, instance_filters.PATHS)

    return instances.describe_instances(
        call.cloud,
        p.get("InstanceIds", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
        view_fields=(instance_filters.FILTERS, from_view),
    )


@registry.op("DescribeInstances", filters=instance_filters.FILTERS)
def describe_instances(call: Call, p: Params) -> Result:
    found, token = _matching(call, p)
    return {"Reservations": [_reservation(call, r) for r in found], "NextToken": token}


def _changes(changes: list[StateChange]) -> list[Result]:
    return [
        {
            "InstanceId": c.instance_id,
            "PreviousState": _state(c.previous),
            "CurrentState": _state(c.current),
        }
        for c in changes
    ]


@registry.op("StartInstances")
def start_instances(call: Call, p: Params) -> Result:
    changes = instance_actions.start_instances(call.cloud, p["InstanceIds"])
    return {"StartingInstances": _changes(changes)}


@registry.op("StopInstances")
def stop_instances(call: Call, p: Params) -> Result:
    changes = instance_actions.stop_instances(call.cloud, p["InstanceIds"])
    return {"StoppingInstances": _changes(changes)}


@registry.op("TerminateInstances")
def terminate_instances(call: Call, p: Params) -> Result:
    changes = instance_actions.terminate_instances(call.cloud, p["InstanceIds"])
    return {"TerminatingInstances": _changes(changes)}


@registry.op("RebootInstances")
def reboot_instances(call: Call, p: Params) -> Result:
    instance_actions.reboot_instances(call.cloud, p["InstanceIds"])
    return {}


STATUS_FILTERS = (
    "availability-zone",
    "availability-zone-id",
    "event.code",
    "event.description",
    "event.instance-event-id",
    "event.not-after",
    "event.not-before",
    "event.not-before-deadline",
    "instance-state-code",
    "instance-state-name",
    "instance-status.reachability",
    "instance-status.status",
    "operator.managed",
    "operator.principal",
    "system-status.reachability",
    "system-status.status",
    "attached-ebs-status.status",
    "application-status.status",
)
STATUS_PATHS = {
    "event.": "Events",
    "instance-state-code": "InstanceState.Code",
    "instance-state-name": "InstanceState.Name",
    "instance-status.reachability": "InstanceStatus.Details.Status",
    "system-status.reachability": "SystemStatus.Details.Status",
    "attached-ebs-status.status": "AttachedEbsStatus.Status",
    "application-status.status": "ApplicationStatus.Status",
}


def _status_view(call: Call, i: Instance) -> Result:
    ok = "ok" if i.state is State.RUNNING else "not-applicable"
    check = {
        "Status": ok,
        "Details": [{"Name": "reachability", "Status": "passed" if ok == "ok" else ok}],
    }
    return {
        "InstanceId": i.instance_id,
        "AvailabilityZone": i.zone,
        "AvailabilityZoneId": network.zone_id(call.cloud, i.zone),
        "InstanceState": _state(i.state),
        "InstanceStatus": check,
        "SystemStatus": check,
        "AttachedEbsStatus": check,
        "Events": [],
        "Operator": {"Managed": False},
    }


@registry.op("DescribeInstanceStatus", filters=STATUS_FILTERS)
def describe_instance_status(call: Call, p: Params) -> Result:
    flts = filters_of(p)
    filters.check_filter_names(flts, STATUS_FILTERS)
    found, _ = instances.describe_instances(call.cloud, p.get("InstanceIds", []), [], None, None)
    everything = bool(p.get("IncludeAllInstances"))
    shown = [i for r in found for i in r.instances if everything or i.state is State.RUNNING]
    views = {i.instance_id: _status_view(call, i) for i in shown}

    def fields(instance_id: str, name: str) -> list[str]:
        return view_filters.values(views[instance_id], name, STATUS_PATHS)

    chosen = [i for i in shown if filters.matches(flts, partial(fields, i.instance_id))]
    page, token = filters.paginate(
        chosen, lambda i: i.instance_id, p.get("MaxResults"), p.get("NextToken")
    )
    return {"InstanceStatuses": [views[i.instance_id] for i in page], "NextToken": token}


@registry.op("GetConsoleOutput")
def get_console_output(call: Call, p: Params) -> Result:
    instance, text = instance_actions.console_output(call.cloud, p["InstanceId"])
    return {
        "InstanceId": instance.instance_id,
        "Timestamp": instance.state_changed,
        "Output": base64.b64encode(text).decode() if text else None,
    }


@registry.op("ModifyInstanceAttribute")
def modify_instance_attribute(call: Call, p: Params) -> Result:
    instance_type = (p.get("InstanceType") or {}).get("Value")
    user_data = (p.get("UserData") or {}).get("Value")
    if p.get("Attribute") == "instanceType":
        instance_type = p.get("Value")
    if isinstance(user_data, bytes):
        user_data = base64.b64encode(user_data).decode()
    groups = p.get("Groups")
    check = (p.get("SourceDestCheck") or {}).get("Value")
    if p.get("Attribute") == "sourceDestCheck":
        check = str(p.get("Value", "")).lower() == "true"
    if check is not None:
        instances.require(call.cloud, [p["InstanceId"]])
        interfaces.set_source_dest_check(call.cloud, p["InstanceId"], bool(check))
    instance_actions.modify_instance_attribute(
        call.cloud,
        p["InstanceId"],
        instance_type=instance_type,
        group_ids=groups if groups else None,
        user_data=user_data,
    )
    return {}


@registry.op("DescribeInstanceAttribute")
def describe_instance_attribute(call: Call, p: Params) -> Result:
    """One attribute of an instance, under the member EC2 names it by."""
    attribute = p["Attribute"]
    instance_actions.check_attribute(attribute)
    instance = instances.require(call.cloud, [p["InstanceId"]])[0]
    view = instance_view(call, instance)
    value: dict[str, Result] = {
        "instanceType": {"InstanceType": {"Value": instance.instance_type}},
        "userData": {
            "UserData": {
                "Value": instance_actions.encoded_user_data(call.cloud, instance.instance_id)
            }
        },
        "groupSet": {"Groups": view["SecurityGroups"]},
        "disableApiTermination": {"DisableApiTermination": {"Value": False}},
        "disableApiStop": {"DisableApiStop": {"Value": False}},
        "instanceInitiatedShutdownBehavior": {
            "InstanceInitiatedShutdownBehavior": {"Value": "stop"}
        },
        "rootDeviceName": {"RootDeviceName": {"Value": view["RootDeviceName"]}},
        "blockDeviceMapping": {"BlockDeviceMappings": view["BlockDeviceMappings"]},
        "productCodes": {"ProductCodes": view["ProductCodes"]},
        "sourceDestCheck": {"SourceDestCheck": {"Value": view["SourceDestCheck"]}},
        "ebsOptimized": {"EbsOptimized": {"Value": view["EbsOptimized"]}},
        "enaSupport": {"EnaSupport": {"Value": view["EnaSupport"]}},
        "enclaveOptions": {"EnclaveOptions": view["EnclaveOptions"]},
        "kernel": {"KernelId": {}},
        "ramdisk": {"RamdiskId": {}},
        "sriovNetSupport": {"SriovNetSupport": {}},
    }
    return {"InstanceId": instance.instance_id, **value[attribute]}
