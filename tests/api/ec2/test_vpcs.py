"""VPCs and subnets through boto3 and the AWS CLI against a live server of this module's own."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server, make_server
from tests.plugin.vpcs import cidr_within, flt, new_vpc

pytestmark = pytest.mark.live

FAST = {"Delay": 1, "MaxAttempts": 5}


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _message(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Message"])


@pytest.fixture(scope="module")
def default_vpc_id(ec2: Any) -> str:
    """The default VPC's id."""
    return str(ec2.describe_vpcs(Filters=flt("is-default", "true"))["Vpcs"][0]["VpcId"])


class TestCreateVpc:
    def test_lifecycle(self, ec2: Any) -> None:
        """CreateVpc answers every member AWS fills, with its default security group and a
        main route table holding the local route; the waiters complete; DeleteVpc removes
        all three."""
        vpc = new_vpc(
            ec2,
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "a"}]}],
        )
        vpc_id = vpc["VpcId"]
        assert vpc["State"] == "available"
        assert vpc["IsDefault"] is False
        assert vpc["InstanceTenancy"] == "default"
        assert vpc["DhcpOptionsId"]
        assert vpc["OwnerId"].isdigit()
        assert vpc["Tags"] == [{"Key": "Name", "Value": "a"}]
        assert vpc["CidrBlockAssociationSet"][0]["CidrBlock"] == vpc["CidrBlock"]
        assert vpc["CidrBlockAssociationSet"][0]["CidrBlockState"] == {"State": "associated"}
        assert vpc["BlockPublicAccessStates"] == {"InternetGatewayBlockMode": "off"}
        ec2.get_waiter("vpc_exists").wait(VpcIds=[vpc_id], WaiterConfig=FAST)
        ec2.get_waiter("vpc_available").wait(VpcIds=[vpc_id], WaiterConfig=FAST)
        groups = ec2.describe_security_groups(Filters=flt("vpc-id", vpc_id))["SecurityGroups"]
        assert [g["GroupName"] for g in groups] == ["default"]
        tables = ec2.describe_route_tables(Filters=flt("vpc-id", vpc_id))["RouteTables"]
        assert len(tables) == 1
        assert tables[0]["Associations"][0]["Main"] is True
        assert tables[0]["Routes"] == [
            {
                "DestinationCidrBlock": vpc["CidrBlock"],
                "GatewayId": "local",
                "Origin": "CreateRouteTable",
                "State": "active",
            }
        ]
        ec2.delete_vpc(VpcId=vpc_id)
        with pytest.raises(ClientError) as info:
            ec2.describe_vpcs(VpcIds=[vpc_id])
        assert _code(info) == "InvalidVpcID.NotFound"
        assert not ec2.describe_security_groups(Filters=flt("vpc-id", vpc_id))["SecurityGroups"]
        assert not ec2.describe_route_tables(Filters=flt("vpc-id", vpc_id))["RouteTables"]

    def test_vpc_exists_waiter_retries_until_found(self, ec2: Any) -> None:
        """vpc_exists gives up with InvalidVpcID.NotFound for a VPC that never appears."""
        waiter = ec2.get_waiter("vpc_exists")
        with pytest.raises(Exception, match=r"InvalidVpcID\.NotFound|Max attempts"):
            waiter.wait(
                VpcIds=["vpc-0123456789abcdef0"], WaiterConfig={"Delay": 0.1, "MaxAttempts": 2}
            )

    def test_range(self, ec2: Any) -> None:
        """Only /16 to /28 blocks (InvalidVpc.Range); a malformed block is
        InvalidParameterValue; no block at all is MissingParameter."""
        for cidr in ("10.0.0.0/8", "10.1.2.0/29", "127.0.0.0/16", "169.254.0.0/16"):
            with pytest.raises(ClientError) as info:
                ec2.create_vpc(CidrBlock=cidr)
            assert _code(info) == "InvalidVpc.Range", cidr
        for cidr in ("10.1.2.3/24", "banana", "10.0.0.0/40"):
            with pytest.raises(ClientError) as info:
                ec2.create_vpc(CidrBlock=cidr)
            assert _code(info) == "InvalidParameterValue", cidr
        with pytest.raises(ClientError) as info:
            ec2.create_vpc()
        assert _code(info) == "MissingParameter"

    def test_overlapping_vpcs_are_refused(
        self, cloud: Server, ec2: Any, default_vpc_id: str
    ) -> None:
        """A CIDR overlapping another VPC of this cloud is refused with InvalidVpc.Range,
        naming the VPC it overlaps and why."""
        vpc = new_vpc(ec2)
        for cidr in (vpc["CidrBlock"], cidr_within(vpc, 26, 1)):
            with pytest.raises(ClientError) as info:
                ec2.create_vpc(CidrBlock=cidr)
            assert _code(info) == "InvalidVpc.Range"
            assert vpc["VpcId"] in _message(info)
            assert "routing table" in _message(info)
        with pytest.raises(ClientError) as info:
            ec2.create_vpc(CidrBlock=cidr_within({"CidrBlock": cloud.cidr}, 20, 3))
        assert _code(info) == "InvalidVpc.Range"
        assert default_vpc_id in _message(info)
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_overlapping_a_host_route_is_refused(self, ec2: Any) -> None:
        """A CIDR overlapping a route this machine already has is refused with
        InvalidVpc.Range naming that route."""
        listed = subprocess.run(
            ["ip", "-N", "-j", "route", "show", "table", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        candidates = [
            r["dst"]
            for r in json.loads(listed)
            if r.get("dst", "default") != "default"
            and r.get("protocol") != "99"
            and "/" in r["dst"]
            and 16 <= ipaddress.ip_network(r["dst"]).prefixlen <= 28
        ]
        if not candidates:
            pytest.skip("this machine has no /16-/28 route to collide with")
        with pytest.raises(ClientError) as info:
            ec2.create_vpc(CidrBlock=candidates[0])
        assert _code(info) == "InvalidVpc.Range"
        assert f"route {candidates[0]}" in _message(info)

    def test_recreate_same_cidr_after_delete(self, ec2: Any) -> None:
        """A deleted VPC's CIDR can be used again at once."""
        vpc = new_vpc(ec2)
        ec2.delete_vpc(VpcId=vpc["VpcId"])
        again = ec2.create_vpc(CidrBlock=vpc["CidrBlock"])["Vpc"]
        assert again["CidrBlock"] == vpc["CidrBlock"]
        ec2.delete_vpc(VpcId=again["VpcId"])

    def test_dry_run(self, ec2: Any) -> None:
        """DryRun answers DryRunOperation and creates nothing."""
        before = len(ec2.describe_vpcs()["Vpcs"])
        with pytest.raises(ClientError) as info:
            ec2.create_vpc(CidrBlock="10.99.0.0/24", DryRun=True)
        assert _code(info) == "DryRunOperation"
        assert len(ec2.describe_vpcs()["Vpcs"]) == before

    def test_ipv6_and_ipam_are_refused(self, ec2: Any) -> None:
        """Asking for IPv6 or an IPAM pool is UnsupportedOperation, never silently ignored."""
        with pytest.raises(ClientError) as info:
            ec2.create_vpc(CidrBlock="10.99.0.0/24", AmazonProvidedIpv6CidrBlock=True)
        assert _code(info) == "UnsupportedOperation"
        vpc = new_vpc(ec2)
        with pytest.raises(ClientError) as info:
            ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 26), Ipv6Native=True)
        assert _code(info) == "UnsupportedOperation"
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_tenancy(self, ec2: Any) -> None:
        """InstanceTenancy is kept; an unknown one is InvalidParameterValue."""
        vpc = new_vpc(ec2, InstanceTenancy="dedicated")
        assert vpc["InstanceTenancy"] == "dedicated"
        ec2.delete_vpc(VpcId=vpc["VpcId"])
        with pytest.raises(ClientError) as info:
            ec2.create_vpc(CidrBlock="10.99.0.0/24", InstanceTenancy="sideways")
        assert _code(info) in ("InvalidParameterValue", "ValidationError")


