"""EC2 security group wire handlers (registered on the EC2 registry)."""

from __future__ import annotations

from typing import Any

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_list, tag_spec
from pocketcloud.services.ec2 import security_groups as sg
from pocketcloud.services.ec2.sg_rules import Peer, Permission, Rule, group_permissions


def _peers(p: dict[str, Any]) -> tuple[Peer, ...]:
    peers = [
        Peer(cidr_ipv4=r.get("CidrIp"), description=r.get("Description", ""))
        for r in p.get("IpRanges", [])
    ]
    peers += [
        Peer(cidr_ipv6=r.get("CidrIpv6"), description=r.get("Description", ""))
        for r in p.get("Ipv6Ranges", [])
    ]
    peers += [
        Peer(group_id=r.get("GroupId"), description=r.get("Description", ""))
        for r in p.get("UserIdGroupPairs", [])
    ]
    return tuple(peers)


def permissions_of(call: Call, p: Params) -> list[Permission]:
    """IpPermissions, or the legacy top-level CidrIp/IpProtocol/FromPort/ToPort form."""
    out = []
    for item in p.get("IpPermissions", []):
        for pair in item.get("UserIdGroupPairs", []):
            if not pair.get("GroupId") and pair.get("GroupName"):
                pair["GroupId"] = sg.resolve(call.cloud, None, pair["GroupName"])
        out.append(
            Permission(
                str(item.get("IpProtocol", "")),
                item.get("FromPort", -1),
                item.get("ToPort", -1),
                _peers(item),
            )
        )
    if p.get("IpProtocol") or p.get("CidrIp") or p.get("SourceSecurityGroupName"):
        peers: list[Peer] = []
        if p.get("CidrIp"):
            peers.append(Peer(cidr_ipv4=p["CidrIp"]))
        if p.get("SourceSecurityGroupName"):
            peers.append(Peer(group_id=sg.resolve(call.cloud, None, p["SourceSecurityGroupName"])))
        out.append(
            Permission(
                str(p.get("IpProtocol", "-1")),
                p.get("FromPort", -1),
                p.get("ToPort", -1),
                tuple(peers),
            )
        )
    return out


def _ip_permission(permission: Permission, account: str) -> Result:
    out: Result = {"IpProtocol": permission.protocol}
    if permission.protocol != "-1":
        out["FromPort"], out["ToPort"] = permission.from_port, permission.to_port
    peers = permission.peers
    out["IpRanges"] = [_range("CidrIp", x.cidr_ipv4, x) for x in peers if x.cidr_ipv4]
    out["Ipv6Ranges"] = [_range("CidrIpv6", x.cidr_ipv6, x) for x in peers if x.cidr_ipv6]
    out["UserIdGroupPairs"] = [
        {**_range("GroupId", x.group_id, x), "UserId": account} for x in peers if x.group_id
    ]
    out["PrefixListIds"] = []
    return out


def _range(key: str, value: str | None, peer: Peer) -> Result:
    out: Result = {key: value}
    if peer.description:
        out["Description"] = peer.description
    return out


def _group(call: Call, group: sg.SecurityGroup) -> Result:
    account = call.cloud.account_id
    return {
        "GroupId": group.group_id,
        "GroupName": group.name,
        "Description": group.description,
        "VpcId": group.vpc_id,
        "OwnerId": account,
        "SecurityGroupArn": _arn(call, "security-group", group.group_id),
        "IpPermissions": [_ip_permission(x, account) for x in group_permissions(group.ingress)],
        "IpPermissionsEgress": [
            _ip_permission(x, account) for x in group_permissions(group.egress)
        ],
        "Tags": tag_list(group.tags),
    }


def _arn(call: Call, kind: str, resource_id: str) -> str:
    return f"arn:aws:ec2:{call.cloud.region}:{call.cloud.account_id}:{kind}/{resource_id}"


