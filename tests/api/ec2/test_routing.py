"""Internet gateways, route tables, routes and associations through boto3 and the AWS CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server
from tests.plugin.shapes import unfilled
from tests.plugin.vpcs import cidr_within, flt, new_vpc

pytestmark = pytest.mark.live

MISSING_IGW = "igw-0123456789abcdef0"


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


@pytest.fixture
def vpc(ec2: Any) -> Iterator[dict[str, Any]]:
    """A fresh VPC with one subnet (``vpc["Subnet"]``), torn down with whatever the test
    left in it."""
    made = new_vpc(ec2)
    made["Subnet"] = ec2.create_subnet(VpcId=made["VpcId"], CidrBlock=cidr_within(made, 26))[
        "Subnet"
    ]
    yield made
    _tear_down(ec2, made["VpcId"])


def _tear_down(ec2: Any, vpc_id: str) -> None:
    tables = ec2.describe_route_tables(Filters=flt("vpc-id", vpc_id))["RouteTables"]
    for table in tables:
        for assoc in table["Associations"]:
            if not assoc["Main"]:
                ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
    for table in tables:
        if not any(a["Main"] for a in table["Associations"]):
            ec2.delete_route_table(RouteTableId=table["RouteTableId"])
    for igw in ec2.describe_internet_gateways(Filters=flt("attachment.vpc-id", vpc_id))[
        "InternetGateways"
    ]:
        ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
        ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
    for subnet in ec2.describe_subnets(Filters=flt("vpc-id", vpc_id))["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)


def _table(ec2: Any, table_id: str) -> dict[str, Any]:
    return dict(ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0])


def _routes(ec2: Any, table_id: str) -> dict[str, dict[str, Any]]:
    return {r["DestinationCidrBlock"]: r for r in _table(ec2, table_id)["Routes"]}


def _main_table(ec2: Any, vpc_id: str) -> dict[str, Any]:
    found = ec2.describe_route_tables(
        Filters=flt("vpc-id", vpc_id) + flt("association.main", "true")
    )["RouteTables"]
    assert len(found) == 1
    return dict(found[0])


class TestInternetGateways:
    def test_lifecycle(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """Create (with tags; internet_gateway_exists completes), attach (attachment state
        available), detach, delete (then InvalidInternetGatewayID.NotFound)."""
        igw = ec2.create_internet_gateway(
            TagSpecifications=[
                {"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "gw"}]}
            ]
        )["InternetGateway"]
        igw_id = igw["InternetGatewayId"]
        assert igw["Attachments"] == []
        assert igw["Tags"] == [{"Key": "Name", "Value": "gw"}]
        assert igw["OwnerId"].isdigit()
        ec2.get_waiter("internet_gateway_exists").wait(
            InternetGatewayIds=[igw_id], WaiterConfig={"Delay": 1, "MaxAttempts": 3}
        )
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["VpcId"])
        found = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]
        assert found["Attachments"] == [{"State": "available", "VpcId": vpc["VpcId"]}]
        ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["VpcId"])
        found = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]
        assert found["Attachments"] == []
        ec2.delete_internet_gateway(InternetGatewayId=igw_id)
        with pytest.raises(ClientError) as info:
            ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])
        assert _code(info) == "InvalidInternetGatewayID.NotFound"

    def test_attach_errors(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """Attaching an attached gateway, or a second gateway to a VPC, is
        Resource.AlreadyAssociated; unknown ids are NotFound; detaching from a VPC it is
        not attached to is Gateway.NotAttached; deleting an attached one is
        DependencyViolation."""
        vpc_id = vpc["VpcId"]
        first = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        second = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=first, VpcId=vpc_id)
        for igw in (first, second):
            with pytest.raises(ClientError) as info:
                ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
            assert _code(info) == "Resource.AlreadyAssociated"
        with pytest.raises(ClientError) as info:
            ec2.attach_internet_gateway(InternetGatewayId=MISSING_IGW, VpcId=vpc_id)
        assert _code(info) == "InvalidInternetGatewayID.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.attach_internet_gateway(InternetGatewayId=second, VpcId="vpc-0123456789abcdef0")
        assert _code(info) == "InvalidVpcID.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.detach_internet_gateway(InternetGatewayId=second, VpcId=vpc_id)
        assert _code(info) == "Gateway.NotAttached"
        with pytest.raises(ClientError) as info:
            ec2.delete_internet_gateway(InternetGatewayId=first)
        assert _code(info) == "DependencyViolation"
        ec2.delete_internet_gateway(InternetGatewayId=second)

    def test_every_documented_filter(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """attachment.state, attachment.vpc-id, internet-gateway-id, owner-id and the tag
        filters select the gateway; a detached one has no attachment to match."""
        igw = ec2.create_internet_gateway(
            TagSpecifications=[
                {"ResourceType": "internet-gateway", "Tags": [{"Key": "env", "Value": "test"}]}
            ]
        )["InternetGateway"]
        igw_id = igw["InternetGatewayId"]
        loose = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["VpcId"])
        cases = {
            "attachment.state": "available",
            "attachment.vpc-id": vpc["VpcId"],
            "internet-gateway-id": igw_id,
            "owner-id": igw["OwnerId"],
            "tag:env": "test",
            "tag-key": "env",
        }
        for name, value in cases.items():
            found = ec2.describe_internet_gateways(Filters=flt(name, value))["InternetGateways"]
            ids = [g["InternetGatewayId"] for g in found]
            assert igw_id in ids, name
            if name not in ("owner-id",):
                assert loose not in ids, name
        with pytest.raises(ClientError) as info:
            ec2.describe_internet_gateways(Filters=flt("vpc-id", vpc["VpcId"]))
        assert _code(info) == "InvalidParameterValue"
        ec2.delete_internet_gateway(InternetGatewayId=loose)

    def test_pagination_and_tags(self, ec2: Any) -> None:
        """DescribeInternetGateways pages with MaxResults; CreateTags accepts a gateway id."""
        made = [
            ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"] for _ in range(6)
        ]
        ec2.create_tags(Resources=made[:1], Tags=[{"Key": "k", "Value": "v"}])
        tags = ec2.describe_tags(Filters=flt("resource-id", made[0]))["Tags"]
        assert [t["ResourceType"] for t in tags] == ["internet-gateway"]
        pages = ec2.get_paginator("describe_internet_gateways").paginate(
            PaginationConfig={"PageSize": 5}
        )
        seen = [g["InternetGatewayId"] for p in pages for g in p["InternetGateways"]]
        assert set(made) <= set(seen)
        assert len(seen) == len(set(seen))
        for igw_id in made:
            ec2.delete_internet_gateway(InternetGatewayId=igw_id)


class TestRouteTables:
    def test_lifecycle(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """CreateRouteTable answers the table with its local route and no association;
        DeleteRouteTable removes it (then InvalidRouteTableID.NotFound)."""
        table = ec2.create_route_table(
            VpcId=vpc["VpcId"],
            TagSpecifications=[
                {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "rt"}]}
            ],
        )["RouteTable"]
        assert table["VpcId"] == vpc["VpcId"]
        assert table["Associations"] == []
        assert table["Tags"] == [{"Key": "Name", "Value": "rt"}]
        assert table["Routes"] == [
            {
                "DestinationCidrBlock": vpc["CidrBlock"],
                "GatewayId": "local",
                "Origin": "CreateRouteTable",
                "State": "active",
            }
        ]
        ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        with pytest.raises(ClientError) as info:
            ec2.describe_route_tables(RouteTableIds=[table["RouteTableId"]])
        assert _code(info) == "InvalidRouteTableID.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.create_route_table(VpcId="vpc-0123456789abcdef0")
        assert _code(info) == "InvalidVpcID.NotFound"

    def test_client_token(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """A repeated ClientToken answers the table the first call made; the same token for
        another VPC is IdempotentParameterMismatch."""
        token = f"tok-{vpc['VpcId']}"
        first = ec2.create_route_table(VpcId=vpc["VpcId"], ClientToken=token)
        again = ec2.create_route_table(VpcId=vpc["VpcId"], ClientToken=token)
        assert first["RouteTable"]["RouteTableId"] == again["RouteTable"]["RouteTableId"]
        assert first["ClientToken"] == token
        default = ec2.describe_vpcs(Filters=flt("isDefault", "true"))["Vpcs"][0]["VpcId"]
        with pytest.raises(ClientError) as info:
            ec2.create_route_table(VpcId=default, ClientToken=token)
        assert _code(info) == "IdempotentParameterMismatch"

    def test_routes(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """CreateRoute needs an existing gateway attached to the table's VPC; a duplicate is
        RouteAlreadyExists; the route turns blackhole when the gateway is detached and
        active again when it is back; ReplaceRoute/DeleteRoute of a missing route are
        InvalidRoute.NotFound; the local route can be neither replaced nor deleted."""
        vpc_id = vpc["VpcId"]
        table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        route = {"RouteTableId": table_id, "DestinationCidrBlock": "0.0.0.0/0"}
        with pytest.raises(ClientError) as info:
            ec2.create_route(GatewayId=MISSING_IGW, **route)
        assert _code(info) == "InvalidInternetGatewayID.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.create_route(GatewayId=igw, **route)
        assert _code(info) == "InvalidParameterValue"
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        assert ec2.create_route(GatewayId=igw, **route)["Return"] is True
        made = _routes(ec2, table_id)["0.0.0.0/0"]
        assert made == {
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": igw,
            "Origin": "CreateRoute",
            "State": "active",
        }
        with pytest.raises(ClientError) as info:
            ec2.create_route(GatewayId=igw, **route)
        assert _code(info) == "RouteAlreadyExists"
        ec2.create_route(GatewayId=igw, RouteTableId=table_id, DestinationCidrBlock="192.0.2.0/24")
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        assert {r["State"] for r in _table(ec2, table_id)["Routes"][1:]} == {"blackhole"}
        blackholes = ec2.describe_route_tables(Filters=flt("route.state", "blackhole"))
        assert table_id in [t["RouteTableId"] for t in blackholes["RouteTables"]]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        assert _routes(ec2, table_id)["0.0.0.0/0"]["State"] == "active"
        ec2.replace_route(GatewayId=igw, **route)
        with pytest.raises(ClientError) as info:
            ec2.replace_route(
                GatewayId=igw, RouteTableId=table_id, DestinationCidrBlock="1.0.0.0/8"
            )
        assert _code(info) == "InvalidRoute.NotFound"
        local = {"RouteTableId": table_id, "DestinationCidrBlock": vpc["CidrBlock"]}
        with pytest.raises(ClientError) as info:
            ec2.replace_route(GatewayId=igw, **local)
        assert _code(info) == "InvalidParameterValue"
        with pytest.raises(ClientError) as info:
            ec2.delete_route(**local)
        assert _code(info) == "InvalidParameterValue"
        ec2.delete_route(**route)
        with pytest.raises(ClientError) as info:
            ec2.delete_route(**route)
        assert _code(info) == "InvalidRoute.NotFound"
        assert "0.0.0.0/0" not in _routes(ec2, table_id)

    def test_route_inside_the_vpc_is_refused(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """A gateway route to (part of) the VPC's own CIDR is InvalidParameterValue; a route
        to another kind of target is UnsupportedOperation."""
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
        table_id = _main_table(ec2, vpc["VpcId"])["RouteTableId"]
        with pytest.raises(ClientError) as info:
            ec2.create_route(
                RouteTableId=table_id,
                DestinationCidrBlock=cidr_within(vpc, 28, 4),
                GatewayId=igw,
            )
        assert _code(info) == "InvalidParameterValue"
        with pytest.raises(ClientError) as info:
            ec2.create_route(
                RouteTableId=table_id,
                DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId="nat-0123456789abcdef0",
            )
        assert _code(info) == "UnsupportedOperation"

    def test_deleting_the_gateway_leaves_a_blackhole(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """A route to a deleted gateway stays, as a blackhole."""
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
        table_id = _main_table(ec2, vpc["VpcId"])["RouteTableId"]
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
        ec2.delete_internet_gateway(InternetGatewayId=igw)
        route = _routes(ec2, table_id)["0.0.0.0/0"]
        assert route["GatewayId"] == igw
        assert route["State"] == "blackhole"


class TestAssociations:
    def test_associate_and_disassociate(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """A subnet takes one explicit association (a second is Resource.AlreadyAssociated);
        an associated table cannot be deleted; disassociating returns the subnet to the
        main table; the main association cannot be disassociated."""
        subnet_id = vpc["Subnet"]["SubnetId"]
        table_id = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
        other = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
        made = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
        assert made["AssociationState"] == {"State": "associated"}
        assoc_id = made["AssociationId"]
        assoc = _table(ec2, table_id)["Associations"]
        assert assoc == [
            {
                "Main": False,
                "RouteTableAssociationId": assoc_id,
                "RouteTableId": table_id,
                "SubnetId": subnet_id,
                "AssociationState": {"State": "associated"},
            }
        ]
        with pytest.raises(ClientError) as info:
            ec2.associate_route_table(RouteTableId=other, SubnetId=subnet_id)
        assert _code(info) == "Resource.AlreadyAssociated"
        with pytest.raises(ClientError) as info:
            ec2.delete_route_table(RouteTableId=table_id)
        assert _code(info) == "DependencyViolation"
        main = _main_table(ec2, vpc["VpcId"])
        with pytest.raises(ClientError) as info:
            ec2.delete_route_table(RouteTableId=main["RouteTableId"])
        assert _code(info) == "DependencyViolation"
        with pytest.raises(ClientError) as info:
            ec2.disassociate_route_table(
                AssociationId=main["Associations"][0]["RouteTableAssociationId"]
            )
        assert _code(info) == "InvalidParameterValue"
        ec2.disassociate_route_table(AssociationId=assoc_id)
        with pytest.raises(ClientError) as info:
            ec2.disassociate_route_table(AssociationId=assoc_id)
        assert _code(info) == "InvalidAssociationID.NotFound"
        assert _table(ec2, table_id)["Associations"] == []
        ec2.delete_route_table(RouteTableId=table_id)

    def test_subnet_of_another_vpc(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """Associating a subnet of another VPC is InvalidParameterValue; unknown ids are
        NotFound."""
        default_subnet = ec2.describe_subnets(Filters=flt("default-for-az", "true"))["Subnets"][0]
        table_id = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
        with pytest.raises(ClientError) as info:
            ec2.associate_route_table(RouteTableId=table_id, SubnetId=default_subnet["SubnetId"])
        assert _code(info) == "InvalidParameterValue"
        with pytest.raises(ClientError) as info:
            ec2.associate_route_table(RouteTableId=table_id, SubnetId="subnet-0123456789abcdef0")
        assert _code(info) == "InvalidSubnetID.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.associate_route_table(
                RouteTableId="rtb-0123456789abcdef0", SubnetId=vpc["Subnet"]["SubnetId"]
            )
        assert _code(info) == "InvalidRouteTableID.NotFound"

    def test_replace_subnet_association(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """ReplaceRouteTableAssociation moves a subnet to another table under a new id."""
        subnet_id = vpc["Subnet"]["SubnetId"]
        first = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
        second = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
        assoc_id = ec2.associate_route_table(RouteTableId=first, SubnetId=subnet_id)[
            "AssociationId"
        ]
        moved = ec2.replace_route_table_association(AssociationId=assoc_id, RouteTableId=second)
        assert moved["NewAssociationId"] != assoc_id
        assert moved["AssociationState"] == {"State": "associated"}
        assert _table(ec2, first)["Associations"] == []
        assert _table(ec2, second)["Associations"][0]["SubnetId"] == subnet_id
        with pytest.raises(ClientError) as info:
            ec2.replace_route_table_association(AssociationId=assoc_id, RouteTableId=second)
        assert _code(info) == "InvalidAssociationID.NotFound"

    def test_replace_main_association(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """ReplaceRouteTableAssociation of the main association makes another table the
        main one; the old main table can then be deleted."""
        old_main = _main_table(ec2, vpc["VpcId"])
        new_main = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
        moved = ec2.replace_route_table_association(
            AssociationId=old_main["Associations"][0]["RouteTableAssociationId"],
            RouteTableId=new_main,
        )
        now_main = _main_table(ec2, vpc["VpcId"])
        assert now_main["RouteTableId"] == new_main
        assert now_main["Associations"][0]["RouteTableAssociationId"] == moved["NewAssociationId"]
        assert now_main["Associations"][0]["Main"] is True
        ec2.delete_route_table(RouteTableId=old_main["RouteTableId"])

    def test_delete_subnet_drops_its_association(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """DeleteSubnet removes the subnet's explicit association, so its table can go."""
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 26, 1))["Subnet"]
        table_id = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet["SubnetId"])
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        assert _table(ec2, table_id)["Associations"] == []
        ec2.delete_route_table(RouteTableId=table_id)


