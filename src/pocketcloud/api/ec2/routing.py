"""EC2 wire handlers for internet gateways, route tables, routes and associations."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_list, tag_spec
from pocketcloud.services.ec2 import gateways, route_associations, routing

# --- internet gateways -----------------------------------------------------------------


def gateway_view(call: Call, gateway: gateways.InternetGateway) -> Result:
    """A gateway as the ``InternetGateway`` shape (AWS reports an attachment as available)."""
    attachments = [{"State": "available", "VpcId": gateway.vpc_id}] if gateway.vpc_id else []
    return {
        "InternetGatewayId": gateway.igw_id,
        "OwnerId": call.cloud.account_id,
        "Attachments": attachments,
        "Tags": tag_list(gateway.tags),
    }


@registry.op("CreateInternetGateway")
def create_internet_gateway(call: Call, p: Params) -> Result:
    gateway = gateways.create_internet_gateway(call.cloud, tag_spec(p, "internet-gateway"))
    return {"InternetGateway": gateway_view(call, gateway)}


@registry.op("AttachInternetGateway")
def attach_internet_gateway(call: Call, p: Params) -> Result:
    gateways.attach_internet_gateway(call.cloud, p["InternetGatewayId"], p["VpcId"])
    return {}


@registry.op("DetachInternetGateway")
def detach_internet_gateway(call: Call, p: Params) -> Result:
    gateways.detach_internet_gateway(call.cloud, p["InternetGatewayId"], p["VpcId"])
    return {}


@registry.op("DeleteInternetGateway")
def delete_internet_gateway(call: Call, p: Params) -> Result:
    gateways.delete_internet_gateway(call.cloud, p["InternetGatewayId"])
    return {}


@registry.op("DescribeInternetGateways", filters=gateways.GATEWAY_FILTERS)
def describe_internet_gateways(call: Call, p: Params) -> Result:
    found, token = gateways.describe_internet_gateways(
        call.cloud,
        p.get("InternetGatewayIds", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"InternetGateways": [gateway_view(call, g) for g in found], "NextToken": token}


# --- route tables ----------------------------------------------------------------------


def _association(assoc: routing.Association) -> Result:
    out: Result = {
        "Main": assoc.main,
        "RouteTableAssociationId": assoc.association_id,
        "RouteTableId": assoc.route_table_id,
        "AssociationState": {"State": "associated"},
    }
    if assoc.subnet_id:
        out["SubnetId"] = assoc.subnet_id
    return out


def table_view(call: Call, table: routing.RouteTable) -> Result:
    """A table as the ``RouteTable`` shape."""
    return {
        "RouteTableId": table.route_table_id,
        "VpcId": table.vpc_id,
        "OwnerId": call.cloud.account_id,
        "Routes": [
            {
                "DestinationCidrBlock": r.destination,
                "GatewayId": r.gateway_id,
                "Origin": r.origin,
                "State": r.state,
            }
            for r in table.routes
        ],
        "Associations": [_association(a) for a in table.associations],
        "PropagatingVgws": [],
        "Tags": tag_list(table.tags),
    }


@registry.op("CreateRouteTable")
def create_route_table(call: Call, p: Params) -> Result:
    table = routing.create_route_table(
        call.cloud, p["VpcId"], tag_spec(p, "route-table"), p.get("ClientToken")
    )
    return {"RouteTable": table_view(call, table), "ClientToken": p.get("ClientToken")}


@registry.op("DeleteRouteTable")
def delete_route_table(call: Call, p: Params) -> Result:
    routing.delete_route_table(call.cloud, p["RouteTableId"])
    return {}


@registry.op("DescribeRouteTables", filters=routing.TABLE_FILTERS)
def describe_route_tables(call: Call, p: Params) -> Result:
    found, token = routing.describe_route_tables(
        call.cloud,
        p.get("RouteTableIds", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"RouteTables": [table_view(call, t) for t in found], "NextToken": token}


#: CreateRoute/ReplaceRoute members naming a target or destination pocketcloud has not
_OTHER_TARGETS = (
    "DestinationIpv6CidrBlock",
    "DestinationPrefixListId",
    "VpcEndpointId",
    "LocalTarget",
    "TransitGatewayId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "CoreNetworkArn",
    "OdbNetworkArn",
    "EgressOnlyInternetGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcPeeringConnectionId",
    "NatGatewayId",
)


def _target(p: Params) -> routing.Target:
    others = tuple(name for name in _OTHER_TARGETS if p.get(name))
    return routing.Target(p.get("DestinationCidrBlock"), p.get("GatewayId"), others)


@registry.op("CreateRoute")
def create_route(call: Call, p: Params) -> Result:
    routing.create_route(call.cloud, p["RouteTableId"], _target(p))
    return {"Return": True}


@registry.op("ReplaceRoute")
def replace_route(call: Call, p: Params) -> Result:
    routing.replace_route(call.cloud, p["RouteTableId"], _target(p))
    return {}


@registry.op("DeleteRoute")
def delete_route(call: Call, p: Params) -> Result:
    routing.delete_route(call.cloud, p["RouteTableId"], p.get("DestinationCidrBlock"))
    return {}


@registry.op("AssociateRouteTable")
def associate_route_table(call: Call, p: Params) -> Result:
    made = route_associations.associate_route_table(
        call.cloud, p["RouteTableId"], p.get("SubnetId"), p.get("GatewayId")
    )
    return {"AssociationId": made.association_id, "AssociationState": {"State": made.state}}


@registry.op("DisassociateRouteTable")
def disassociate_route_table(call: Call, p: Params) -> Result:
    route_associations.disassociate_route_table(call.cloud, p["AssociationId"])
    return {}


@registry.op("ReplaceRouteTableAssociation")
def replace_route_table_association(call: Call, p: Params) -> Result:
    made = route_associations.replace_route_table_association(
        call.cloud, p["AssociationId"], p["RouteTableId"]
    )
    return {"NewAssociationId": made.association_id, "AssociationState": {"State": made.state}}