class TestDeleteVpc:
    def test_dependency_violations(self, ec2: Any) -> None:
        """DeleteVpc is refused while a subnet, an attached internet gateway, a
        non-default security group or a non-main route table remains; then it works."""
        vpc = new_vpc(ec2)
        vpc_id = vpc["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr_within(vpc, 26))["Subnet"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        group = ec2.create_security_group(GroupName="x", Description="x", VpcId=vpc_id)["GroupId"]
        table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        undo = [
            lambda: ec2.delete_subnet(SubnetId=subnet["SubnetId"]),
            lambda: ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id),
            lambda: ec2.delete_security_group(GroupId=group),
            lambda: ec2.delete_route_table(RouteTableId=table),
        ]
        for step in undo:
            with pytest.raises(ClientError) as info:
                ec2.delete_vpc(VpcId=vpc_id)
            assert _code(info) == "DependencyViolation"
            step()
        ec2.delete_vpc(VpcId=vpc_id)
        ec2.delete_internet_gateway(InternetGatewayId=igw)

    def test_unknown(self, ec2: Any) -> None:
        """Deleting a VPC that does not exist is InvalidVpcID.NotFound."""
        with pytest.raises(ClientError) as info:
            ec2.delete_vpc(VpcId="vpc-0123456789abcdef0")
        assert _code(info) == "InvalidVpcID.NotFound"