class TestDescribeRouteTables:
    def test_every_documented_filter(self, cloud: Server, ec2: Any, vpc: dict[str, Any]) -> None:
        """Each filter AWS documents for DescribeRouteTables selects the table it describes
        (also through the AWS CLI); filters on targets pocketcloud has not match nothing."""
        vpc_id, subnet_id = vpc["VpcId"], vpc["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        table = ec2.create_route_table(
            VpcId=vpc_id,
            TagSpecifications=[
                {"ResourceType": "route-table", "Tags": [{"Key": "tier", "Value": "public"}]}
            ],
        )["RouteTable"]
        table_id = table["RouteTableId"]
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        assoc_id = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)[
            "AssociationId"
        ]
        cases = {
            "association.route-table-association-id": assoc_id,
            "association.route-table-id": table_id,
            "association.subnet-id": subnet_id,
            "association.main": "false",
            "owner-id": table["OwnerId"],
            "route-table-id": table_id,
            "route.destination-cidr-block": "0.0.0.0/0",
            "route.gateway-id": igw,
            "route.origin": "CreateRoute",
            "route.state": "active",
            "vpc-id": vpc_id,
            "tag:tier": "public",
            "tag-key": "tier",
        }
        for name, value in cases.items():
            found = ec2.describe_route_tables(Filters=flt(name, value))["RouteTables"]
            assert table_id in [t["RouteTableId"] for t in found], name
        main_id = _main_table(ec2, vpc_id)["RouteTableId"]
        mains = ec2.describe_route_tables(Filters=flt("association.main", "true"))["RouteTables"]
        assert main_id in [t["RouteTableId"] for t in mains]
        assert table_id not in [t["RouteTableId"] for t in mains]
        for name in (
            "association.gateway-id",
            "route.destination-ipv6-cidr-block",
            "route.destination-prefix-list-id",
            "route.egress-only-internet-gateway-id",
            "route.instance-id",
            "route.nat-gateway-id",
            "route.transit-gateway-id",
            "route.vpc-peering-connection-id",
        ):
            assert ec2.describe_route_tables(Filters=flt(name, "*"))["RouteTables"] == [], name
        with pytest.raises(ClientError) as info:
            ec2.describe_route_tables(Filters=flt("route.colour", "blue"))
        assert _code(info) == "InvalidParameterValue"
        out = cloud.aws(
            "ec2",
            "describe-route-tables",
            "--filters",
            f"Name=association.subnet-id,Values={subnet_id}",
        )
        assert [t["RouteTableId"] for t in out["RouteTables"]] == [table_id]

    def test_pagination(self, cloud: Server, ec2: Any, vpc: dict[str, Any]) -> None:
        """DescribeRouteTables pages with MaxResults (5 to 100) and NextToken."""
        for _ in range(5):
            ec2.create_route_table(VpcId=vpc["VpcId"])
        pages = ec2.get_paginator("describe_route_tables").paginate(
            Filters=flt("vpc-id", vpc["VpcId"]), PaginationConfig={"PageSize": 5}
        )
        assert [len(p["RouteTables"]) for p in pages] == [5, 1]
        loose = cloud.client("ec2", parameter_validation=False)
        with pytest.raises(ClientError) as info:
            loose.describe_route_tables(MaxResults=101)
        assert _code(info) == "InvalidParameterValue"

    def test_default_vpc_main_table(self, ec2: Any) -> None:
        """A new cloud's default VPC has a main table: local route and 0.0.0.0/0 to its
        attached gateway, both active."""
        default = ec2.describe_vpcs(Filters=flt("isDefault", "true"))["Vpcs"][0]
        main = _main_table(ec2, default["VpcId"])
        igw = ec2.describe_internet_gateways(Filters=flt("attachment.vpc-id", default["VpcId"]))[
            "InternetGateways"
        ][0]["InternetGatewayId"]
        routes = {r["DestinationCidrBlock"]: r for r in main["Routes"]}
        assert routes[default["CidrBlock"]]["GatewayId"] == "local"
        assert routes["0.0.0.0/0"]["GatewayId"] == igw
        assert {r["State"] for r in routes.values()} == {"active"}