def _rule(call: Call, rule: Rule) -> Result:
    out: Result = {
        "SecurityGroupRuleId": rule.rule_id,
        "GroupId": rule.group_id,
        "GroupOwnerId": call.cloud.account_id,
        "IsEgress": rule.egress,
        "IpProtocol": rule.protocol,
        "FromPort": rule.from_port,
        "ToPort": rule.to_port,
        "CidrIpv4": rule.peer.cidr_ipv4,
        "CidrIpv6": rule.peer.cidr_ipv6,
        "Tags": tag_list(rule.tags),
        "SecurityGroupRuleArn": _arn(call, "security-group-rule", rule.rule_id),
    }
    if rule.peer.group_id:
        out["ReferencedGroupInfo"] = {
            "GroupId": rule.peer.group_id,
            "UserId": call.cloud.account_id,
        }
    if rule.peer.description:
        out["Description"] = rule.peer.description
    return out


@registry.op("CreateSecurityGroup")
def create_security_group(call: Call, p: Params) -> Result:
    group = sg.create_security_group(
        call.cloud,
        p["GroupName"],
        p["Description"],
        p.get("VpcId"),
        tag_spec(p, "security-group"),
    )
    return {
        "GroupId": group.group_id,
        "Tags": tag_list(group.tags),
        "SecurityGroupArn": _arn(call, "security-group", group.group_id),
    }


@registry.op("DeleteSecurityGroup")
def delete_security_group(call: Call, p: Params) -> Result:
    group_id = sg.delete_security_group(call.cloud, p.get("GroupId"), p.get("GroupName"))
    return {"Return": True, "GroupId": group_id}


@registry.op("DescribeSecurityGroups", filters=sg.GROUP_FILTERS)
def describe_security_groups(call: Call, p: Params) -> Result:
    groups, token = sg.describe_security_groups(
        call.cloud,
        p.get("GroupIds", []),
        p.get("GroupNames", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"SecurityGroups": [_group(call, g) for g in groups], "NextToken": token}


@registry.op("DescribeSecurityGroupRules", filters=sg.RULE_FILTERS)
def describe_security_group_rules(call: Call, p: Params) -> Result:
    rules, token = sg.describe_security_group_rules(
        call.cloud,
        p.get("SecurityGroupRuleIds", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"SecurityGroupRules": [_rule(call, r) for r in rules], "NextToken": token}


def _authorize(call: Call, p: Params, egress: bool) -> Result:
    group_id = sg.resolve(call.cloud, p.get("GroupId"), p.get("GroupName"))
    rules = sg.authorize_rules(
        call.cloud, group_id, egress, permissions_of(call, p), tag_spec(p, "security-group-rule")
    )
    return {"Return": True, "SecurityGroupRules": [_rule(call, r) for r in rules]}


def _revoke(call: Call, p: Params, egress: bool) -> Result:
    group_id = sg.resolve(call.cloud, p.get("GroupId"), p.get("GroupName"))
    rules = sg.revoke_rules(
        call.cloud, group_id, egress, permissions_of(call, p), p.get("SecurityGroupRuleIds", [])
    )
    return {
        "Return": True,
        "RevokedSecurityGroupRules": [
            {
                "SecurityGroupRuleId": r.rule_id,
                "GroupId": r.group_id,
                "IsEgress": r.egress,
                "IpProtocol": r.protocol,
                "FromPort": r.from_port,
                "ToPort": r.to_port,
                "CidrIpv4": r.peer.cidr_ipv4,
                "CidrIpv6": r.peer.cidr_ipv6,
                "ReferencedGroupId": r.peer.group_id,
            }
            for r in rules
        ],
    }


@registry.op("AuthorizeSecurityGroupIngress")
def authorize_ingress(call: Call, p: Params) -> Result:
    return _authorize(call, p, egress=False)


@registry.op("AuthorizeSecurityGroupEgress")
def authorize_egress(call: Call, p: Params) -> Result:
    return _authorize(call, p, egress=True)


@registry.op("RevokeSecurityGroupIngress")
def revoke_ingress(call: Call, p: Params) -> Result:
    return _revoke(call, p, egress=False)


@registry.op("RevokeSecurityGroupEgress")
def revoke_egress(call: Call, p: Params) -> Result:
    return _revoke(call, p, egress=True)
