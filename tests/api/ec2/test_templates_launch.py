"""Real instances launched from launch templates, with instance types' cgroup limits, root
volumes and RunInstances' NetworkInterfaces, as automation tools launch them."""

from __future__ import annotations

import base64
import ipaddress
from pathlib import Path
from typing import Any

import pytest

from pocketcloud.host import cgroups
from tests.plugin.clouds import Server
from tests.plugin.instances import Machine, launch, perm, ssh_group, wait_for_banner

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

WAIT = {"Delay": 0.2, "MaxAttempts": 600}
USER_DATA = "#!/bin/sh\necho from-template > /tmp/template-ran\n"
MIB = 1024 * 1024


def _instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    return dict(
        ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    )


def _memory_limit(cloud: Server, instance_id: str) -> int:
    """The memory limit of the instance's cgroup, as the kernel has it."""
    rel = cgroups.relpath(cloud.prefix, instance_id)
    return int((cgroups.ROOT / "memory" / rel / "memory.limit_in_bytes").read_text())


def _machine(ec2: Any, instance_id: str, key: Path) -> Machine:
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
    ip = _instance(ec2, instance_id)["PrivateIpAddress"]
    wait_for_banner(ip)
    return Machine(instance_id, ip, key)


class TestTemplateLaunch:
    def test_template_with_overrides(
        self, cloud: Server, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """A template's image, key, groups, tags and user data make the instance; an explicit
        InstanceType wins over the template's, and its cgroup has that type's memory."""
        extra = ec2.create_security_group(GroupName="lt-extra", Description="from a template")
        groups = sorted([ssh_group(ec2), extra["GroupId"]])
        ec2.create_launch_template(
            LaunchTemplateName="web",
            LaunchTemplateData={
                "ImageId": image_id,
                "InstanceType": "t3.nano",
                "KeyName": key[0],
                "SecurityGroupIds": groups,
                "UserData": base64.b64encode(USER_DATA.encode()).decode(),
                "TagSpecifications": [
                    {"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "web"}]}
                ],
            },
        )
        made = ec2.run_instances(
            MinCount=1,
            MaxCount=1,
            LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
            InstanceType="t3.small",
        )["Instances"][0]
        m = _machine(ec2, made["InstanceId"], key[1])
        seen = _instance(ec2, m.instance_id)
        assert seen["InstanceType"] == "t3.small"
        assert seen["ImageId"] == image_id
        assert seen["KeyName"] == key[0]
        assert sorted(g["GroupId"] for g in seen["SecurityGroups"]) == groups
        tags = {t["Key"]: t["Value"] for t in seen["Tags"]}
        assert tags["role"] == "web"
        assert tags["aws:ec2launchtemplate:version"] == "1"
        assert m.ssh("cat /tmp/template-ran").strip() == "from-template"
        assert _memory_limit(cloud, m.instance_id) == 2048 * MIB
        ec2.terminate_instances(InstanceIds=[m.instance_id])

    def test_t1_micro(self, cloud: Server, ec2: Any, image_id: str, key: tuple[str, Path]) -> None:
        """t1.micro launches; its cgroup memory limit is the type's 613 MiB."""
        m = launch(ec2, image_id, key, InstanceType="t1.micro")
        assert _memory_limit(cloud, m.instance_id) == 613 * MIB
        assert m.ssh("echo up").strip() == "up"
        ec2.terminate_instances(InstanceIds=[m.instance_id])


class TestRootVolume:
    def test_listed_while_running_gone_after_terminate(
        self, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """The root volume is in-use while the instance runs and leaves DescribeVolumes once
        the instance is terminated."""
        m = launch(ec2, image_id, key)
        mapping = _instance(ec2, m.instance_id)["BlockDeviceMappings"][0]
        vid = mapping["Ebs"]["VolumeId"]
        [volume] = ec2.describe_volumes(VolumeIds=[vid])["Volumes"]
        assert volume["State"] == "in-use"
        assert volume["Attachments"][0]["InstanceId"] == m.instance_id
        ec2.terminate_instances(InstanceIds=[m.instance_id])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[m.instance_id], WaiterConfig=WAIT)
        found = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [vid]}])
        assert found["Volumes"] == []


class TestNetworkInterfaces:
    def test_launch_into_a_subnet(self, ec2: Any, image_id: str, key: tuple[str, Path]) -> None:
        """NetworkInterfaces[0] puts the instance in its subnet, at its address, behind its
        groups: SSH answers there."""
        subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
        subnet = sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])[-1]
        address = str(ipaddress.ip_network(subnet["CidrBlock"]).network_address + 42)
        group = ec2.create_security_group(GroupName="nic-ssh", Description="ssh via nic")
        ec2.authorize_security_group_ingress(
            GroupId=group["GroupId"], IpPermissions=[perm("tcp", 22, cidr="0.0.0.0/0")]
        )
        made = ec2.run_instances(
            ImageId=image_id,
            KeyName=key[0],
            MinCount=1,
            MaxCount=1,
            NetworkInterfaces=[
                {
                    "DeviceIndex": 0,
                    "SubnetId": subnet["SubnetId"],
                    "Groups": [group["GroupId"]],
                    "PrivateIpAddress": address,
                    "AssociatePublicIpAddress": True,
                    "DeleteOnTermination": True,
                }
            ],
        )["Instances"][0]
        m = _machine(ec2, made["InstanceId"], key[1])
        seen = _instance(ec2, m.instance_id)
        assert seen["SubnetId"] == subnet["SubnetId"]
        assert seen["Placement"]["AvailabilityZone"] == subnet["AvailabilityZone"]
        assert m.ip == address
        assert [g["GroupId"] for g in seen["SecurityGroups"]] == [group["GroupId"]]
        assert address in m.ssh("ip -4 addr show")
        ec2.terminate_instances(InstanceIds=[m.instance_id])
