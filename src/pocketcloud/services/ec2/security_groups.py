"""Security groups: Create/Delete/Describe, and their rules' Authorize/Revoke."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters, network, tags
from pocketcloud.services.ec2.sg_rules import (
    Peer,
    Permission,
    Rule,
    allow_all_egress,
    authorize,
    revoke,
    rules_of,
)

GROUP_FILTERS = (
    "group-id",
    "group-name",
    "description",
    "vpc-id",
    "owner-id",
    "ip-permission.protocol",
    "ip-permission.from-port",
    "ip-permission.to-port",
    "ip-permission.cidr",
    "ip-permission.ipv6-cidr",
    "ip-permission.group-id",
    "ip-permission.group-name",
    "ip-permission.user-id",
    "ip-permission.prefix-list-id",
    "egress.ip-permission.protocol",
    "egress.ip-permission.from-port",
    "egress.ip-permission.to-port",
    "egress.ip-permission.cidr",
    "egress.ip-permission.ipv6-cidr",
    "egress.ip-permission.group-id",
    "egress.ip-permission.group-name",
    "egress.ip-permission.user-id",
    "egress.ip-permission.prefix-list-id",
)
RULE_FILTERS = ("group-id", "security-group-rule-id")
DEFAULT = "default"


@dataclass(frozen=True)
class SecurityGroup:
    """A security group with its rules."""

    group_id: str
    name: str
    description: str
    vpc_id: str
    rules: tuple[Rule, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def ingress(self) -> list[Rule]:
        return [r for r in self.rules if not r.egress]

    @property
    def egress(self) -> list[Rule]:
        return [r for r in self.rules if r.egress]


def create_default_group(cloud: Cloud, vpc_id: str) -> str:
    """A VPC's ``default`` group: admits its own members, allows all egress."""
    group_id = ids.ec2_id("sg")
    _insert(cloud, group_id, DEFAULT, "default VPC security group", vpc_id)
    authorize(cloud, group_id, False, [Permission("-1", -1, -1, (Peer(group_id=group_id),))], {})
    authorize(cloud, group_id, True, [Permission("-1", -1, -1, (Peer(cidr_ipv4="0.0.0.0/0"),))], {})
    return group_id


def _insert(cloud: Cloud, group_id: str, name: str, description: str, vpc_id: str) -> None:
    cloud.store.execute(
        "INSERT INTO security_groups(group_id, name, description, vpc_id) VALUES(?, ?, ?, ?)",
        (group_id, name, description, vpc_id),
    )


def _validate(name: str, description: str) -> None:
    for label, text in (("GroupName", name), ("GroupDescription", description)):
        if not text or len(text) > 255 or not text.isascii():
            raise InvalidParameterValue(
                f"Invalid value '{text[:300]}' for {label}. Length must be 1-255 ASCII characters."
            )
    if name.lower().startswith("sg-"):
        raise InvalidParameterValue(
            f"Invalid value '{name}' for GroupName. Group names may not be in the format sg-*."
        )


def create_security_group(
    cloud: Cloud, name: str, description: str, vpc_id: str | None, group_tags: Mapping[str, str]
) -> SecurityGroup:
    """CreateSecurityGroup: a new group allowing all egress and no ingress."""
    _validate(name, description)
    tags.validate(group_tags)
    with cloud.store.transaction():
        vpc_id = (
            network.require_vpc(cloud, vpc_id).vpc_id if vpc_id else network.default_vpc_id(cloud)
        )
        if name == DEFAULT:
            raise ClientError("InvalidGroup.Reserved", "The security group 'default' is reserved")
        if cloud.store.one(
            "SELECT 1 FROM security_groups WHERE vpc_id = ? AND name = ?", (vpc_id, name)
        ):
            raise ClientError(
                "InvalidGroup.Duplicate",
                f"The security group '{name}' already exists for VPC '{vpc_id}'",
            )
        group_id = ids.ec2_id("sg")
        _insert(cloud, group_id, name, description, vpc_id)
        tags.apply(cloud, group_id, group_tags)
        egress = allow_all_egress(cloud, group_id)
        return SecurityGroup(group_id, name, description, vpc_id, (egress,), group_tags)


def _check_id(group_id: str) -> None:
    rest = group_id[3:]
    if not group_id.startswith("sg-") or not rest or not all(c in "0123456789abcdef" for c in rest):
        raise ClientError(
            "InvalidGroupId.Malformed", f'Invalid id: "{group_id}" (expecting "sg-...")'
        )


