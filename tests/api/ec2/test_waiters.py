"""Every boto3 EC2 waiter whose operation the cloud serves completes on a real resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.session
import pytest

from pocketcloud.api.app import REGISTRIES
from tests.plugin.instances import launch

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

FAST = {"Delay": 0.2, "MaxAttempts": 300}
#: waiters of served operations that have nothing to wait for here, and why
NOT_APPLICABLE = {
    "network_interface_available": "it waits for an unattached interface; every interface "
    "here is an instance's primary one (in-use), as an instance's is on AWS",
}


def _served_waiters() -> set[str]:
    model = botocore.session.get_session().get_waiter_model("ec2")
    served = set(REGISTRIES["ec2"].handlers)
    names = {n for n in model.waiter_names if model.get_waiter(n).operation in served}
    # boto3 names them in snake_case
    return {"".join("_" + c.lower() if c.isupper() else c for c in n).lstrip("_") for n in names}


def _wait(ec2: Any, name: str, **params: Any) -> None:
    ec2.get_waiter(name).wait(WaiterConfig=FAST, **params)


def test_every_served_waiter_is_exercised(ec2: Any, image_id: str, key: tuple[str, Path]) -> None:
    """Each waiter botocore defines over an operation we serve completes (or is listed as
    having nothing to wait for), in the order a user meets them."""
    done: set[str] = set()

    def wait(name: str, **params: Any) -> None:
        _wait(ec2, name, **params)
        done.add(name)

    wait("image_exists", ImageIds=[image_id])
    wait("image_available", ImageIds=[image_id])
    wait("key_pair_exists", KeyNames=[key[0]])
    group = ec2.create_security_group(GroupName="waited", Description="w")["GroupId"]
    wait("security_group_exists", GroupIds=[group])
    vpc = ec2.create_vpc(CidrBlock="10.251.0.0/24")["Vpc"]["VpcId"]
    wait("vpc_exists", VpcIds=[vpc])
    wait("vpc_available", VpcIds=[vpc])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.251.0.0/25")["Subnet"]["SubnetId"]
    wait("subnet_available", SubnetIds=[subnet])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    wait("internet_gateway_exists", InternetGatewayIds=[igw])

    machine = launch(
        ec2,
        image_id,
        key,
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"DeleteOnTermination": False}}],
    )
    ids = [machine.instance_id]
    wait("instance_exists", InstanceIds=ids)
    wait("instance_running", InstanceIds=ids)
    wait("instance_status_ok", InstanceIds=ids)
    wait("system_status_ok", InstanceIds=ids)
    volume = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"][0][
        "BlockDeviceMappings"
    ][0]["Ebs"]["VolumeId"]
    wait("volume_in_use", VolumeIds=[volume])
    ec2.stop_instances(InstanceIds=ids)
    wait("instance_stopped", InstanceIds=ids)
    ec2.terminate_instances(InstanceIds=ids)
    wait("instance_terminated", InstanceIds=ids)
    wait("volume_available", VolumeIds=[volume])
    ec2.delete_volume(VolumeId=volume)
    wait("volume_deleted", VolumeIds=[volume])

    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)
    assert done | set(NOT_APPLICABLE) == _served_waiters()


@pytest.mark.parametrize("name", sorted(NOT_APPLICABLE))
def test_not_applicable_waiters_are_served_operations(name: str) -> None:
    """What the list excuses is a real waiter of a served operation (the list stays honest)."""
    assert name in _served_waiters()
