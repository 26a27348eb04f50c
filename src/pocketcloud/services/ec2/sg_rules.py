"""Security group rules: normalizing, authorizing and revoking them (EC2's semantics)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import tags
from pocketcloud.store.sqlite import Row

MAX_RULES = 60
PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}
NAMED = ("tcp", "udp", "icmp", "icmpv6", "-1")


@dataclass(frozen=True)
class Peer:
    """Who a rule admits: exactly one of an IPv4 CIDR, an IPv6 CIDR or a group."""

    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    group_id: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Permission:
    """One IpPermission: a protocol, a port range and the peers it admits."""

    protocol: str
    from_port: int
    to_port: int
    peers: tuple[Peer, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One stored rule, as DescribeSecurityGroupRules lists it."""

    rule_id: str
    group_id: str
    egress: bool
    protocol: str
    from_port: int
    to_port: int
    peer: Peer
    tags: Mapping[str, str] = field(default_factory=dict)

    def key(self) -> tuple[object, ...]:
        """What makes two rules the same rule (descriptions do not)."""
        return (
            self.egress,
            self.protocol,
            self.from_port,
            self.to_port,
            self.peer.cidr_ipv4,
            self.peer.cidr_ipv6,
            self.peer.group_id,
        )


def normalize(permission: Permission) -> Permission:
    """Canonical protocol name and ports; InvalidParameterValue for what EC2 rejects."""
    protocol = PROTOCOL_NUMBERS.get(permission.protocol.lower(), permission.protocol.lower())
    if protocol not in NAMED and (not protocol.isdigit() or not 0 <= int(protocol) <= 255):
        raise InvalidParameterValue(
            f"Invalid value '{permission.protocol}' for IP protocol. Unknown protocol."
        )
    if protocol in ("tcp", "udp"):
        _check_ports(permission.from_port, permission.to_port)
    elif protocol in ("icmp", "icmpv6"):
        _check_icmp(permission.from_port, permission.to_port)
    else:
        return replace(
            permission,
            protocol=protocol,
            from_port=-1,
            to_port=-1,
            peers=tuple(_check_peer(p) for p in permission.peers),
        )
    return replace(
        permission, protocol=protocol, peers=tuple(_check_peer(p) for p in permission.peers)
    )


def _check_ports(low: int, high: int) -> None:
    if not (0 <= low <= 65535 and 0 <= high <= 65535):
        raise InvalidParameterValue(
            f"Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange "
            f"(got {low}-{high})"
        )
    if low > high:
        raise InvalidParameterValue(
            f"Invalid TCP/UDP port range: from port {low} is greater than to port {high}"
        )


def _check_icmp(icmp_type: int, code: int) -> None:
    if not -1 <= icmp_type <= 255 or not -1 <= code <= 255:
        raise InvalidParameterValue(f"Invalid ICMP type {icmp_type} or code {code}")
    if icmp_type == -1 and code != -1:
        raise InvalidParameterValue("ICMP code must be -1 when the ICMP type is -1 (all types)")


def _check_peer(peer: Peer) -> Peer:
    given = [x for x in (peer.cidr_ipv4, peer.cidr_ipv6, peer.group_id) if x]
    if len(given) != 1:
        raise InvalidParameterValue("Each rule needs exactly one of a CIDR or a security group")
    if len(peer.description) > 255:
        raise InvalidParameterValue("Rule descriptions are at most 255 characters")
    for cidr, version in ((peer.cidr_ipv4, 4), (peer.cidr_ipv6, 6)):
        if cidr is None:
            continue
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise InvalidParameterValue(f"CIDR block {cidr} is malformed") from exc
        if network.version != version or "/" not in cidr:
            raise InvalidParameterValue(f"CIDR block {cidr} is malformed")
    return peer


def expand(group_id: str, egress: bool, permissions: Iterable[Permission]) -> list[Rule]:
    """One rule per (permission, peer), normalized."""
    rules = []
    for permission in permissions:
        normal = normalize(permission)
        if not normal.peers:
            raise ClientError(
                "MissingParameter",
                "Either CidrIp, Ipv6Ranges, IpRanges or UserIdGroupPairs must be specified",
            )
        for peer in normal.peers:
            rules.append(
                Rule(
                    ids.ec2_id("sgr"),
                    group_id,
                    egress,
                    normal.protocol,
                    normal.from_port,
                    normal.to_port,
                    peer,
                )
            )
    return rules


def _from_row(row: Row, rule_tags: Mapping[str, str]) -> Rule:
    peer = Peer(row["cidr_ipv4"], row["cidr_ipv6"], row["ref_group_id"], row["description"])
    return Rule(
        row["rule_id"],
        row["group_id"],
        bool(row["egress"]),
        row["protocol"],
        row["from_port"],
        row["to_port"],
        peer,
        rule_tags,
    )