#: output members AWS leaves out for these resources as pocketcloud makes them, and why
NOT_FILLED = {
    "NextToken": "only on a page that has a next one",
    "Vpc.EncryptionControl": "VPC encryption controls are not configured",
    "Vpc.Ipv6CidrBlockAssociationSet": "no IPv6 block (AWS omits the member)",
    "Vpc.NetworkFirewallAssociations": "no Network Firewall",
    "VpcCidrBlockState.StatusMessage": "only for failed associations",
    "Subnet.CustomerOwnedIpv4Pool": "Outposts only",
    "Subnet.EnableLniAtDeviceIndex": "Outposts only",
    "Subnet.NetworkFirewallConnectivityType": "no Network Firewall",
    "Subnet.OutpostArn": "Outposts only",
    "Subnet.Type": "set only for special-purpose subnets",
    "RouteTableAssociation.GatewayId": "edge associations only",
    "RouteTableAssociation.PublicIpv4Pool": "edge associations only",
    "RouteTableAssociationState.StatusMessage": "only for failed associations",
    "Route.IgwFirewall": "no Network Firewall",
    "Route.InstanceOwnerId": "routes to instances only",
    "Route.IpAddress": "routes to an IP target only",
    "DescribeVpcAttributeResult.EnableDnsHostnames": "one attribute per call",
    "DescribeVpcAttributeResult.EnableDnsSupport": "one attribute per call",
    "DescribeVpcAttributeResult.EnableNetworkAddressUsageMetrics": "one attribute per call",
}
#: route targets other than an internet gateway or ``local`` (pocketcloud has none)
OTHER_TARGETS = (
    "CarrierGatewayId",
    "CoreNetworkArn",
    "DestinationIpv6CidrBlock",
    "DestinationPrefixListId",
    "EgressOnlyInternetGatewayId",
    "InstanceId",
    "LocalGatewayId",
    "NatGatewayId",
    "NetworkInterfaceId",
    "OdbNetworkArn",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
)


