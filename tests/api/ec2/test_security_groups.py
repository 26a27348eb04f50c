"""Security groups, VPCs, subnets, regions and tags through boto3 against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _ssh(port: int = 22, cidr: str = "0.0.0.0/0") -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}


class TestDefaultNetwork:
    def test_default_vpc_and_subnets(self, server: Server, ec2: Any) -> None:
        """A new account has one default VPC and a default subnet in each zone."""
        vpcs = ec2.describe_vpcs()["Vpcs"]
        assert len(vpcs) == 1
        assert vpcs[0]["IsDefault"] is True
        assert vpcs[0]["CidrBlock"] == server.cidr
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])[
            "Subnets"
        ]
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
        assert sorted(s["AvailabilityZone"] for s in subnets) == sorted(zones)
        assert all(s["DefaultForAz"] for s in subnets)

    def test_default_group(self, ec2: Any) -> None:
        """The default group admits its own members and allows all egress."""
        group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
        pairs = group["IpPermissions"][0]["UserIdGroupPairs"]
        assert pairs[0]["GroupId"] == group["GroupId"]
        assert group["IpPermissionsEgress"][0]["IpProtocol"] == "-1"
        with pytest.raises(ClientError) as info:
            ec2.delete_security_group(GroupId=group["GroupId"])
        assert _code(info) == "CannotDelete"

    def test_regions(self, ec2: Any) -> None:
        """DescribeRegions names the cloud's region."""
        regions = ec2.describe_regions()["Regions"]
        assert [r["RegionName"] for r in regions] == ["us-east-1"]


class TestSecurityGroups:
    def test_create_authorize_describe(self, ec2: Any) -> None:
        """A new group allows all egress; authorized ingress rules are listed."""
        gid = ec2.create_security_group(GroupName="web", Description="web servers")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[_ssh(22), _ssh(80)])
        group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
        ports = sorted(p["FromPort"] for p in group["IpPermissions"])
        assert ports == [22, 80]
        assert group["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]

    def test_duplicate_group_and_rule(self, ec2: Any) -> None:
        """Duplicate names and duplicate rules get AWS's Duplicate codes."""
        gid = ec2.create_security_group(GroupName="dup", Description="d")["GroupId"]
        with pytest.raises(ClientError) as info:
            ec2.create_security_group(GroupName="dup", Description="d")
        assert _code(info) == "InvalidGroup.Duplicate"
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[_ssh()])
        with pytest.raises(ClientError) as info:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[_ssh()])
        assert _code(info) == "InvalidPermission.Duplicate"

    def test_legacy_parameters(self, ec2: Any) -> None:
        """The old top-level CidrIp/IpProtocol/FromPort/ToPort form works too."""
        gid = ec2.create_security_group(GroupName="legacy", Description="l")["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid, IpProtocol="udp", FromPort=53, ToPort=53, CidrIp="10.0.0.0/8"
        )
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])[
            "SecurityGroupRules"
        ]
        ingress = [r for r in rules if not r["IsEgress"]]
        assert ingress[0]["IpProtocol"] == "udp"
        assert ingress[0]["CidrIpv4"] == "10.0.0.0/8"

    def test_source_group_and_dependency(self, ec2: Any) -> None:
        """A rule may name a source group; that group then cannot be deleted."""
        src = ec2.create_security_group(GroupName="src", Description="s")["GroupId"]
        dst = ec2.create_security_group(GroupName="dst", Description="d")["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=dst,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 5432,
                    "ToPort": 5432,
                    "UserIdGroupPairs": [{"GroupId": src}],
                }
            ],
        )
        with pytest.raises(ClientError) as info:
            ec2.delete_security_group(GroupId=src)
        assert _code(info) == "DependencyViolation"
        ec2.delete_security_group(GroupId=dst)
        ec2.delete_security_group(GroupId=src)

    def test_revoke(self, ec2: Any) -> None:
        """Revoking removes a rule; revoking it again is InvalidPermission.NotFound."""
        gid = ec2.create_security_group(GroupName="revoke", Description="r")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[_ssh(443)])
        ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[_ssh(443)])
        group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
        assert group["IpPermissions"] == []
        with pytest.raises(ClientError) as info:
            ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[_ssh(443)])
        assert _code(info) == "InvalidPermission.NotFound"

    def test_revoke_egress_by_rule_id(self, ec2: Any) -> None:
        """Egress rules can be revoked by SecurityGroupRuleId."""
        gid = ec2.create_security_group(GroupName="egress", Description="e")["GroupId"]
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])[
            "SecurityGroupRules"
        ]
        ec2.revoke_security_group_egress(
            GroupId=gid, SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]]
        )
        group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
        assert group["IpPermissionsEgress"] == []

    @pytest.mark.parametrize(
        ("permission", "code"),
        [
            (
                {
                    "IpProtocol": "tcp",
                    "FromPort": 90,
                    "ToPort": 80,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                },
                "InvalidParameterValue",
            ),
            (
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpRanges": [{"CidrIp": "300.0.0.0/8"}],
                },
                "InvalidParameterValue",
            ),
            (
                {
                    "IpProtocol": "bogus",
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                },
                "InvalidParameterValue",
            ),
            (
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "UserIdGroupPairs": [{"GroupId": "sg-0000000000000000f"}],
                },
                "InvalidGroup.NotFound",
            ),
        ],
    )
    def test_bad_rules(self, ec2: Any, permission: dict[str, Any], code: str) -> None:
        """Bad port ranges, CIDRs, protocols and source groups get AWS's codes."""
        gid = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
        with pytest.raises(ClientError) as info:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[permission])
        assert _code(info) == code

    def test_not_found_and_malformed(self, ec2: Any) -> None:
        """Unknown group ids are InvalidGroup.NotFound; malformed ones InvalidGroupId.Malformed."""
        with pytest.raises(ClientError) as info:
            ec2.describe_security_groups(GroupIds=["sg-0123456789abcdef0"])
        assert _code(info) == "InvalidGroup.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.describe_security_groups(GroupIds=["nonsense"])
        assert _code(info) == "InvalidGroupId.Malformed"

    def test_pagination(self, server: Server, ec2: Any) -> None:
        """MaxResults/NextToken pages through every group exactly once."""
        for i in range(7):
            ec2.create_security_group(GroupName=f"page-{i}", Description="p")
        every = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
        seen: list[str] = []
        paginator = ec2.get_paginator("describe_security_groups")
        for page in paginator.paginate(PaginationConfig={"PageSize": 5}):
            assert len(page["SecurityGroups"]) <= 5
            seen += [g["GroupId"] for g in page["SecurityGroups"]]
        assert sorted(seen) == sorted(every)
        unchecked = server.client("ec2", parameter_validation=False)
        with pytest.raises(ClientError) as info:
            unchecked.describe_security_groups(MaxResults=2)
        assert _code(info) == "InvalidParameterValue"

    def test_filters(self, ec2: Any) -> None:
        """Filters on group name and ingress port select the right groups."""
        gid = ec2.create_security_group(GroupName="filter-me", Description="f")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[_ssh(8443)])
        found = ec2.describe_security_groups(
            Filters=[
                {"Name": "group-name", "Values": ["filter-*"]},
                {"Name": "ip-permission.from-port", "Values": ["8443"]},
            ]
        )["SecurityGroups"]
        assert [g["GroupId"] for g in found] == [gid]

    def test_source_group_filters(self, ec2: Any, sts: Any) -> None:
        """``ip-permission.group-name`` and ``ip-permission.user-id`` select the groups whose
        rules name a source group (by that group's name and owner); ``prefix-list-id``
        matches nothing, since prefix lists are not offered."""
        source = ec2.create_security_group(GroupName="src-by-name", Description="s")["GroupId"]
        target = ec2.create_security_group(GroupName="tgt-by-name", Description="t")["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=target,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                 "UserIdGroupPairs": [{"GroupId": source}]}
            ],
        )  # fmt: skip
        account = sts.get_caller_identity()["Account"]
        for name, value in (
            ("ip-permission.group-name", "src-by-name"),
            ("ip-permission.user-id", account),
        ):
            found = ec2.describe_security_groups(
                Filters=[
                    {"Name": name, "Values": [value]},
                    {"Name": "group-id", "Values": [target]},
                ]
            )["SecurityGroups"]
            assert [g["GroupId"] for g in found] == [target], name
        none = ec2.describe_security_groups(
            Filters=[{"Name": "ip-permission.prefix-list-id", "Values": ["*"]}]
        )["SecurityGroups"]
        assert none == []


