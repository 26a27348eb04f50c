"""What the firewall must enforce, read from the store: each live instance's rules
and VPC.

An instance gets the union of its groups' rules; a rule naming a source group
matches the addresses of that group's live instances. IPv6 rules have nothing to
match yet (instances are IPv4-only) and are left out.
"""

from __future__ import annotations

from pocketcloud.host import firewall, network, runtime
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import instances
from pocketcloud.services.ec2.lifecycle import LIVE
from pocketcloud.services.ec2.sg_rules import Rule, rules_of


def _convert(rule: Rule) -> firewall.Rule | None:
    if rule.peer.cidr_ipv6 is not None:
        return None
    return firewall.Rule(
        rule.protocol, rule.from_port, rule.to_port, rule.peer.cidr_ipv4, rule.peer.group_id
    )


def model(cloud: Cloud) -> firewall.Model:
    """The firewall model of the cloud as stored now."""
    live = [i for i in instances.load(cloud) if i.state in LIVE]
    used = sorted({gid for i in live for gid in i.group_ids})
    stored = rules_of(cloud, used, with_tags=False) if used else []
    by_group: dict[str, tuple[list[firewall.Rule], list[firewall.Rule]]] = {}
    for rule in stored:  # converted once per group, shared by its members
        converted = _convert(rule)
        if converted is not None:
            ingress, egress = by_group.setdefault(rule.group_id, ([], []))
            (egress if rule.egress else ingress).append(converted)
    # one address set per group that some rule names as its source or destination
    members: dict[str, list[str]] = {r.peer.group_id: [] for r in stored if r.peer.group_id}
    guarded = []
    for instance in live:
        for gid in instance.group_ids:
            if gid in members:
                members[gid].append(instance.private_ip)
        groups = [by_group.get(gid, ([], [])) for gid in instance.group_ids]
        guarded.append(
            firewall.Guarded(
                instance.instance_id,
                runtime.veth_name(cloud.settings.prefix, instance.instance_id),
                ingress=tuple(dict.fromkeys(r for ingress, _ in groups for r in ingress)),
                egress=tuple(dict.fromkeys(r for _, egress in groups for r in egress)),
                vpc_id=instance.vpc_id,
            )
        )
    return firewall.Model(
        cloud.settings.prefix,
        tuple(guarded),
        members,
        metadata=(network.GATEWAY, cloud.settings.imds_port),
    )
