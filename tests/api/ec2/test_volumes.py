"""Root volumes through boto3 against a live cloud: DescribeVolumes, the instance's
BlockDeviceMappings, what TerminateInstances does to them, DeleteVolume.

The cloud is this module's own (the volumes it counts are its own); its instances really
start, and a kept volume's data really lands in the state directory.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

WAIT = {"Delay": 0.2, "MaxAttempts": 600}


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _launch(ec2: Any, image_id: str, **extra: Any) -> dict[str, Any]:
    made = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, **extra)
    instance_id = made["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
    found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return dict(found[0]["Instances"][0])


def _root_volume(ec2: Any, instance_id: str) -> dict[str, Any]:
    found = ec2.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}]
    )["Volumes"]
    assert len(found) == 1
    return dict(found[0])


@pytest.fixture(scope="module")
def running(ec2: Any, image_id: str) -> dict[str, Any]:
    """A running instance launched with defaults."""
    return _launch(ec2, image_id)


class TestRootVolume:
    def test_shape(self, ec2: Any, running: dict[str, Any]) -> None:
        """A default launch's root volume: 8 GiB gp3 (its baseline IOPS and throughput),
        in-use, attached as /dev/xvda, deleted on termination, unencrypted, no snapshot."""
        volume = _root_volume(ec2, running["InstanceId"])
        assert volume["VolumeId"].startswith("vol-")
        assert volume["Size"] == 8
        assert volume["VolumeType"] == "gp3"
        assert (volume["Iops"], volume["Throughput"]) == (3000, 125)
        assert volume["State"] == "in-use"
        assert volume["Encrypted"] is False
        assert volume["SnapshotId"] == ""
        assert volume["MultiAttachEnabled"] is False
        assert volume["AvailabilityZone"] == running["Placement"]["AvailabilityZone"]
        assert "CreateTime" in volume
        [attachment] = volume["Attachments"]
        assert attachment["InstanceId"] == running["InstanceId"]
        assert attachment["Device"] == "/dev/xvda"
        assert attachment["State"] == "attached"
        assert attachment["DeleteOnTermination"] is True
        assert attachment["VolumeId"] == volume["VolumeId"]

    def test_instance_points_at_it(self, ec2: Any, running: dict[str, Any]) -> None:
        """The instance's BlockDeviceMappings name the volume; its root device type is ebs."""
        volume = _root_volume(ec2, running["InstanceId"])
        assert running["RootDeviceType"] == "ebs"
        [mapping] = running["BlockDeviceMappings"]
        assert mapping["DeviceName"] == running["RootDeviceName"] == "/dev/xvda"
        assert mapping["Ebs"]["VolumeId"] == volume["VolumeId"]
        assert mapping["Ebs"]["Status"] == "attached"
        assert mapping["Ebs"]["DeleteOnTermination"] is True

    def test_waiter(self, ec2: Any, running: dict[str, Any]) -> None:
        """boto3's volume_in_use waiter completes for a running instance's root volume."""
        volume = _root_volume(ec2, running["InstanceId"])
        ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume["VolumeId"]], WaiterConfig=WAIT)


class TestLaunchOptions:
    def test_block_device_mapping(self, ec2: Any, image_id: str) -> None:
        """BlockDeviceMappings for the root device set its size, type and
        DeleteOnTermination; TagSpecifications tag the volume and the interface."""
        instance = _launch(
            ec2,
            image_id,
            BlockDeviceMappings=[
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {"VolumeSize": 20, "VolumeType": "gp2", "DeleteOnTermination": True},
                }
            ],
            TagSpecifications=[
                {"ResourceType": "volume", "Tags": [{"Key": "disk", "Value": "root"}]},
                {"ResourceType": "network-interface", "Tags": [{"Key": "nic", "Value": "a"}]},
            ],
            EbsOptimized=True,
        )
        volume = _root_volume(ec2, instance["InstanceId"])
        assert (volume["Size"], volume["VolumeType"], volume["Iops"]) == (20, "gp2", 100)
        assert "Throughput" not in volume
        assert volume["Tags"] == [{"Key": "disk", "Value": "root"}]
        eni = ec2.describe_network_interfaces(
            NetworkInterfaceIds=[instance["NetworkInterfaces"][0]["NetworkInterfaceId"]]
        )["NetworkInterfaces"][0]
        assert {"Key": "nic", "Value": "a"} in eni.get("TagSet", [])
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])

    def test_too_small(self, ec2: Any, image_id: str) -> None:
        """A root volume smaller than the image's 8 GiB is InvalidBlockDeviceMapping."""
        with pytest.raises(ClientError) as info:
            ec2.run_instances(
                ImageId=image_id,
                MinCount=1,
                MaxCount=1,
                BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 4}}],
            )
        assert _code(info) == "InvalidBlockDeviceMapping"

    def test_interfaces_and_subnet_conflict(self, ec2: Any, image_id: str) -> None:
        """NetworkInterfaces with a top-level SubnetId is InvalidParameterCombination."""
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        with pytest.raises(ClientError) as info:
            ec2.run_instances(
                ImageId=image_id,
                MinCount=1,
                MaxCount=1,
                SubnetId=subnet,
                NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet}],
            )
        assert _code(info) == "InvalidParameterCombination"

    def test_network_interfaces(self, ec2: Any, image_id: str) -> None:
        """NetworkInterfaces[0] gives the subnet, groups, address and description."""
        subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
            "Subnets"
        ][-1]
        group = ec2.create_security_group(GroupName="vol-nic", Description="nic test")["GroupId"]
        address = str(ipaddress.ip_network(subnet["CidrBlock"]).network_address + 77)
        nic = {
            "DeviceIndex": 0,
            "SubnetId": subnet["SubnetId"],
            "Groups": [group],
            "AssociatePublicIpAddress": True,
            "Description": "primary",
            "DeleteOnTermination": True,
            "PrivateIpAddress": address,
        }
        instance = _launch(ec2, image_id, NetworkInterfaces=[nic])
        assert instance["SubnetId"] == subnet["SubnetId"]
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group]
        assert instance["PrivateIpAddress"] == address
        assert instance["NetworkInterfaces"][0]["Description"] == "primary"
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


