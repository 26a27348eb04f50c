"""Network interfaces and Elastic IPs through boto3 and the AWS CLI against a live cloud.

The cloud is this module's own (the interfaces and addresses it counts are its own);
its instances really start, as every launch does.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server
from tests.plugin.shapes import unfilled
from tests.plugin.vpcs import new_vpc

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

COUNT = 6  # instances: enough for a page of MaxResults=5 and a second page


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def fleet(ec2: Any, image_id: str) -> list[dict[str, Any]]:
    """COUNT running instances (one RunInstances call), as DescribeInstances shows them."""
    made = ec2.run_instances(ImageId=image_id, MinCount=COUNT, MaxCount=COUNT)
    ids = [i["InstanceId"] for i in made["Instances"]]
    ec2.get_waiter("instance_running").wait(
        InstanceIds=ids, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600}
    )
    return _instances(ec2, ids)


def _instances(ec2: Any, ids: list[str]) -> list[dict[str, Any]]:
    found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    by_id = {i["InstanceId"]: i for r in found for i in r["Instances"]}
    return [by_id[i] for i in ids]


def _instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    return _instances(ec2, [instance_id])[0]


def _eni(ec2: Any, instance: dict[str, Any]) -> dict[str, Any]:
    found = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}]
    )["NetworkInterfaces"]
    assert len(found) == 1
    return dict(found[0])


def _launch(ec2: Any, image_id: str) -> str:
    made = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
    instance_id = str(made["Instances"][0]["InstanceId"])
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 600}
    )
    return instance_id


class TestInterfaceShape:
    def test_every_member_aws_fills(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """An instance's primary interface: attached at device 0, in use, its instance's
        subnet, VPC, zone, address and groups, an EC2-style MAC; the default subnet maps
        a public address, which is the private one here (owned by "amazon")."""
        instance = fleet[0]
        eni = _eni(ec2, instance)
        owner = ec2.describe_security_groups()["SecurityGroups"][0]["OwnerId"]
        assert re.fullmatch(r"eni-[0-9a-f]{17}", eni["NetworkInterfaceId"])
        assert re.fullmatch(r"0e(:[0-9a-f]{2}){5}", eni["MacAddress"])
        attachment = eni["Attachment"]
        assert re.fullmatch(r"eni-attach-[0-9a-f]{17}", attachment["AttachmentId"])
        assert attachment["InstanceId"] == instance["InstanceId"]
        assert attachment["InstanceOwnerId"] == owner
        assert (attachment["DeviceIndex"], attachment["NetworkCardIndex"]) == (0, 0)
        assert (attachment["Status"], attachment["DeleteOnTermination"]) == ("attached", True)
        assert attachment["AttachTime"] == instance["LaunchTime"]
        assert eni["Status"] == "in-use"
        assert eni["InterfaceType"] == "interface"
        assert eni["OwnerId"] == owner
        assert eni["RequesterManaged"] is False
        assert eni["SourceDestCheck"] is True
        assert eni["Description"] == ""
        assert eni["Ipv6Addresses"] == []
        assert eni["TagSet"] == []
        assert eni["Operator"] == {"Managed": False}
        assert eni["SubnetId"] == instance["SubnetId"]
        assert eni["VpcId"] == instance["VpcId"]
        assert eni["AvailabilityZone"] == instance["Placement"]["AvailabilityZone"]
        assert eni["PrivateIpAddress"] == instance["PrivateIpAddress"]
        assert eni["PrivateDnsName"] == instance["PrivateDnsName"]
        assert eni["Groups"] == instance["SecurityGroups"]
        public = instance["PrivateIpAddress"]
        association = {"PublicIp": public, "PublicDnsName": public, "IpOwnerId": "amazon"}
        assert eni["Association"] == association
        assert eni["PrivateIpAddresses"] == [
            {
                "Primary": True,
                "PrivateIpAddress": eni["PrivateIpAddress"],
                "PrivateDnsName": eni["PrivateDnsName"],
                "Association": association,
            }
        ]

    def test_instance_lists_the_same_interface(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Instances[].NetworkInterfaces is the same interface in the instance form (no
        instance id or owner in its attachment), as tools that read it expect."""
        instance = _instance(ec2, fleet[0]["InstanceId"])
        eni = _eni(ec2, instance)
        (listed,) = instance["NetworkInterfaces"]
        for member in (
            "NetworkInterfaceId",
            "MacAddress",
            "PrivateIpAddress",
            "PrivateDnsName",
            "PrivateIpAddresses",
            "Groups",
            "SubnetId",
            "VpcId",
            "Status",
            "SourceDestCheck",
            "InterfaceType",
            "OwnerId",
            "Description",
            "Ipv6Addresses",
            "Association",
            "Operator",
        ):
            assert listed[member] == eni[member], member
        expected = {k: v for k, v in eni["Attachment"].items() if not k.startswith("Instance")}
        assert listed["Attachment"] == expected
        assert instance["PublicIpAddress"] == instance["PrivateIpAddress"]
        assert instance["PublicDnsName"] == instance["PrivateIpAddress"]

    def test_aws_cli(self, cloud: Server, fleet: list[dict[str, Any]]) -> None:
        """The AWS CLI lists the interfaces too."""
        out = cloud.aws("ec2", "describe-network-interfaces")
        attached = {i["Attachment"]["InstanceId"] for i in out["NetworkInterfaces"]}
        assert {i["InstanceId"] for i in fleet} <= attached