class TestTags:
    def test_create_describe_delete(self, ec2: Any) -> None:
        """CreateTags, DescribeTags with filters, DeleteTags with and without a value."""
        gid = ec2.create_security_group(GroupName="tagged", Description="t")["GroupId"]
        ec2.create_tags(
            Resources=[gid], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
        )
        found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [gid]}])["Tags"]
        assert {(t["Key"], t["Value"], t["ResourceType"]) for t in found} == {
            ("a", "1", "security-group"),
            ("b", "2", "security-group"),
        }
        ec2.delete_tags(Resources=[gid], Tags=[{"Key": "a", "Value": "wrong"}])
        ec2.delete_tags(Resources=[gid], Tags=[{"Key": "b"}])
        found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [gid]}])["Tags"]
        assert [(t["Key"], t["Value"]) for t in found] == [("a", "1")]

    def test_missing_resource(self, ec2: Any) -> None:
        """Tagging a resource that does not exist is that kind's NotFound, and tags nothing."""
        gid = ec2.create_security_group(GroupName="half", Description="h")["GroupId"]
        with pytest.raises(ClientError) as info:
            ec2.create_tags(
                Resources=[gid, "sg-0123456789abcdef0"], Tags=[{"Key": "k", "Value": "v"}]
            )
        assert _code(info) == "InvalidGroup.NotFound"
        assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [gid]}])["Tags"] == []

    def test_reserved_prefix(self, ec2: Any) -> None:
        """Tag keys starting with aws: are refused."""
        gid = ec2.create_security_group(GroupName="reserved", Description="r")["GroupId"]
        with pytest.raises(ClientError) as info:
            ec2.create_tags(Resources=[gid], Tags=[{"Key": "aws:x", "Value": "v"}])
        assert _code(info) == "InvalidParameterValue"