def rules_of(
    cloud: Cloud, group_ids: Sequence[str] | None = None, *, with_tags: bool = True
) -> list[Rule]:
    """The stored rules of some groups (all groups if None), with their tags if asked."""
    if group_ids is None:
        rows = cloud.store.all("SELECT * FROM security_group_rules ORDER BY rowid")
    else:
        marks = ",".join("?" * len(group_ids))
        rows = cloud.store.all(
            f"SELECT * FROM security_group_rules WHERE group_id IN ({marks}) ORDER BY rowid",  # noqa: S608
            list(group_ids),
        )
    if not with_tags:
        return [_from_row(r, {}) for r in rows]
    all_tags = tags.for_resources(cloud, (r["rule_id"] for r in rows))
    return [_from_row(r, all_tags[r["rule_id"]]) for r in rows]


def _describe(rule: Rule) -> str:
    peer = rule.peer.cidr_ipv4 or rule.peer.cidr_ipv6 or rule.peer.group_id
    ports = (
        "" if rule.protocol == "-1" else f", from port: {rule.from_port}, to port: {rule.to_port}"
    )
    return (
        f"peer: {peer}, {rule.protocol.upper() if rule.protocol != '-1' else 'ALL'}{ports}, ALLOW"
    )


def authorize(
    cloud: Cloud,
    group_id: str,
    egress: bool,
    permissions: Sequence[Permission],
    rule_tags: Mapping[str, str],
) -> list[Rule]:
    """Add rules to a group (call inside a transaction); duplicates are rejected."""
    tags.validate(rule_tags)
    new = expand(group_id, egress, permissions)
    current = rules_of(cloud, [group_id], with_tags=False)
    existing = {r.key() for r in current}
    for rule in new:
        if rule.key() in existing:
            raise ClientError(
                "InvalidPermission.Duplicate",
                f'the specified rule "{_describe(rule)}" already exists',
            )
        existing.add(rule.key())
        _require_group(cloud, rule.peer.group_id)
    count = sum(1 for r in current if r.egress == egress) + len(new)
    if count > MAX_RULES:
        raise ClientError(
            "RulesPerSecurityGroupLimitExceeded",
            "The maximum number of rules per security group has been reached.",
        )
    for rule in new:
        _insert(cloud, rule)
        tags.apply(cloud, rule.rule_id, rule_tags)
    return [replace(r, tags=dict(rule_tags)) for r in new]


def allow_all_egress(cloud: Cloud, group_id: str) -> Rule:
    """The rule a new group starts with: all traffic out to 0.0.0.0/0 (call inside the
    creating transaction; the group has no rules yet, so none can be a duplicate)."""
    rule = Rule(ids.ec2_id("sgr"), group_id, True, "-1", -1, -1, Peer(cidr_ipv4="0.0.0.0/0"))
    _insert(cloud, rule)
    return rule


def _require_group(cloud: Cloud, group_id: str | None) -> None:
    if group_id and not cloud.store.one(
        "SELECT 1 FROM security_groups WHERE group_id = ?", (group_id,)
    ):
        raise ClientError(
            "InvalidGroup.NotFound", f"The security group '{group_id}' does not exist"
        )


def _insert(cloud: Cloud, rule: Rule) -> None:
    cloud.store.execute(
        "INSERT INTO security_group_rules(rule_id, group_id, egress, protocol, from_port, "
        "to_port, cidr_ipv4, cidr_ipv6, ref_group_id, description) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rule.rule_id,
            rule.group_id,
            int(rule.egress),
            rule.protocol,
            rule.from_port,
            rule.to_port,
            rule.peer.cidr_ipv4,
            rule.peer.cidr_ipv6,
            rule.peer.group_id,
            rule.peer.description,
        ),
    )


def revoke(
    cloud: Cloud,
    group_id: str,
    egress: bool,
    permissions: Sequence[Permission],
    rule_ids: Sequence[str],
) -> list[Rule]:
    """Remove rules by value or by id (call inside a transaction); all must exist."""
    current = [r for r in rules_of(cloud, [group_id]) if r.egress == egress]
    by_key = {r.key(): r for r in current}
    by_id = {r.rule_id: r for r in current}
    doomed: dict[str, Rule] = {}
    for rule in expand(group_id, egress, permissions) if permissions else []:
        found = by_key.get(rule.key())
        if found is None:
            raise ClientError(
                "InvalidPermission.NotFound",
                "The specified rule does not exist in this security group.",
            )
        doomed[found.rule_id] = found
    for rule_id in rule_ids:
        if rule_id not in by_id:
            raise ClientError(
                "InvalidSecurityGroupRuleId.NotFound",
                f"The security group rule ID '{rule_id}' does not exist",
            )
        doomed[rule_id] = by_id[rule_id]
    for rule_id in doomed:
        cloud.store.execute("DELETE FROM security_group_rules WHERE rule_id = ?", (rule_id,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (rule_id,))
    return list(doomed.values())


def group_permissions(rules: Iterable[Rule]) -> list[Permission]:
    """Rules merged back into IpPermissions, as DescribeSecurityGroups shows them."""
    merged: dict[tuple[str, int, int], list[Peer]] = {}
    for rule in rules:
        merged.setdefault((rule.protocol, rule.from_port, rule.to_port), []).append(rule.peer)
    return [Permission(p, lo, hi, tuple(peers)) for (p, lo, hi), peers in merged.items()]
