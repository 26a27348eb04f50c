"""boto3's resource layer (``boto3.resource("ec2")``), unmodified: the objects, collections,
references and waiters it builds from EC2's answers work against the cloud."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.plugin.clouds import Server
from tests.tools.test_ansible import _free_cidr

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

FAST = {"Delay": 0.2, "MaxAttempts": 300}


@pytest.fixture(scope="module")
def ec2(cloud: Server) -> Any:
    """The EC2 resource of the module's cloud."""
    return boto3.resource(
        "ec2",
        endpoint_url=cloud.endpoint,
        region_name="us-east-1",
        aws_access_key_id=cloud.access_key_id,
        aws_secret_access_key=cloud.secret,
    )


def test_vpc_to_instance_through_resources(cloud: Server, ec2: Any, tmp_path: Path) -> None:
    """A VPC, subnet, gateway, route table and instance made through resource actions;
    the instance's references (vpc, subnet, interfaces, volumes, image, key pair) load;
    collections filter by their parent; waiters on resources complete; then teardown."""
    cidr = _free_cidr(cloud)
    vpc = ec2.create_vpc(CidrBlock=str(cidr))
    vpc.wait_until_available(WaiterConfig=FAST)
    vpc.create_tags(Tags=[{"Key": "Name", "Value": "res"}])
    subnet = vpc.create_subnet(CidrBlock=str(next(cidr.subnets(new_prefix=24))))
    igw = ec2.create_internet_gateway()
    igw.attach_to_vpc(VpcId=vpc.id)
    table = vpc.create_route_table()
    table.create_route(DestinationCidrBlock="0.0.0.0/0", GatewayId=igw.id)
    association = table.associate_with_subnet(SubnetId=subnet.id)
    group = vpc.create_security_group(GroupName="res-ssh", Description="ssh")
    group.authorize_ingress(IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    key = ec2.create_key_pair(KeyName="res-key", KeyType="ed25519")
    image = next(iter(ec2.images.filter(Owners=["amazon"])))

    [instance] = subnet.create_instances(
        ImageId=image.id,
        InstanceType="t3.nano",
        KeyName=key.name,
        SecurityGroupIds=[group.id],
        MinCount=1,
        MaxCount=1,
    )
    instance.wait_until_running(WaiterConfig=FAST)
    instance.reload()
    assert instance.state["Name"] == "running"
    assert instance.vpc.id == vpc.id
    assert instance.subnet.id == subnet.id
    assert instance.image.id == image.id
    assert instance.key_pair.name == "res-key"
    assert ipaddress.ip_address(instance.private_ip_address) in ipaddress.ip_network(
        subnet.cidr_block
    )
    [interface] = list(instance.network_interfaces)
    assert interface.mac_address == instance.network_interfaces_attribute[0]["MacAddress"]
    assert interface.attachment["DeviceIndex"] == 0
    [volume] = list(instance.volumes.all())
    assert volume.attachments[0]["InstanceId"] == instance.id
    assert [i.id for i in vpc.instances.all()] == [instance.id]
    assert [s.id for s in vpc.subnets.all()] == [subnet.id]
    assert vpc.tags == [{"Key": "Name", "Value": "res"}]
    assert {r["GatewayId"] for r in table.routes_attribute} == {"local", igw.id}

    instance.terminate()
    instance.wait_until_terminated(WaiterConfig=FAST)
    association.delete()
    table.delete()
    igw.detach_from_vpc(VpcId=vpc.id)
    igw.delete()
    group.delete()
    subnet.delete()
    vpc.delete()
    key.delete()
    assert [v.id for v in ec2.vpcs.all()] == [v.id for v in ec2.vpcs.filter(
        Filters=[{"Name": "isDefault", "Values": ["true"]}]
    )]  # fmt: skip
