"""EC2 wire handlers for VPCs, subnets, availability zones and regions."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_list, tag_spec
from pocketcloud.services.ec2 import network, subnets, vpcs

#: what AWS reports while no block-public-access setting applies
NO_BLOCK = {"InternetGatewayBlockMode": "off"}

# --- VPCs ------------------------------------------------------------------------------


def vpc_view(call: Call, vpc: network.Vpc) -> Result:
    """A VPC as the ``Vpc`` shape."""
    return {
        "VpcId": vpc.vpc_id,
        "CidrBlock": vpc.cidr,
        "State": "available",
        "IsDefault": vpc.is_default,
        "OwnerId": call.cloud.account_id,
        "InstanceTenancy": vpc.tenancy,
        "DhcpOptionsId": "default",
        "CidrBlockAssociationSet": [
            {
                "AssociationId": vpc.cidr_association_id,
                "CidrBlock": vpc.cidr,
                "CidrBlockState": {"State": "associated"},
            }
        ],
        "BlockPublicAccessStates": NO_BLOCK,
        "Tags": tag_list(vpc.tags),
    }


#: CreateVpc/CreateSubnet members naming a feature pocketcloud has not
_VPC_UNSUPPORTED = (
    "Ipv6Pool",
    "Ipv6CidrBlock",
    "Ipv4IpamPoolId",
    "Ipv4NetmaskLength",
    "Ipv6IpamPoolId",
    "Ipv6NetmaskLength",
    "Ipv6CidrBlockNetworkBorderGroup",
    "AmazonProvidedIpv6CidrBlock",
)
_SUBNET_UNSUPPORTED = (
    "Ipv6CidrBlock",
    "OutpostArn",
    "Ipv6Native",
    "Ipv4IpamPoolId",
    "Ipv4NetmaskLength",
    "Ipv6IpamPoolId",
    "Ipv6NetmaskLength",
)


def _asked(p: Params, members: tuple[str, ...]) -> list[str]:
    """Which of ``members`` the request sets (to anything but false)."""
    return [m for m in members if p.get(m) not in (None, False, "")]


@registry.op("CreateVpc")
def create_vpc(call: Call, p: Params) -> Result:
    network.refuse_unsupported(_asked(p, _VPC_UNSUPPORTED), "CreateVpc")
    vpc = vpcs.create_vpc(
        call.cloud, p.get("CidrBlock"), p.get("InstanceTenancy"), tag_spec(p, "vpc")
    )
    return {"Vpc": vpc_view(call, vpc)}


@registry.op("CreateDefaultVpc")
def create_default_vpc(call: Call, p: Params) -> Result:
    return {"Vpc": vpc_view(call, vpcs.create_default_vpc(call.cloud))}


@registry.op("DeleteVpc")
def delete_vpc(call: Call, p: Params) -> Result:
    vpcs.delete_vpc(call.cloud, p["VpcId"])
    return {}


@registry.op("DescribeVpcs", filters=network.VPC_FILTERS)
def describe_vpcs(call: Call, p: Params) -> Result:
    found, token = network.describe_vpcs(
        call.cloud, p.get("VpcIds", []), filters_of(p), p.get("MaxResults"), p.get("NextToken")
    )
    return {"Vpcs": [vpc_view(call, v) for v in found], "NextToken": token}


_VPC_ATTRIBUTES = {
    "EnableDnsSupport": "enableDnsSupport",
    "EnableDnsHostnames": "enableDnsHostnames",
    "EnableNetworkAddressUsageMetrics": "enableNetworkAddressUsageMetrics",
}


@registry.op("ModifyVpcAttribute")
def modify_vpc_attribute(call: Call, p: Params) -> Result:
    changes = {
        name: bool(p[member].get("Value"))
        for member, name in _VPC_ATTRIBUTES.items()
        if member in p
    }
    vpcs.modify_vpc_attribute(call.cloud, p["VpcId"], changes)
    return {}


@registry.op("DescribeVpcAttribute")
def describe_vpc_attribute(call: Call, p: Params) -> Result:
    attribute = p["Attribute"]
    value = vpcs.describe_vpc_attribute(call.cloud, p["VpcId"], attribute)
    member = {name: member for member, name in _VPC_ATTRIBUTES.items()}[attribute]
    return {"VpcId": p["VpcId"], member: {"Value": value}}


# --- subnets ---------------------------------------------------------------------------


def subnet_view(call: Call, subnet: network.Subnet) -> Result:
    """A subnet as the ``Subnet`` shape."""
    cloud = call.cloud
    return {
        "SubnetId": subnet.subnet_id,
        "VpcId": subnet.vpc_id,
        "CidrBlock": subnet.cidr,
        "AvailabilityZone": subnet.zone,
        "AvailabilityZoneId": subnet.zone_id,
        "AvailableIpAddressCount": subnet.available_ips,
        "DefaultForAz": subnet.default_for_az,
        "MapPublicIpOnLaunch": subnet.map_public_ip,
        "MapCustomerOwnedIpOnLaunch": False,
        "State": "available",
        "OwnerId": cloud.account_id,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [],
        "SubnetArn": network.subnet_arn(cloud, subnet.subnet_id),
        "EnableDns64": False,
        "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "BlockPublicAccessStates": NO_BLOCK,
        "Tags": tag_list(subnet.tags),
    }


@registry.op("CreateSubnet")
def create_subnet(call: Call, p: Params) -> Result:
    network.refuse_unsupported(_asked(p, _SUBNET_UNSUPPORTED), "CreateSubnet")
    request = subnets.SubnetRequest(
        p["VpcId"], p.get("CidrBlock"), p.get("AvailabilityZone"), p.get("AvailabilityZoneId")
    )
    subnet = subnets.create_subnet(call.cloud, request, tag_spec(p, "subnet"))
    return {"Subnet": subnet_view(call, subnet)}


@registry.op("DeleteSubnet")
def delete_subnet(call: Call, p: Params) -> Result:
    subnets.delete_subnet(call.cloud, p["SubnetId"])
    return {}


@registry.op("ModifySubnetAttribute")
def modify_subnet_attribute(call: Call, p: Params) -> Result:
    others = {
        key: value.get("Value") if isinstance(value, dict) else value
        for key, value in p.items()
        if key not in ("SubnetId", "MapPublicIpOnLaunch", "DryRun")
    }
    public = p.get("MapPublicIpOnLaunch")
    map_public = None if public is None else bool(public.get("Value"))
    subnets.modify_subnet_attribute(call.cloud, p["SubnetId"], map_public, others)
    return {}


@registry.op("DescribeSubnets", filters=network.SUBNET_FILTERS)
def describe_subnets(call: Call, p: Params) -> Result:
    found, token = network.describe_subnets(
        call.cloud,
        p.get("SubnetIds", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"Subnets": [subnet_view(call, s) for s in found], "NextToken": token}


# --- zones and regions -----------------------------------------------------------------


@registry.op("DescribeAvailabilityZones", filters=network.ZONE_FILTERS)
def describe_availability_zones(call: Call, p: Params) -> Result:
    zones = network.describe_zones(
        call.cloud, p.get("ZoneNames", []), p.get("ZoneIds", []), filters_of(p)
    )
    return {
        "AvailabilityZones": [
            {
                "ZoneName": z.name,
                "ZoneId": z.zone_id,
                "State": "available",
                "RegionName": z.region,
                "ZoneType": "availability-zone",
                "GroupName": z.region,
                "GroupLongName": network.group_long_name(z.region),
                "NetworkBorderGroup": z.region,
                "OptInStatus": "opt-in-not-required",
                "Messages": [],
            }
            for z in zones
        ]
    }


@registry.op("DescribeRegions", filters=network.REGION_FILTERS)
def describe_regions(call: Call, p: Params) -> Result:
    names = network.describe_regions(call.cloud, p.get("RegionNames", []), filters_of(p))
    endpoint = call.cloud.settings.endpoint
    return {
        "Regions": [
            {"RegionName": n, "Endpoint": endpoint, "OptInStatus": "opt-in-not-required"}
            for n in names
        ]
    }