class TestShapes:
    def test_every_member_aws_fills(self, ec2: Any, vpc: dict[str, Any]) -> None:
        """Walking botocore's output shapes over each operation's answers finds no member
        left unfilled that AWS fills for such a resource."""
        vpc_id = vpc["VpcId"]
        igw = ec2.create_internet_gateway()
        igw_id = igw["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
        table = ec2.create_route_table(VpcId=vpc_id)
        table_id = table["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
        ec2.associate_route_table(RouteTableId=table_id, SubnetId=vpc["Subnet"]["SubnetId"])
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr_within(vpc, 26, 2))
        calls = {
            "CreateVpc": [{"Vpc": vpc_view(vpc)}],
            "DescribeVpcs": [ec2.describe_vpcs()],
            "CreateSubnet": [subnet],
            "DescribeSubnets": [ec2.describe_subnets()],
            "CreateInternetGateway": [igw],
            "DescribeInternetGateways": [ec2.describe_internet_gateways()],
            "CreateRouteTable": [table],
            "DescribeRouteTables": [ec2.describe_route_tables()],
            "DescribeVpcAttribute": [
                ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=a)
                for a in ("enableDnsSupport", "enableDnsHostnames")
            ],
        }
        allowed = {f"Route.{t}" for t in OTHER_TARGETS}
        for operation, answers in calls.items():
            missing = unfilled("ec2", operation, answers)
            left = {
                m
                for m in missing
                if m not in allowed and m not in NOT_FILLED and not m.endswith(".NextToken")
            }
            assert not left, (operation, left)
        ec2.delete_subnet(SubnetId=subnet["Subnet"]["SubnetId"])


def vpc_view(vpc: dict[str, Any]) -> dict[str, Any]:
    """A CreateVpc answer as the fixture kept it (without the added Subnet)."""
    return {k: v for k, v in vpc.items() if k != "Subnet"}
