"""Security groups as nftables: the whole ruleset rendered by pure code, applied at once.

One ``inet`` table per cloud (``<prefix>_fw``). Every instance has an ingress chain
and an egress chain; the base chains dispatch on the instance's host-side veth with
verdict maps, so matching cost stays flat as instances grow, and group-source rules
match against one set of member addresses per group::

    forward (instance → instance), output (host → instance), input (instance → host):
        iifname vmap { <veth>: jump out_<id> }     the sender's egress rules
        oifname vmap { <veth>: jump in_<id> }      the receiver's ingress rules
    in_<id>  / out_<id>:
        ct state established,related return         stateful: replies and tracked flows pass
        ct state invalid drop
        <one line per rule> return
        drop

Rule chains ``return`` rather than ``accept`` so that a packet between two instances
passes both the sender's egress and the receiver's ingress. The metadata service
(the gateway address and the metadata port, where each instance's 169.254.169.254:80
is redirected) is exempt from egress rules, as it is on EC2; everything else an
instance sends, the control-plane API on the gateway included, obeys them.
``render`` is pure; ``apply`` runs ``nft -f`` and needs CAP_NET_ADMIN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pocketcloud.host.run import run

ALL = "0.0.0.0/0"


@dataclass(frozen=True)
class Rule:
    """One security group rule, seen from the instance it protects."""

    protocol: str  # "tcp", "udp", "icmp", "-1" (all) or an IP protocol number
    from_port: int = -1  # ICMP: the type (-1: any)
    to_port: int = -1  # ICMP: the code (-1: any)
    cidr: str | None = None  # IPv4 CIDR of the peer
    group_id: str | None = None  # or: any member of this security group


@dataclass(frozen=True)
class Guarded:
    """An instance as the firewall sees it: its veth and the union of its groups' rules."""

    instance_id: str
    veth: str
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Model:
    """Everything the ruleset is rendered from."""

    prefix: str
    instances: tuple[Guarded, ...] = ()
    members: Mapping[str, Sequence[str]] | None = None  # group id → member addresses
    metadata: tuple[str, int] | None = None  # (address, TCP port) exempt from egress rules


def table(prefix: str) -> str:
    """The cloud's firewall table."""
    return f"{prefix}_fw"


def _set_name(group_id: str) -> str:
    return "g_" + group_id.replace("-", "_")


def _chain(kind: str, instance_id: str) -> str:
    return f"{kind}_{instance_id.replace('-', '_')}"


def _ports(protocol: str, low: int, high: int) -> str:
    if low == high:
        return f"{protocol} dport {low}"
    return f"{protocol} dport {low}-{high}"


def _protocol(rule: Rule) -> str:
    if rule.protocol == "-1":
        return ""
    if rule.protocol in ("tcp", "udp"):
        return _ports(rule.protocol, rule.from_port, rule.to_port)
    if rule.protocol == "icmpv6":  # instances are IPv4-only: such a rule never matches
        return "meta l4proto ipv6-icmp"
    if rule.protocol == "icmp":
        match = "meta l4proto icmp"
        if rule.from_port != -1:
            match += f" icmp type {rule.from_port}"
            if rule.to_port != -1:
                match += f" icmp code {rule.to_port}"
        return match
    return f"meta l4proto {int(rule.protocol)}"


def _peer(rule: Rule, direction: str) -> str:
    field = "saddr" if direction == "in" else "daddr"
    if rule.group_id is not None:
        return f"ip {field} @{_set_name(rule.group_id)}"
    if rule.cidr is None or rule.cidr == ALL:
        return "meta nfproto ipv4"
    return f"ip {field} {rule.cidr}"


def render_rule(rule: Rule, direction: str) -> str:
    """One rule as an nft statement ending in ``return`` (pure)."""
    parts = [_peer(rule, direction), _protocol(rule), "return"]
    return " ".join(p for p in parts if p)


def _instance_chains(guarded: Guarded, metadata: tuple[str, int] | None) -> list[str]:
    lines = []
    for kind, rules in (("in", guarded.ingress), ("out", guarded.egress)):
        lines.append(f"  chain {_chain(kind, guarded.instance_id)} {{")
        lines.append("    ct state established,related return")
        lines.append("    ct state invalid drop")
        if kind == "out" and metadata is not None:
            lines.append(f"    ip daddr {metadata[0]} tcp dport {metadata[1]} return")
        lines += [f"    {render_rule(rule, kind)}" for rule in rules]
        lines.append("    drop")
        lines.append("  }")
    return lines


def _dispatch(model: Model, hook: str) -> list[str]:
    lines = [f"  chain {hook} {{", f"    type filter hook {hook} priority filter; policy accept;"]
    if model.instances:
        outs = ", ".join(
            f'"{g.veth}" : jump {_chain("out", g.instance_id)}' for g in model.instances
        )
        ins = ", ".join(f'"{g.veth}" : jump {_chain("in", g.instance_id)}' for g in model.instances)
        if hook in ("forward", "input"):
            lines.append(f"    iifname vmap {{ {outs} }}")
        if hook in ("forward", "output"):
            lines.append(f"    oifname vmap {{ {ins} }}")
    lines.append("  }")
    return lines


def _sets(model: Model) -> list[str]:
    lines = []
    for group_id, addresses in sorted((model.members or {}).items()):
        lines.append(f"  set {_set_name(group_id)} {{")
        lines.append("    type ipv4_addr")
        if addresses:
            lines.append(f"    elements = {{ {', '.join(sorted(addresses))} }}")
        lines.append("  }")
    return lines


def render(model: Model) -> str:
    """The whole table, replacing any previous version in one transaction (pure)."""
    name = table(model.prefix)
    body = _sets(model)
    for hook in ("forward", "output", "input"):
        body += _dispatch(model, hook)
    for guarded in model.instances:
        body += _instance_chains(guarded, model.metadata)
    return "\n".join(
        [
            f"table inet {name}",
            f"delete table inet {name}",
            f"table inet {name} {{",
            *body,
            "}",
            "",
        ]
    )


def apply(model: Model, *, check_only: bool = False) -> None:
    """Load the rendered ruleset atomically (``nft -f``; ``-c`` only checks). Needs root."""
    run(["nft", *(["-c"] if check_only else []), "-f", "-"], input=render(model).encode())


def listing(prefix: str) -> str:
    """The table as the kernel has it now ("" if absent). Runs ``nft list``."""
    result = run(["nft", "list", "table", "inet", table(prefix)], check=False)
    return result.stdout.decode() if result.returncode == 0 else ""


def remove(prefix: str) -> bool:
    """Delete the cloud's firewall table; False if there was none."""
    return run(["nft", "delete", "table", "inet", table(prefix)], check=False).returncode == 0
