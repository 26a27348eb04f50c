"""Volume wire handlers, and an instance's BlockDeviceMappings."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_list
from pocketcloud.services.ec2 import network, volumes
from pocketcloud.services.ec2.volumes import Volume


def volume_view(call: Call, v: Volume) -> Result:
    """A Volume structure as EC2 returns it."""
    attachments = []
    if v.instance_id is not None:
        attachments.append(
            {
                "AttachTime": v.attach_time,
                "Device": v.device,
                "InstanceId": v.instance_id,
                "State": "attached",
                "VolumeId": v.volume_id,
                "DeleteOnTermination": v.delete_on_termination,
                "AvailabilityZone": v.zone,
                "AvailabilityZoneId": network.zone_id(call.cloud, v.zone),
                # the root is a directory, not a block device: nothing reports TRIM
                "TrimState": "disabled",
            }
        )
    return {
        "Attachments": attachments,
        "AvailabilityZone": v.zone,
        "AvailabilityZoneId": network.zone_id(call.cloud, v.zone),
        "CreateTime": v.created,
        "Encrypted": False,
        "Size": v.size_gib,
        "SnapshotId": "",
        "State": v.state,
        "VolumeId": v.volume_id,
        "Iops": v.iops,
        "Throughput": v.throughput,
        "Tags": tag_list(v.tags),
        "VolumeType": v.volume_type,
        "MultiAttachEnabled": False,
        "FastRestored": False,
        "Operator": {"Managed": False},
        "TrimOnAttach": "disabled",
    }


def block_device_mappings(call: Call, instance_id: str) -> list[Result]:
    """An Instance's BlockDeviceMappings: its attached volumes."""
    return [
        {
            "DeviceName": v.device,
            "Ebs": {
                "AttachTime": v.attach_time,
                "DeleteOnTermination": v.delete_on_termination,
                "Status": "attached",
                "VolumeId": v.volume_id,
                "TrimState": "disabled",
            },
        }
        for v in volumes.attached_to(call.cloud, instance_id)
    ]


@registry.op("DescribeVolumes", filters=volumes.FILTERS)
def describe_volumes(call: Call, p: Params) -> Result:
    zone_ids = {z: network.zone_id(call.cloud, z) for z in call.cloud.zones()}
    found, token = volumes.describe_volumes(
        call.cloud,
        p.get("VolumeIds", []),
        filters_of(p),
        zone_ids,
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"Volumes": [volume_view(call, v) for v in found], "NextToken": token}


@registry.op("DeleteVolume")
def delete_volume(call: Call, p: Params) -> Result:
    volumes.delete_volume(call.cloud, p["VolumeId"])
    return {}