class TestDescribe:
    def test_filters(self, ec2: Any, running: dict[str, Any]) -> None:
        """volume-id, size, status, volume-type, attachment.* and availability-zone filter."""
        volume = _root_volume(ec2, running["InstanceId"])
        vid = volume["VolumeId"]
        for name, value in [
            ("volume-id", vid),
            ("size", "8"),
            ("status", "in-use"),
            ("volume-type", "gp3"),
            ("attachment.device", "/dev/xvda"),
            ("attachment.status", "attached"),
            ("attachment.delete-on-termination", "true"),
            ("availability-zone", volume["AvailabilityZone"]),
            ("encrypted", "false"),
        ]:
            found = ec2.describe_volumes(Filters=[{"Name": name, "Values": [value]}])["Volumes"]
            assert vid in [v["VolumeId"] for v in found], name
        none = ec2.describe_volumes(Filters=[{"Name": "size", "Values": ["9"]}])["Volumes"]
        assert vid not in [v["VolumeId"] for v in none]

    def test_tags(self, ec2: Any, running: dict[str, Any]) -> None:
        """CreateTags applies to volumes and tag:<key> filters them."""
        vid = _root_volume(ec2, running["InstanceId"])["VolumeId"]
        ec2.create_tags(Resources=[vid], Tags=[{"Key": "backup", "Value": "daily"}])
        found = ec2.describe_volumes(Filters=[{"Name": "tag:backup", "Values": ["daily"]}])
        assert [v["VolumeId"] for v in found["Volumes"]] == [vid]

    def test_errors(self, ec2: Any) -> None:
        """Unknown id: InvalidVolume.NotFound; bad id: Malformed; bad filter: refused."""
        with pytest.raises(ClientError) as info:
            ec2.describe_volumes(VolumeIds=["vol-0123456789abcdef0"])
        assert _code(info) == "InvalidVolume.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.describe_volumes(VolumeIds=["disk-1"])
        assert _code(info) == "InvalidVolumeID.Malformed"
        with pytest.raises(ClientError) as info:
            ec2.describe_volumes(Filters=[{"Name": "colour", "Values": ["red"]}])
        assert _code(info) == "InvalidParameterValue"

    def test_paginator(self, ec2: Any, image_id: str) -> None:
        """boto3's paginator walks every volume in pages of MaxResults."""
        made = ec2.run_instances(ImageId=image_id, MinCount=6, MaxCount=6)
        ids = [i["InstanceId"] for i in made["Instances"]]
        everything = ec2.describe_volumes()["Volumes"]
        pages = list(
            ec2.get_paginator("describe_volumes").paginate(PaginationConfig={"PageSize": 5})
        )
        seen = [v["VolumeId"] for page in pages for v in page["Volumes"]]
        assert len(pages) >= 2
        assert sorted(seen) == sorted(v["VolumeId"] for v in everything)
        ec2.terminate_instances(InstanceIds=ids)


class TestTermination:
    def test_deleted_with_its_instance(self, ec2: Any, image_id: str) -> None:
        """A DeleteOnTermination root volume leaves DescribeVolumes when its instance is
        terminated (boto3's volume_deleted waiter completes)."""
        instance = _launch(ec2, image_id)
        vid = _root_volume(ec2, instance["InstanceId"])["VolumeId"]
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.get_waiter("volume_deleted").wait(VolumeIds=[vid], WaiterConfig=WAIT)
        found = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [vid]}])
        assert found["Volumes"] == []
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=[instance["InstanceId"]], WaiterConfig=WAIT
        )
        gone = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"]
        assert gone[0]["Instances"][0]["BlockDeviceMappings"] == []

    def test_kept_volume_keeps_its_data(self, ec2: Any, image_id: str, cloud: Server) -> None:
        """Without DeleteOnTermination the volume becomes available, unattached, and its data
        (the instance's upper layer) is kept in the state directory until DeleteVolume, which
        refuses an attached volume with VolumeInUse."""
        instance = _launch(
            ec2,
            image_id,
            BlockDeviceMappings=[
                {"DeviceName": "/dev/xvda", "Ebs": {"DeleteOnTermination": False}}
            ],
        )
        vid = _root_volume(ec2, instance["InstanceId"])["VolumeId"]
        with pytest.raises(ClientError) as info:
            ec2.delete_volume(VolumeId=vid)
        assert _code(info) == "VolumeInUse"
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=[instance["InstanceId"]], WaiterConfig=WAIT
        )
        ec2.get_waiter("volume_available").wait(VolumeIds=[vid], WaiterConfig=WAIT)
        volume = ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
        assert volume["State"] == "available"
        assert volume["Attachments"] == []
        kept = cloud.state_dir / "volumes" / vid
        assert (kept / "etc" / "ssh" / "ssh_host_ed25519_key.pub").exists()
        ec2.delete_volume(VolumeId=vid)
        ec2.get_waiter("volume_deleted").wait(VolumeIds=[vid], WaiterConfig=WAIT)
        assert not kept.exists()