def resolve(cloud: Cloud, group_id: str | None, group_name: str | None) -> str:
    """A group id from an id or a name (names are looked up in the default VPC)."""
    if group_id:
        _check_id(group_id)
        if cloud.store.one("SELECT 1 FROM security_groups WHERE group_id = ?", (group_id,)):
            return group_id
        raise ClientError(
            "InvalidGroup.NotFound", f"The security group '{group_id}' does not exist"
        )
    if group_name:
        vpc = network.default_vpc(cloud)
        found = cloud.store.scalar(
            "SELECT group_id FROM security_groups WHERE vpc_id = ? AND name = ?",
            (vpc.vpc_id, group_name),
        )
        if found:
            return str(found)
        raise ClientError(
            "InvalidGroup.NotFound",
            f"The security group '{group_name}' does not exist in default VPC '{vpc.vpc_id}'",
        )
    raise ClientError(
        "MissingParameter", "The request must contain the parameter groupId or groupName"
    )


def _require(cloud: Cloud, group_id: str) -> None:
    """InvalidGroup.NotFound unless the group exists."""
    if not cloud.store.one("SELECT 1 FROM security_groups WHERE group_id = ?", (group_id,)):
        raise ClientError(
            "InvalidGroup.NotFound", f"The security group '{group_id}' does not exist"
        )


def get(cloud: Cloud, group_id: str) -> SecurityGroup:
    """One group with its rules and tags."""
    row = cloud.store.one("SELECT * FROM security_groups WHERE group_id = ?", (group_id,))
    if row is None:
        raise ClientError(
            "InvalidGroup.NotFound", f"The security group '{group_id}' does not exist"
        )
    return SecurityGroup(
        row["group_id"],
        row["name"],
        row["description"],
        row["vpc_id"],
        tuple(rules_of(cloud, [group_id])),
        tags.for_resource(cloud, group_id),
    )