class TestDescribeVpcs:
    def test_is_default_spellings(self, cloud: Server, ec2: Any, default_vpc_id: str) -> None:
        """is-default and the spelling tools send, isDefault, both find the default VPC
        (also through the AWS CLI)."""
        vpc = new_vpc(ec2)
        for name in ("is-default", "isDefault"):
            found = ec2.describe_vpcs(Filters=flt(name, "true"))["Vpcs"]
            assert [v["VpcId"] for v in found] == [default_vpc_id]
            others = ec2.describe_vpcs(Filters=flt(name, "false"))["Vpcs"]
            assert vpc["VpcId"] in [v["VpcId"] for v in others]
            assert default_vpc_id not in [v["VpcId"] for v in others]
        out = cloud.aws("ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true")
        assert [v["VpcId"] for v in out["Vpcs"]] == [default_vpc_id]
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_every_documented_filter(self, ec2: Any) -> None:
        """Each filter AWS documents for DescribeVpcs selects the VPC it describes."""
        vpc = new_vpc(
            ec2,
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "team", "Value": "t1"}]}],
        )
        assoc = vpc["CidrBlockAssociationSet"][0]
        cases = {
            "cidr": vpc["CidrBlock"],
            "cidr-block-association.cidr-block": vpc["CidrBlock"],
            "cidr-block-association.association-id": assoc["AssociationId"],
            "cidr-block-association.state": "associated",
            "dhcp-options-id": vpc["DhcpOptionsId"],
            "is-default": "false",
            "owner-id": vpc["OwnerId"],
            "state": "available",
            "vpc-id": vpc["VpcId"],
            "tag:team": "t1",
            "tag-key": "team",
            "tag-value": "t1",
        }
        for name, value in cases.items():
            found = ec2.describe_vpcs(Filters=flt(name, value))["Vpcs"]
            assert vpc["VpcId"] in [v["VpcId"] for v in found], name
        for name in (
            "ipv6-cidr-block-association.ipv6-cidr-block",
            "ipv6-cidr-block-association.ipv6-pool",
            "ipv6-cidr-block-association.association-id",
            "ipv6-cidr-block-association.state",
        ):
            assert ec2.describe_vpcs(Filters=flt(name, "*"))["Vpcs"] == [], name
        narrow = ec2.describe_vpcs(Filters=flt("tag:team", "t1") + flt("state", "available"))
        assert [v["VpcId"] for v in narrow["Vpcs"]] == [vpc["VpcId"]]
        with pytest.raises(ClientError) as info:
            ec2.describe_vpcs(Filters=flt("colour", "blue"))
        assert _code(info) == "InvalidParameterValue"
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_pagination(self, cloud: Server, ec2: Any) -> None:
        """MaxResults pages through the VPCs with NextToken; the paginator sees them all;
        MaxResults below 5 is InvalidParameterValue."""
        made = [new_vpc(ec2, prefix=28)["VpcId"] for _ in range(6)]
        first = ec2.describe_vpcs(MaxResults=5)
        assert len(first["Vpcs"]) == 5
        assert first["NextToken"]
        seen = [
            v["VpcId"]
            for page in ec2.get_paginator("describe_vpcs").paginate(
                PaginationConfig={"PageSize": 5}
            )
            for v in page["Vpcs"]
        ]
        assert set(made) <= set(seen)
        assert len(seen) == len(set(seen))
        with pytest.raises(ClientError) as info:
            cloud.client("ec2", parameter_validation=False).describe_vpcs(MaxResults=2)
        assert _code(info) == "InvalidParameterValue"
        for vpc_id in made:
            ec2.delete_vpc(VpcId=vpc_id)

    def test_create_tags(self, ec2: Any) -> None:
        """CreateTags/DeleteTags work on a VPC; DescribeTags lists it as a vpc."""
        vpc_id = new_vpc(ec2)["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "k", "Value": "v"}])
        found = ec2.describe_tags(Filters=flt("resource-id", vpc_id))["Tags"]
        assert [(t["ResourceType"], t["Key"]) for t in found] == [("vpc", "k")]
        ec2.delete_vpc(VpcId=vpc_id)
        assert not ec2.describe_tags(Filters=flt("resource-id", vpc_id))["Tags"]


class TestVpcAttributes:
    def test_dns_attributes(self, ec2: Any, default_vpc_id: str) -> None:
        """A new VPC has DNS support on and hostnames off (the default VPC: both on);
        ModifyVpcAttribute changes one at a time; hostnames need DNS support; network
        address usage metrics read false."""
        vpc_id = new_vpc(ec2)["VpcId"]

        def read(vpc: str, attribute: str) -> bool:
            out = ec2.describe_vpc_attribute(VpcId=vpc, Attribute=attribute)
            assert out["VpcId"] == vpc
            member = attribute[0].upper() + attribute[1:]
            return bool(out[member]["Value"])

        assert read(vpc_id, "enableDnsSupport") is True
        assert read(vpc_id, "enableDnsHostnames") is False
        assert read(vpc_id, "enableNetworkAddressUsageMetrics") is False
        assert read(default_vpc_id, "enableDnsHostnames") is True
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        assert read(vpc_id, "enableDnsHostnames") is True
        with pytest.raises(ClientError) as info:
            ec2.modify_vpc_attribute(
                VpcId=vpc_id, EnableDnsHostnames={"Value": True}, EnableDnsSupport={"Value": True}
            )
        assert _code(info) == "InvalidParameterCombination"
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": False})
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": False})
        assert read(vpc_id, "enableDnsSupport") is False
        with pytest.raises(ClientError) as info:
            ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        assert _code(info) == "InvalidParameterValue"
        with pytest.raises(ClientError) as info:
            ec2.describe_vpc_attribute(VpcId="vpc-0123456789abcdef0", Attribute="enableDnsSupport")
        assert _code(info) == "InvalidVpcID.NotFound"
        ec2.delete_vpc(VpcId=vpc_id)


class TestSubnets:
    def test_lifecycle(self, ec2: Any) -> None:
        """CreateSubnet answers every member AWS fills; subnet_available completes;
        DeleteSubnet removes it."""
        vpc = new_vpc(ec2)
        subnet = ec2.create_subnet(
            VpcId=vpc["VpcId"],
            CidrBlock=cidr_within(vpc, 26),
            AvailabilityZone="us-east-1b",
            TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": "s"}]}],
        )["Subnet"]
        assert subnet["VpcId"] == vpc["VpcId"]
        assert subnet["AvailabilityZone"] == "us-east-1b"
        assert subnet["AvailabilityZoneId"] == "use1-az2"
        assert subnet["AvailableIpAddressCount"] == 64 - 5
        assert subnet["DefaultForAz"] is False
        assert subnet["MapPublicIpOnLaunch"] is False
        assert subnet["State"] == "available"
        assert subnet["SubnetArn"].endswith(f":subnet/{subnet['SubnetId']}")
        assert subnet["PrivateDnsNameOptionsOnLaunch"]["HostnameType"] == "ip-name"
        assert subnet["Tags"] == [{"Key": "Name", "Value": "s"}]
        ec2.get_waiter("subnet_available").wait(SubnetIds=[subnet["SubnetId"]], WaiterConfig=FAST)
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        with pytest.raises(ClientError) as info:
            ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])
        assert _code(info) == "InvalidSubnetID.NotFound"
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_range_and_conflict(self, ec2: Any) -> None:
        """A block outside the VPC or not /16-/28 is InvalidSubnet.Range; one overlapping
        another subnet is InvalidSubnet.Conflict; a bad zone is InvalidParameterValue."""
        vpc = new_vpc(ec2)
        vpc_id = vpc["VpcId"]
        for cidr in ("192.168.0.0/26", cidr_within(vpc, 29)):
            with pytest.raises(ClientError) as info:
                ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr)
            assert _code(info) == "InvalidSubnet.Range", cidr
        first = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr_within(vpc, 25))["Subnet"]
        with pytest.raises(ClientError) as info:
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr_within(vpc, 26))
        assert _code(info) == "InvalidSubnet.Conflict"
        with pytest.raises(ClientError) as info:
            ec2.create_subnet(
                VpcId=vpc_id, CidrBlock=cidr_within(vpc, 26, 2), AvailabilityZone="mars-1a"
            )
        assert _code(info) == "InvalidParameterValue"
        with pytest.raises(ClientError) as info:
            ec2.create_subnet(VpcId="vpc-0123456789abcdef0", CidrBlock="10.0.0.0/24")
        assert _code(info) == "InvalidVpcID.NotFound"
        ec2.delete_subnet(SubnetId=first["SubnetId"])
        ec2.delete_vpc(VpcId=vpc_id)

    def test_zone_choice(self, ec2: Any) -> None:
        """Without a zone, subnets spread over the zones; AvailabilityZoneId picks one by id."""
        vpc = new_vpc(ec2)
        made = [
            ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 27, i))["Subnet"]
            for i in range(3)
        ]
        assert sorted(s["AvailabilityZone"] for s in made) == [
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
        ]
        by_id = ec2.create_subnet(
            VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 27, 3), AvailabilityZoneId="use1-az3"
        )["Subnet"]
        assert by_id["AvailabilityZone"] == "us-east-1c"
        for subnet in [*made, by_id]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_map_public_ip(self, ec2: Any) -> None:
        """ModifySubnetAttribute MapPublicIpOnLaunch shows in DescribeSubnets and its filter."""
        vpc = new_vpc(ec2)
        subnet_id = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 26))["Subnet"][
            "SubnetId"
        ]
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
        found = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
        assert found["MapPublicIpOnLaunch"] is True
        public = ec2.describe_subnets(Filters=flt("map-public-ip-on-launch", "true"))["Subnets"]
        assert subnet_id in [s["SubnetId"] for s in public]
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": False})
        assert (
            ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["MapPublicIpOnLaunch"]
            is False
        )
        with pytest.raises(ClientError) as info:
            ec2.modify_subnet_attribute(
                SubnetId=subnet_id, AssignIpv6AddressOnCreation={"Value": True}
            )
        assert _code(info) == "UnsupportedOperation"
        ec2.delete_subnet(SubnetId=subnet_id)
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_every_documented_filter(self, ec2: Any) -> None:
        """Each filter AWS documents for DescribeSubnets (and its camelCase spellings)
        selects the subnet it describes."""
        vpc = new_vpc(ec2)
        subnet = ec2.create_subnet(
            VpcId=vpc["VpcId"],
            CidrBlock=cidr_within(vpc, 26),
            AvailabilityZone="us-east-1c",
            TagSpecifications=[
                {"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "web"}]}
            ],
        )["Subnet"]
        cases = {
            "availability-zone": "us-east-1c",
            "availabilityZone": "us-east-1c",
            "availability-zone-id": "use1-az3",
            "availabilityZoneId": "use1-az3",
            "available-ip-address-count": str(subnet["AvailableIpAddressCount"]),
            "cidr-block": subnet["CidrBlock"],
            "cidr": subnet["CidrBlock"],
            "cidrBlock": subnet["CidrBlock"],
            "default-for-az": "false",
            "defaultForAz": "false",
            "enable-dns64": "false",
            "ipv6-native": "false",
            "map-customer-owned-ip-on-launch": "false",
            "map-public-ip-on-launch": "false",
            "owner-id": subnet["OwnerId"],
            "private-dns-name-options-on-launch.hostname-type": "ip-name",
            "private-dns-name-options-on-launch.enable-resource-name-dns-a-record": "false",
            "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": "false",
            "state": "available",
            "subnet-arn": subnet["SubnetArn"],
            "subnet-id": subnet["SubnetId"],
            "vpc-id": vpc["VpcId"],
            "tag:tier": "web",
            "tag-key": "tier",
        }
        for name, value in cases.items():
            found = ec2.describe_subnets(Filters=flt(name, value))["Subnets"]
            assert subnet["SubnetId"] in [s["SubnetId"] for s in found], name
        for name in (
            "customer-owned-ipv4-pool",
            "enable-lni-at-device-index",
            "ipv6-cidr-block-association.ipv6-cidr-block",
            "ipv6-cidr-block-association.association-id",
            "ipv6-cidr-block-association.state",
            "outpost-arn",
        ):
            assert ec2.describe_subnets(Filters=flt(name, "*"))["Subnets"] == [], name
        only = ec2.describe_subnets(Filters=flt("vpc-id", vpc["VpcId"]))["Subnets"]
        assert [s["SubnetId"] for s in only] == [subnet["SubnetId"]]
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    def test_pagination(self, ec2: Any) -> None:
        """DescribeSubnets pages with MaxResults/NextToken."""
        vpc = new_vpc(ec2)
        made = [
            ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 28, i))["Subnet"][
                "SubnetId"
            ]
            for i in range(6)
        ]
        pages = ec2.get_paginator("describe_subnets").paginate(
            Filters=flt("vpc-id", vpc["VpcId"]), PaginationConfig={"PageSize": 5}
        )
        sizes = [len(p["Subnets"]) for p in pages]
        assert sizes == [5, 1]
        for subnet_id in made:
            ec2.delete_subnet(SubnetId=subnet_id)
        ec2.delete_vpc(VpcId=vpc["VpcId"])

    @pytest.mark.needs_root  # the instance starts
    def test_delete_with_instance(self, ec2: Any) -> None:
        """DeleteSubnet is DependencyViolation while an instance that is not terminated is
        in it, and works once the instance is terminated."""
        vpc = new_vpc(ec2)
        subnet_id = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 26))["Subnet"][
            "SubnetId"
        ]
        images = ec2.describe_images(Filters=flt("name", "debian-12"))["Images"]
        made = ec2.run_instances(
            ImageId=images[0]["ImageId"], MinCount=1, MaxCount=1, SubnetId=subnet_id
        )
        instance = made["Instances"][0]
        assert instance["SubnetId"] == subnet_id
        with pytest.raises(ClientError) as info:
            ec2.delete_subnet(SubnetId=subnet_id)
        assert _code(info) == "DependencyViolation"
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=[instance["InstanceId"]], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        ec2.delete_subnet(SubnetId=subnet_id)
        ec2.delete_vpc(VpcId=vpc["VpcId"])