class TestDescribe:
    def test_every_documented_filter(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Each filter AWS documents selects the interface by its own value."""
        instance = fleet[1]
        eni = _eni(ec2, instance)
        values = {
            "addresses.private-ip-address": eni["PrivateIpAddress"],
            "addresses.primary": "true",
            "addresses.association.public-ip": eni["Association"]["PublicIp"],
            "addresses.association.owner-id": "amazon",
            "association.public-ip": eni["Association"]["PublicIp"],
            "association.public-dns-name": eni["Association"]["PublicDnsName"],
            "association.ip-owner-id": "amazon",
            "attachment.attachment-id": eni["Attachment"]["AttachmentId"],
            "attachment.attach-time": instance["LaunchTime"].strftime("%Y-%m-%dT%H:%M:%S*"),
            "attachment.delete-on-termination": "true",
            "attachment.device-index": "0",
            "attachment.instance-id": instance["InstanceId"],
            "attachment.instance-owner-id": eni["OwnerId"],
            "attachment.status": "attached",
            "availability-zone": eni["AvailabilityZone"],
            "availability-zone-id": eni["AvailabilityZoneId"],
            "description": "",
            "group-id": eni["Groups"][0]["GroupId"],
            "group-name": eni["Groups"][0]["GroupName"],
            "interface-type": "interface",
            "mac-address": eni["MacAddress"],
            "network-interface-id": eni["NetworkInterfaceId"],
            "owner-id": eni["OwnerId"],
            "private-dns-name": eni["PrivateDnsName"],
            "private-ip-address": eni["PrivateIpAddress"],
            "requester-managed": "false",
            "source-dest-check": "true",
            "status": "in-use",
            "subnet-id": eni["SubnetId"],
            "vpc-id": eni["VpcId"],
        }
        for name, value in values.items():
            found = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": [value]}])
            ids = [i["NetworkInterfaceId"] for i in found["NetworkInterfaces"]]
            assert eni["NetworkInterfaceId"] in ids, name
        for name in ("association.allocation-id", "ipv6-addresses.ipv6-address", "requester-id"):
            found = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": ["*"]}])
            assert found["NetworkInterfaces"] == [], name

    def test_filters_narrow(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """A filter value that matches nothing selects nothing; wildcards work."""
        eni = _eni(ec2, fleet[2])
        none = ec2.describe_network_interfaces(
            Filters=[{"Name": "mac-address", "Values": ["ff:ff:ff:ff:ff:ff"]}]
        )
        assert none["NetworkInterfaces"] == []
        some = ec2.describe_network_interfaces(
            Filters=[
                {"Name": "network-interface-id", "Values": [eni["NetworkInterfaceId"][:8] + "*"]}
            ]
        )
        assert eni in some["NetworkInterfaces"]

    def test_unknown_filter(self, ec2: Any) -> None:
        """A filter AWS does not document is refused."""
        with pytest.raises(ClientError) as info:
            ec2.describe_network_interfaces(Filters=[{"Name": "nonsense", "Values": ["x"]}])
        assert _code(info) == "InvalidParameterValue"

    def test_by_id_and_errors(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Ids select; a malformed or unknown id gets AWS's error."""
        eni = _eni(ec2, fleet[0])
        found = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])
        assert found["NetworkInterfaces"] == [eni]
        for bad, code in (
            ("eni-nothex", "InvalidNetworkInterfaceID.Malformed"),
            ("eni-0123456789abcdef0", "InvalidNetworkInterfaceID.NotFound"),
        ):
            with pytest.raises(ClientError) as info:
                ec2.describe_network_interfaces(NetworkInterfaceIds=[bad])
            assert _code(info) == code

    def test_pagination(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """MaxResults pages through every interface once; ids with MaxResults are refused."""
        paginator = ec2.get_paginator("describe_network_interfaces")
        pages = list(paginator.paginate(PaginationConfig={"PageSize": 5}))
        ids = [i["NetworkInterfaceId"] for p in pages for i in p["NetworkInterfaces"]]
        assert len(pages) >= 2
        assert len(ids) == len(set(ids)) >= COUNT
        with pytest.raises(ClientError) as info:
            ec2.describe_network_interfaces(NetworkInterfaceIds=ids[:1], MaxResults=5)
        assert _code(info) == "InvalidParameterCombination"

    def test_tags(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """CreateTags takes an interface id; tag filters and TagSet show the tags."""
        eni = _eni(ec2, fleet[3])
        ec2.create_tags(
            Resources=[eni["NetworkInterfaceId"]], Tags=[{"Key": "role", "Value": "web"}]
        )
        found = ec2.describe_network_interfaces(Filters=[{"Name": "tag:role", "Values": ["web"]}])
        (tagged,) = found["NetworkInterfaces"]
        assert tagged["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
        assert tagged["TagSet"] == [{"Key": "role", "Value": "web"}]


class TestModify:
    def test_description_and_source_dest_check(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Both are stored and shown by Describe*Attribute and the interface."""
        eni_id = _eni(ec2, fleet[4])["NetworkInterfaceId"]
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni_id, Description={"Value": "front"}
        )
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni_id, SourceDestCheck={"Value": False}
        )
        got = ec2.describe_network_interface_attribute(
            NetworkInterfaceId=eni_id, Attribute="description"
        )
        assert got["Description"] == {"Value": "front"}
        got = ec2.describe_network_interface_attribute(
            NetworkInterfaceId=eni_id, Attribute="sourceDestCheck"
        )
        assert got["SourceDestCheck"] == {"Value": False}
        eni = _eni(ec2, fleet[4])
        assert (eni["Description"], eni["SourceDestCheck"]) == ("front", False)

    def test_delete_on_termination(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Attachment.DeleteOnTermination changes with the right attachment id only."""
        eni = _eni(ec2, fleet[4])
        attachment = eni["Attachment"]["AttachmentId"]
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni["NetworkInterfaceId"],
            Attachment={"AttachmentId": attachment, "DeleteOnTermination": False},
        )
        got = ec2.describe_network_interface_attribute(
            NetworkInterfaceId=eni["NetworkInterfaceId"], Attribute="attachment"
        )
        assert got["Attachment"]["DeleteOnTermination"] is False
        assert got["Attachment"]["AttachmentId"] == attachment
        with pytest.raises(ClientError) as info:
            ec2.modify_network_interface_attribute(
                NetworkInterfaceId=eni["NetworkInterfaceId"],
                Attachment={
                    "AttachmentId": "eni-attach-0123456789abcdef0",
                    "DeleteOnTermination": True,
                },
            )
        assert _code(info) == "InvalidAttachmentID.NotFound"

    def test_groups_are_the_instances(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Changing the interface's groups changes the instance's (and the reverse)."""
        instance = fleet[5]
        eni_id = _eni(ec2, instance)["NetworkInterfaceId"]
        group = ec2.create_security_group(GroupName="eni-web", Description="web")["GroupId"]
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[group])
        shown = _instance(ec2, instance["InstanceId"])["SecurityGroups"]
        assert shown == [{"GroupId": group, "GroupName": "eni-web"}]
        got = ec2.describe_network_interface_attribute(
            NetworkInterfaceId=eni_id, Attribute="groupSet"
        )
        assert got["Groups"] == shown
        default = instance["SecurityGroups"][0]["GroupId"]
        ec2.modify_instance_attribute(InstanceId=instance["InstanceId"], Groups=[default])
        assert _eni(ec2, instance)["Groups"] == instance["SecurityGroups"]
        with pytest.raises(ClientError) as info:
            ec2.modify_network_interface_attribute(
                NetworkInterfaceId=eni_id, Groups=["sg-0123456789abcdef0"]
            )
        assert _code(info) == "InvalidGroup.NotFound"

    def test_one_attribute_at_a_time(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Two attributes in one call, or none, are refused; an unknown attribute too."""
        eni_id = _eni(ec2, fleet[0])["NetworkInterfaceId"]
        with pytest.raises(ClientError) as info:
            ec2.modify_network_interface_attribute(
                NetworkInterfaceId=eni_id,
                Description={"Value": "x"},
                SourceDestCheck={"Value": True},
            )
        assert _code(info) == "InvalidParameterCombination"
        with pytest.raises(ClientError) as info:
            ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id)
        assert _code(info) == "InvalidParameterCombination"
        with pytest.raises(ClientError) as info:
            ec2.describe_network_interface_attribute(NetworkInterfaceId=eni_id, Attribute="nope")
        assert _code(info) == "InvalidParameterValue"
        got = ec2.describe_network_interface_attribute(
            NetworkInterfaceId=eni_id, Attribute="associatePublicIpAddress"
        )
        assert got["AssociatePublicIpAddress"] is True

    def test_terminated_instance_has_no_interface(self, ec2: Any, image_id: str) -> None:
        """A terminated instance's interface is gone, and the instance lists none."""
        instance_id = _launch(ec2, image_id)
        eni_id = _instance(ec2, instance_id)["NetworkInterfaces"][0]["NetworkInterfaceId"]
        ec2.terminate_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=[instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        with pytest.raises(ClientError) as info:
            ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])
        assert _code(info) == "InvalidNetworkInterfaceID.NotFound"
        instance = _instance(ec2, instance_id)
        assert instance["NetworkInterfaces"] == []
        assert "PublicIpAddress" not in instance


class TestAddresses:
    def test_allocate_describe_release(self, cloud: Server, ec2: Any) -> None:
        """An address from the cloud's pool, tagged at allocation, found by every filter
        that applies to an unassociated address, released once."""
        made = ec2.allocate_address(
            Domain="vpc",
            TagSpecifications=[
                {"ResourceType": "elastic-ip", "Tags": [{"Key": "k", "Value": "v"}]}
            ],
        )
        assert re.fullmatch(r"eipalloc-[0-9a-f]{17}", made["AllocationId"])
        assert made["PublicIp"].rsplit(".", 1)[0] == cloud.eip_pool.rsplit(".", 1)[0]
        assert (made["Domain"], made["PublicIpv4Pool"]) == ("vpc", "amazon")
        expected = {
            "AllocationId": made["AllocationId"],
            "PublicIp": made["PublicIp"],
            "Domain": "vpc",
            "PublicIpv4Pool": "amazon",
            "NetworkBorderGroup": "us-east-1",
            "Tags": [{"Key": "k", "Value": "v"}],
        }
        for name, value in (
            ("allocation-id", made["AllocationId"]),
            ("public-ip", made["PublicIp"]),
            ("domain", "vpc"),
            ("network-border-group", "us-east-1"),
            ("tag:k", "v"),
            ("tag-key", "k"),
        ):
            found = ec2.describe_addresses(Filters=[{"Name": name, "Values": [value]}])
            assert found["Addresses"] == [expected], name
        assert ec2.describe_addresses(PublicIps=[made["PublicIp"]])["Addresses"] == [expected]
        by_id = ec2.describe_addresses(AllocationIds=[made["AllocationId"]])["Addresses"]
        assert by_id == [expected]
        none = ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": ["*"]}])
        assert none["Addresses"] == []
        ec2.release_address(AllocationId=made["AllocationId"])
        for call in (
            lambda: ec2.release_address(AllocationId=made["AllocationId"]),
            lambda: ec2.describe_addresses(AllocationIds=[made["AllocationId"]]),
        ):
            with pytest.raises(ClientError) as info:
                call()
            assert _code(info) == "InvalidAllocationID.NotFound"

    def test_allocate_a_chosen_address(self, cloud: Server, ec2: Any) -> None:
        """Address asks for one address of the pool; one that is taken, outside the pool
        or the pool's network address gets InvalidAddress.NotFound."""
        base = cloud.eip_pool.rsplit(".", 1)[0]
        made = ec2.allocate_address(Domain="vpc", Address=f"{base}.200")
        assert made["PublicIp"] == f"{base}.200"
        for taken in (f"{base}.200", f"{base}.0", "203.0.113.7"):
            with pytest.raises(ClientError) as info:
                ec2.allocate_address(Domain="vpc", Address=taken)
            assert _code(info) == "InvalidAddress.NotFound", taken
        ec2.release_address(AllocationId=made["AllocationId"])

    def test_associate_shows_everywhere(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Associated: DescribeAddresses names the instance, its interface and private
        address; the instance's PublicIpAddress and the interface's Association are the
        Elastic IP (owned by the account, with its allocation and association ids)."""
        instance = fleet[0]
        made = ec2.allocate_address(Domain="vpc")
        assoc = ec2.associate_address(
            AllocationId=made["AllocationId"], InstanceId=instance["InstanceId"]
        )["AssociationId"]
        assert re.fullmatch(r"eipassoc-[0-9a-f]{17}", assoc)
        eni = _eni(ec2, instance)
        (address,) = ec2.describe_addresses(AllocationIds=[made["AllocationId"]])["Addresses"]
        assert address["AssociationId"] == assoc
        assert address["InstanceId"] == instance["InstanceId"]
        assert address["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
        assert address["NetworkInterfaceOwnerId"] == eni["OwnerId"]
        assert address["PrivateIpAddress"] == instance["PrivateIpAddress"]
        for name, value in (
            ("association-id", assoc),
            ("instance-id", instance["InstanceId"]),
            ("network-interface-id", eni["NetworkInterfaceId"]),
            ("network-interface-owner-id", eni["OwnerId"]),
            ("private-ip-address", instance["PrivateIpAddress"]),
        ):
            found = ec2.describe_addresses(Filters=[{"Name": name, "Values": [value]}])
            assert found["Addresses"] == [address], name
        assert eni["Association"] == {
            "PublicIp": made["PublicIp"],
            "PublicDnsName": made["PublicIp"],
            "IpOwnerId": eni["OwnerId"],
            "AllocationId": made["AllocationId"],
            "AssociationId": assoc,
        }
        for name, value in (
            ("association.allocation-id", made["AllocationId"]),
            ("association.association-id", assoc),
            ("association.public-ip", made["PublicIp"]),
        ):
            found = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": [value]}])
            assert [i["NetworkInterfaceId"] for i in found["NetworkInterfaces"]] == [
                eni["NetworkInterfaceId"]
            ], name
        shown = _instance(ec2, instance["InstanceId"])
        assert shown["PublicIpAddress"] == made["PublicIp"]
        assert shown["NetworkInterfaces"][0]["Association"]["PublicIp"] == made["PublicIp"]
        with pytest.raises(ClientError) as info:
            ec2.release_address(AllocationId=made["AllocationId"])
        assert _code(info) == "InvalidIPAddress.InUse"
        ec2.disassociate_address(AssociationId=assoc)
        shown = _instance(ec2, instance["InstanceId"])
        assert shown["PublicIpAddress"] == instance["PrivateIpAddress"]
        assert (
            "AssociationId"
            not in ec2.describe_addresses(AllocationIds=[made["AllocationId"]])["Addresses"][0]
        )
        with pytest.raises(ClientError) as info:
            ec2.disassociate_address(AssociationId=assoc)
        assert _code(info) == "InvalidAssociationID.NotFound"
        ec2.release_address(AllocationId=made["AllocationId"])

    def test_reassociation(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Associating an address that is in use moves it, unless AllowReassociation is
        false; an instance that had another address loses it (which stays allocated);
        associating it again with the same instance is idempotent."""
        a, b = fleet[1], fleet[2]
        first = ec2.allocate_address(Domain="vpc")["AllocationId"]
        second = ec2.allocate_address(Domain="vpc")["AllocationId"]
        old = ec2.associate_address(AllocationId=first, InstanceId=a["InstanceId"])["AssociationId"]
        again = ec2.associate_address(AllocationId=first, InstanceId=a["InstanceId"])
        assert again["AssociationId"] == old
        with pytest.raises(ClientError) as info:
            ec2.associate_address(
                AllocationId=first, InstanceId=b["InstanceId"], AllowReassociation=False
            )
        assert _code(info) == "Resource.AlreadyAssociated"
        eni_b = _eni(ec2, b)["NetworkInterfaceId"]
        moved = ec2.associate_address(AllocationId=first, NetworkInterfaceId=eni_b)
        assert moved["AssociationId"] != old
        (address,) = ec2.describe_addresses(AllocationIds=[first])["Addresses"]
        assert address["InstanceId"] == b["InstanceId"]
        ec2.associate_address(AllocationId=second, InstanceId=b["InstanceId"])
        listed = {x["AllocationId"]: x for x in ec2.describe_addresses()["Addresses"]}
        assert "InstanceId" not in listed[first]
        assert listed[second]["InstanceId"] == b["InstanceId"]
        ec2.disassociate_address(AssociationId=listed[second]["AssociationId"])
        for allocation in (first, second):
            ec2.release_address(AllocationId=allocation)

    def test_association_errors(self, ec2: Any, image_id: str, fleet: list[dict[str, Any]]) -> None:
        """AWS's errors: unknown or malformed ids, both or neither target, a private
        address the interface lacks, a terminated instance."""
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        instance = fleet[3]
        eni_id = _eni(ec2, instance)["NetworkInterfaceId"]
        cases: list[tuple[dict[str, Any], str]] = [
            ({"AllocationId": "eipalloc-0123456789abcdef0", "InstanceId": instance["InstanceId"]},
             "InvalidAllocationID.NotFound"),
            ({"AllocationId": "eipalloc-x", "InstanceId": instance["InstanceId"]},
             "InvalidAllocationID.Malformed"),
            ({"AllocationId": allocation, "InstanceId": "i-0123456789abcdef0"},
             "InvalidInstanceID.NotFound"),
            ({"AllocationId": allocation, "NetworkInterfaceId": "eni-0123456789abcdef0"},
             "InvalidNetworkInterfaceID.NotFound"),
            ({"AllocationId": allocation, "InstanceId": instance["InstanceId"],
              "NetworkInterfaceId": eni_id}, "InvalidParameterCombination"),
            ({"AllocationId": allocation}, "MissingParameter"),
            ({"AllocationId": allocation, "InstanceId": instance["InstanceId"],
              "PrivateIpAddress": "10.255.255.254"}, "InvalidParameterValue"),
        ]  # fmt: skip
        for params, code in cases:
            with pytest.raises(ClientError) as info:
                ec2.associate_address(**params)
            assert _code(info) == code, params
        gone = _launch(ec2, image_id)
        ec2.terminate_instances(InstanceIds=[gone])
        with pytest.raises(ClientError) as info:
            ec2.associate_address(AllocationId=allocation, InstanceId=gone)
        assert _code(info) == "IncorrectInstanceState"
        with pytest.raises(ClientError) as info:
            ec2.release_address(PublicIp=ec2.describe_addresses()["Addresses"][0]["PublicIp"])
        assert _code(info) == "InvalidParameterValue"
        with pytest.raises(ClientError) as info:
            ec2.describe_addresses(PublicIps=["203.0.113.9"])
        assert _code(info) == "InvalidAddress.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.describe_addresses(Filters=[{"Name": "nonsense", "Values": ["x"]}])
        assert _code(info) == "InvalidParameterValue"
        ec2.release_address(AllocationId=allocation)

    def test_stopped_instance_keeps_its_address(self, ec2: Any, image_id: str) -> None:
        """An address may be associated with a stopped instance; it stays associated
        while stopped and is shown; termination disassociates it but keeps it allocated."""
        instance_id = _launch(ec2, image_id)
        ec2.stop_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_stopped").wait(
            InstanceIds=[instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        made = ec2.allocate_address(Domain="vpc")
        ec2.associate_address(AllocationId=made["AllocationId"], InstanceId=instance_id)
        assert _instance(ec2, instance_id)["PublicIpAddress"] == made["PublicIp"]
        ec2.terminate_instances(InstanceIds=[instance_id])
        (address,) = ec2.describe_addresses(AllocationIds=[made["AllocationId"]])["Addresses"]
        assert "AssociationId" not in address
        assert "InstanceId" not in address
        ec2.release_address(AllocationId=made["AllocationId"])

    def test_aws_cli(self, cloud: Server, fleet: list[dict[str, Any]]) -> None:
        """The AWS CLI allocates, associates, describes, disassociates and releases."""
        made = cloud.aws("ec2", "allocate-address", "--domain", "vpc")
        instance_id = fleet[4]["InstanceId"]
        assoc = cloud.aws(
            "ec2",
            "associate-address",
            "--allocation-id",
            made["AllocationId"],
            "--instance-id",
            instance_id,
        )["AssociationId"]
        listed = cloud.aws("ec2", "describe-addresses", "--public-ips", made["PublicIp"])
        assert listed["Addresses"][0]["InstanceId"] == instance_id
        cloud.aws("ec2", "disassociate-address", "--association-id", assoc)
        cloud.aws("ec2", "release-address", "--allocation-id", made["AllocationId"])
        failed = cloud.aws(
            "ec2", "release-address", "--allocation-id", made["AllocationId"], check=False
        )
        assert "InvalidAllocationID.NotFound" in failed.stderr

    def test_pool_exhaustion(self, ec2: Any) -> None:
        """A /24 pool holds 254 addresses; the next allocation gets AddressLimitExceeded,
        and a released address can be allocated again."""
        held = [ec2.allocate_address(Domain="vpc") for _ in range(254)]
        assert len({a["PublicIp"] for a in held}) == 254
        with pytest.raises(ClientError) as info:
            ec2.allocate_address(Domain="vpc")
        assert _code(info) == "AddressLimitExceeded"
        ec2.release_address(AllocationId=held[7]["AllocationId"])
        assert ec2.allocate_address(Domain="vpc")["PublicIp"] == held[7]["PublicIp"]
        for address in ec2.describe_addresses()["Addresses"]:
            ec2.release_address(AllocationId=address["AllocationId"])
        assert ec2.describe_addresses()["Addresses"] == []


class TestCustomVpc:
    def test_elastic_ip_needs_an_internet_gateway(self, ec2: Any, image_id: str) -> None:
        """An instance of a subnet that maps no public address has none (no Association,
        no PublicIpAddress); AssociateAddress is refused while its VPC has no internet
        gateway (Gateway.NotAttached), works once one is attached, and the gateway cannot
        be detached while the address is mapped."""
        vpc = new_vpc(ec2)
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=vpc["CidrBlock"])
        made = ec2.run_instances(
            ImageId=image_id, MinCount=1, MaxCount=1, SubnetId=subnet["Subnet"]["SubnetId"]
        )
        instance_id = made["Instances"][0]["InstanceId"]
        ec2.get_waiter("instance_running").wait(
            InstanceIds=[instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 600}
        )
        instance = _instance(ec2, instance_id)
        assert "PublicIpAddress" not in instance
        assert instance["PublicDnsName"] == ""
        assert "Association" not in instance["NetworkInterfaces"][0]
        assert "Association" not in _eni(ec2, instance)
        allocation = ec2.allocate_address(Domain="vpc")
        with pytest.raises(ClientError) as info:
            ec2.associate_address(AllocationId=allocation["AllocationId"], InstanceId=instance_id)
        assert _code(info) == "Gateway.NotAttached"
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
        assoc = ec2.associate_address(
            AllocationId=allocation["AllocationId"], InstanceId=instance_id
        )["AssociationId"]
        assert _instance(ec2, instance_id)["PublicIpAddress"] == allocation["PublicIp"]
        with pytest.raises(ClientError) as info:
            ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
        assert _code(info) == "DependencyViolation"
        ec2.disassociate_address(AssociationId=assoc)
        ec2.release_address(AllocationId=allocation["AllocationId"])
        ec2.terminate_instances(InstanceIds=[instance_id])


#: members botocore's model has that AWS leaves out for an instance's primary interface
#: and a plain Elastic IP (other services' interfaces, Outposts, carrier and customer-owned
#: addresses, IPv6, prefixes, ENA Express and queue tuning, connection tracking settings)
NOT_FILLED = {
    "NetworkInterface.ConnectionTrackingConfiguration",
    "NetworkInterface.OutpostArn",
    "NetworkInterface.PublicDnsName",
    "NetworkInterface.PublicIpDnsNameOptions",
    "NetworkInterface.Ipv4Prefixes",
    "NetworkInterface.Ipv6Prefixes",
    "NetworkInterface.RequesterId",
    "NetworkInterface.DenyAllIgwTraffic",
    "NetworkInterface.Ipv6Native",
    "NetworkInterface.Ipv6Address",
    "NetworkInterface.AssociatedSubnets",
    "NetworkInterfaceAttachment.EnaSrdSpecification",
    "NetworkInterfaceAttachment.EnaQueueCount",
    "NetworkInterfaceAssociation.CustomerOwnedIp",
    "NetworkInterfaceAssociation.CarrierIp",
    "Address.CustomerOwnedIp",
    "Address.CustomerOwnedIpv4Pool",
    "Address.CarrierIp",
    "Address.SubnetId",
    "Address.ServiceManaged",
    "AllocateAddressResult.CustomerOwnedIp",
    "AllocateAddressResult.CustomerOwnedIpv4Pool",
    "AllocateAddressResult.CarrierIp",
    "OperatorResponse.Principal",  # only a managed interface has a manager
    "OperatorResponse.HiddenByDefault",
}


class TestShapes:
    def test_every_member_aws_fills(self, ec2: Any, fleet: list[dict[str, Any]]) -> None:
        """Walking botocore's output shapes over each operation's answers (an address
        associated and not, an interface with and without it) finds no member left
        unfilled that AWS fills."""
        instance = fleet[5]
        eni_id = _eni(ec2, instance)["NetworkInterfaceId"]
        free = ec2.allocate_address(Domain="vpc")
        bound = ec2.allocate_address(Domain="vpc")
        association = ec2.associate_address(
            AllocationId=bound["AllocationId"], InstanceId=instance["InstanceId"]
        )
        calls = {
            "AllocateAddress": [free],
            "AssociateAddress": [association],
            "DescribeAddresses": [ec2.describe_addresses()],
            "DescribeNetworkInterfaces": [ec2.describe_network_interfaces()],
            "DescribeNetworkInterfaceAttribute": [
                ec2.describe_network_interface_attribute(NetworkInterfaceId=eni_id, Attribute=a)
                for a in (
                    "description",
                    "groupSet",
                    "sourceDestCheck",
                    "attachment",
                    "associatePublicIpAddress",
                )
            ],
        }
        for operation, answers in calls.items():
            missing = unfilled("ec2", operation, answers)
            left = {m for m in missing if m not in NOT_FILLED and not m.endswith(".NextToken")}
            assert not left, (operation, left)
        ec2.disassociate_address(AssociationId=association["AssociationId"])
        for made in (free, bound):
            ec2.release_address(AllocationId=made["AllocationId"])