def delete_security_group(cloud: Cloud, group_id: str | None, group_name: str | None) -> str:
    """DeleteSecurityGroup; refused for ``default`` and for groups other rules reference."""
    with cloud.store.transaction():
        gid = resolve(cloud, group_id, group_name)
        group = get(cloud, gid)
        if group.name == DEFAULT:
            raise ClientError(
                "CannotDelete",
                f'the specified group: "{gid}" name: "default" cannot be deleted by a user',
            )
        referrer = cloud.store.scalar(
            "SELECT group_id FROM security_group_rules WHERE ref_group_id = ? AND group_id != ?",
            (gid, gid),
        )
        if referrer:
            raise ClientError(
                "DependencyViolation",
                f"resource {gid} has a dependent object (a rule of {referrer} references it)",
            )
        user = cloud.store.scalar(
            "SELECT g.instance_id FROM instance_groups g JOIN instances i "
            "ON i.instance_id = g.instance_id WHERE g.group_id = ? AND i.state != 'terminated'",
            (gid,),
        )
        if user:
            raise ClientError(
                "DependencyViolation", f"resource {gid} has a dependent object (instance {user})"
            )
        cloud.store.execute("DELETE FROM instance_groups WHERE group_id = ?", (gid,))
        for rule in group.rules:
            cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (rule.rule_id,))
        cloud.store.execute("DELETE FROM security_groups WHERE group_id = ?", (gid,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (gid,))
        return gid


def describe_security_groups(
    cloud: Cloud,
    group_ids: Sequence[str],
    group_names: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[SecurityGroup], str | None]:
    """DescribeSecurityGroups: named groups must exist; filters; pagination."""
    filters.check_filter_names(flts, GROUP_FILTERS)
    if max_results is not None and (group_ids or group_names):
        raise ClientError(
            "InvalidParameterCombination",
            "The parameter groupIds cannot be used with the parameter maxResults",
        )
    wanted = [resolve(cloud, gid, None) for gid in group_ids]
    wanted += [resolve(cloud, None, name) for name in group_names]
    groups = _load_all(cloud)
    if wanted:
        groups = [g for g in groups if g.group_id in wanted]
    chosen = [g for g in groups if filters.matches(flts, partial(_fields, cloud, g))]
    return filters.paginate(chosen, lambda g: g.group_id, max_results, next_token)


def _load_all(cloud: Cloud) -> list[SecurityGroup]:
    rows = cloud.store.all("SELECT * FROM security_groups ORDER BY group_id")
    rules: dict[str, list[Rule]] = {}
    for rule in rules_of(cloud):
        rules.setdefault(rule.group_id, []).append(rule)
    group_tags = tags.for_resources(cloud, (r["group_id"] for r in rows))
    return [
        SecurityGroup(
            r["group_id"],
            r["name"],
            r["description"],
            r["vpc_id"],
            tuple(rules.get(r["group_id"], ())),
            group_tags[r["group_id"]],
        )
        for r in rows
    ]


def _fields(cloud: Cloud, group: SecurityGroup, name: str) -> list[str] | None:
    own = {
        "group-id": [group.group_id],
        "group-name": [group.name],
        "description": [group.description],
        "vpc-id": [group.vpc_id],
        "owner-id": [cloud.account_id],
    }.get(name)
    if own is not None:
        return own
    if name.startswith(("ip-permission.", "egress.ip-permission.")):
        egress, _, attribute = name.partition("ip-permission.")
        rules = group.egress if egress else group.ingress
        return _rule_fields(cloud, rules, attribute)
    return filters.tag_fields(name, group.tags)


def _rule_fields(cloud: Cloud, rules: Sequence[Rule], attribute: str) -> list[str]:
    values = (_rule_attribute(cloud, r, attribute) for r in rules)
    return [v for v in values if v is not None]


def _rule_attribute(cloud: Cloud, rule: Rule, attribute: str) -> str | None:
    peer = rule.peer.group_id
    if attribute == "group-name":
        return None if peer is None else get(cloud, peer).name
    return {
        "protocol": rule.protocol,
        "from-port": str(rule.from_port),
        "to-port": str(rule.to_port),
        "cidr": rule.peer.cidr_ipv4,
        "ipv6-cidr": rule.peer.cidr_ipv6,
        "group-id": peer,
        "user-id": None if peer is None else cloud.account_id,
        "prefix-list-id": None,  # prefix lists are not offered
    }[attribute]


def describe_security_group_rules(
    cloud: Cloud,
    rule_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Rule], str | None]:
    """DescribeSecurityGroupRules: every id asked for must exist."""
    filters.check_filter_names(flts, RULE_FILTERS)
    rules = rules_of(cloud)
    known = {r.rule_id for r in rules}
    for rule_id in rule_ids:
        if rule_id not in known:
            raise ClientError(
                "InvalidSecurityGroupRuleId.NotFound",
                f"The security group rule ID '{rule_id}' does not exist",
            )
    if rule_ids:
        rules = [r for r in rules if r.rule_id in rule_ids]
    chosen = [r for r in rules if filters.matches(flts, partial(_rule_filter, r))]
    return filters.paginate(chosen, lambda r: r.rule_id, max_results, next_token)


def _rule_filter(rule: Rule, name: str) -> list[str] | None:
    if name == "group-id":
        return [rule.group_id]
    if name == "security-group-rule-id":
        return [rule.rule_id]
    return filters.tag_fields(name, rule.tags)


def authorize_rules(
    cloud: Cloud,
    group_id: str,
    egress: bool,
    permissions: Sequence[Permission],
    rule_tags: Mapping[str, str],
) -> list[Rule]:
    """AuthorizeSecurityGroupIngress/Egress, in one transaction; applies live (the
    reconciler is woken when an instance has the group)."""
    with cloud.store.transaction():
        _require(cloud, group_id)
        added = authorize(cloud, group_id, egress, permissions, rule_tags)
        in_use = _in_use(cloud, group_id)
    if in_use:
        cloud.wake()
    return added


def revoke_rules(
    cloud: Cloud,
    group_id: str,
    egress: bool,
    permissions: Sequence[Permission],
    rule_ids: Sequence[str],
) -> list[Rule]:
    """RevokeSecurityGroupIngress/Egress, in one transaction; applies live."""
    with cloud.store.transaction():
        _require(cloud, group_id)
        removed = revoke(cloud, group_id, egress, permissions, rule_ids)
        in_use = _in_use(cloud, group_id)
    if in_use:
        cloud.wake()
    return removed


def _in_use(cloud: Cloud, group_id: str) -> bool:
    """Whether an instance has the group: a rule of a group nobody has changes nothing on
    the host (a group's address set holds only its members), so no reconcile pass is due."""
    return bool(
        cloud.store.one("SELECT 1 FROM instance_groups WHERE group_id = ? LIMIT 1", (group_id,))
    )