class TestDefaultVpc:
    def test_recreate_default_vpc(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """CreateDefaultVpc is DefaultVpcAlreadyExists while there is one; the default VPC
        is deleted as on AWS (gateway detached, subnets deleted first); CreateDefaultVpc
        then makes one like a new account's: a subnet per zone with public addresses on
        launch, DNS hostnames on, an attached gateway and a main route to it."""
        srv = make_server(tmp_path_factory.mktemp("default-vpc"))
        srv.start()
        try:
            ec2 = srv.client("ec2")
            _delete_default_vpc(ec2)
            assert ec2.describe_vpcs(Filters=flt("isDefault", "true"))["Vpcs"] == []
            vpc = ec2.create_default_vpc()["Vpc"]
            assert vpc["IsDefault"] is True
            assert vpc["CidrBlock"] == srv.cidr
            _check_default_network(ec2, vpc["VpcId"])
            with pytest.raises(ClientError) as info:
                ec2.create_default_vpc()
            assert _code(info) == "DefaultVpcAlreadyExists"
        finally:
            srv.remove()


def _delete_default_vpc(ec2: Any) -> None:
    vpc_id = ec2.describe_vpcs(Filters=flt("isDefault", "true"))["Vpcs"][0]["VpcId"]
    with pytest.raises(ClientError) as info:
        ec2.create_default_vpc()
    assert _code(info) == "DefaultVpcAlreadyExists"
    with pytest.raises(ClientError) as info:
        ec2.delete_vpc(VpcId=vpc_id)
    assert _code(info) == "DependencyViolation"
    for igw in ec2.describe_internet_gateways(Filters=flt("attachment.vpc-id", vpc_id))[
        "InternetGateways"
    ]:
        ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
        ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
    for subnet in ec2.describe_subnets(Filters=flt("vpc-id", vpc_id))["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)


def _check_default_network(ec2: Any, vpc_id: str) -> None:
    subnets = ec2.describe_subnets(Filters=flt("vpc-id", vpc_id))["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    assert all(s["DefaultForAz"] and s["MapPublicIpOnLaunch"] for s in subnets)
    assert all(s["CidrBlock"].endswith("/20") for s in subnets)
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert hostnames["EnableDnsHostnames"]["Value"] is True
    igws = ec2.describe_internet_gateways(Filters=flt("attachment.vpc-id", vpc_id))[
        "InternetGateways"
    ]
    assert len(igws) == 1
    igw_id = igws[0]["InternetGatewayId"]
    table = ec2.describe_route_tables(
        Filters=flt("vpc-id", vpc_id) + flt("association.main", "true")
    )["RouteTables"][0]
    routes = {r["DestinationCidrBlock"]: r for r in table["Routes"]}
    assert routes["0.0.0.0/0"]["GatewayId"] == igw_id
    assert routes["0.0.0.0/0"]["State"] == "active"
    groups = ec2.describe_security_groups(Filters=flt("vpc-id", vpc_id))["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]
