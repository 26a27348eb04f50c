"""Security groups as nftables: rendered by pure code, applied in one transaction.

One ``inet`` table per cloud (``<prefix>_fw``). Every instance has an ingress chain
and an egress chain; the base chains dispatch on the instance's host-side veth with
verdict maps, so matching cost stays flat as instances grow, and group-source rules
match against one set of member addresses per group::

    forward (instance → instance), output (host → instance), input (instance → host):
        iifname @v_<vpc> oifname @veths oifname != @v_<vpc> drop   forward only, one per VPC
        ct state established,related accept         stateful: replies and tracked flows
        iifname vmap @outs    { <veth>: jump out_<id> }   the sender's egress rules
        oifname vmap @ins     { <veth>: jump in_<id> }    the receiver's ingress rules
    in_<id>  / out_<id>:
        ct state established,related return
        ct state invalid drop
        <one line per rule> return
        drop

VPCs isolate their instances: each VPC with live instances has a set of its instances'
veths (``v_<vpc>``), ``veths`` holds every instance veth of the cloud, and the forward
chain drops what an instance of one VPC sends to an instance of another, before any
tracked flow is accepted. Traffic between the host and instances (input, output) and
between instances of one VPC is untouched.

Rule chains ``return`` rather than ``accept`` so that a packet between two instances
passes both the sender's egress and the receiver's ingress. The metadata service
(the gateway address and the metadata port, where each instance's 169.254.169.254:80
is redirected) is exempt from egress rules, as it is on EC2; everything else an
instance sends, the control-plane API on the gateway included, obeys them.

``render`` gives the whole table (it replaces any previous one); ``render_update``
gives the smallest transaction from one ``Ruleset`` to the next (a rule change
rewrites only the chains of the instances it concerns, a launch adds two chains and
two map elements), so the cost of a change does not grow with the cloud. Both are
pure; ``load`` runs ``nft -f`` and needs CAP_NET_ADMIN.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pocketcloud.host.run import run

ALL = "0.0.0.0/0"
VETHS = "veths"  # the set of every instance veth of the cloud
Lines = tuple[str, ...]


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
    vpc_id: str = ""  # "": in no VPC set (isolated from nothing)


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


def _vpc_set(vpc_id: str) -> str:
    return "v_" + vpc_id.replace("-", "_")


def _isolation(vpc_set: str) -> str:
    """The forward rule dropping what a VPC's instances send to other VPCs' instances.

    A flow the Elastic IP table translated (``ct status dnat``) was addressed to a public
    address, which EC2 routes through the internet gateways: it is spared."""
    return f"iifname @{vpc_set} oifname @{VETHS} oifname != @{vpc_set} ct status ! dnat drop"


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


@functools.lru_cache(maxsize=65536)
def render_rule(rule: Rule, direction: str) -> str:
    """One rule as an nft statement ending in ``return`` (pure)."""
    parts = [_peer(rule, direction), _protocol(rule), "return"]
    return " ".join(p for p in parts if p)


def _instance_chains(guarded: Guarded, metadata: tuple[str, int] | None) -> dict[str, Lines]:
    chains = {}
    for kind, rules in (("in", guarded.ingress), ("out", guarded.egress)):
        lines = ["ct state established,related return", "ct state invalid drop"]
        if kind == "out" and metadata is not None:
            lines.append(f"ip daddr {metadata[0]} tcp dport {metadata[1]} return")
        lines += [render_rule(rule, kind) for rule in rules]
        lines.append("drop")
        chains[_chain(kind, guarded.instance_id)] = tuple(lines)
    return chains


@dataclass(frozen=True)
class Ruleset:
    """The table's variable parts, as nft text fragments: what a change is diffed on."""

    prefix: str
    sets: Mapping[str, Lines]  # group set → member addresses
    outs: Mapping[str, str]  # veth → "jump out_<id>" (the sender's egress)
    ins: Mapping[str, str]  # veth → "jump in_<id>" (the receiver's ingress)
    chains: Mapping[str, Lines]  # instance chain → its rules
    vpcs: Mapping[str, Lines] = field(default_factory=dict)  # VPC set → its instances' veths

    def base(self, hook: str) -> Lines:
        """A base chain's rules: VPC isolation (forward only), tracked flows, dispatch."""
        isolation = tuple(map(_isolation, self.vpcs)) if hook == "forward" else ()
        return (*isolation, "ct state established,related accept", *BASE_CHAINS[hook])

    def ifname_sets(self) -> dict[str, Lines]:
        """Every set of veths: all of the cloud's, then each VPC's."""
        return {VETHS: tuple(sorted(self.outs)), **self.vpcs}


def _vpc_sets(instances: Sequence[Guarded]) -> dict[str, Lines]:
    """Each VPC's set of veths, for the VPCs that have instances (pure)."""
    found: dict[str, list[str]] = {}
    for guarded in instances:
        if guarded.vpc_id:
            found.setdefault(_vpc_set(guarded.vpc_id), []).append(guarded.veth)
    return {name: tuple(sorted(veths)) for name, veths in sorted(found.items())}


def ruleset(model: Model) -> Ruleset:
    """What the model becomes in nftables (pure)."""
    chains: dict[str, Lines] = {}
    for guarded in model.instances:
        chains |= _instance_chains(guarded, model.metadata)
    return Ruleset(
        model.prefix,
        {
            _set_name(gid): tuple(sorted(addresses))
            for gid, addresses in sorted((model.members or {}).items())
        },
        {g.veth: f"jump {_chain('out', g.instance_id)}" for g in model.instances},
        {g.veth: f"jump {_chain('in', g.instance_id)}" for g in model.instances},
        chains,
        _vpc_sets(model.instances),
    )


BASE_CHAINS = {  # hook → its dispatch; established flows skip the per-instance chains
    "forward": ("iifname vmap @outs", "oifname vmap @ins"),
    "output": ("oifname vmap @ins",),
    "input": ("iifname vmap @outs",),
}


def _elements(mapping: Mapping[str, str]) -> str:
    return ", ".join(f'"{veth}" : {verdict}' for veth, verdict in sorted(mapping.items()))


def _set_block(name: str, kind: str, items: Sequence[str]) -> list[str]:
    block = [f"  set {name} {{", f"    type {kind}"]
    if items:
        block.append(f"    elements = {{ {', '.join(items)} }}")
    return [*block, "  }"]


def render(model: Model | Ruleset) -> str:
    """The whole table, replacing any previous version in one transaction (pure)."""
    rs = model if isinstance(model, Ruleset) else ruleset(model)
    name = table(rs.prefix)
    body = []
    for set_name, addresses in rs.sets.items():
        body += _set_block(set_name, "ipv4_addr", addresses)
    for set_name, veths in rs.ifname_sets().items():
        body += _set_block(set_name, "ifname", [_quote(veth) for veth in veths])
    for chain, lines in rs.chains.items():
        body += [f"  chain {chain} {{", *(f"    {line}" for line in lines), "  }"]
    for map_name, mapping in (("outs", rs.outs), ("ins", rs.ins)):
        body += [f"  map {map_name} {{", "    type ifname : verdict"]
        if mapping:
            body.append(f"    elements = {{ {_elements(mapping)} }}")
        body.append("  }")
    for hook in BASE_CHAINS:
        body += [
            f"  chain {hook} {{",
            f"    type filter hook {hook} priority filter; policy accept;",
            *(f"    {line}" for line in rs.base(hook)),
            "  }",
        ]
    return "\n".join(
        [f"table inet {name}", f"delete table inet {name}", f"table inet {name} {{", *body, "}", ""]
    )


def render_update(old: Ruleset, new: Ruleset) -> str:
    """One transaction turning the loaded ``old`` into ``new``, touching only what
    differs ("" when nothing does). Order matters: what is referenced exists first and
    goes last (pure)."""
    t = f"inet {table(new.prefix)}"
    old_ifsets, new_ifsets = old.ifname_sets(), new.ifname_sets()
    out = [f"add set {t} {s} {{ type ipv4_addr; }}" for s in new.sets if s not in old.sets]
    out += [f"add set {t} {s} {{ type ifname; }}" for s in new_ifsets if s not in old_ifsets]
    out += [f"add chain {t} {c}" for c in new.chains if c not in old.chains]
    for chain, lines in new.chains.items():
        if old.chains.get(chain) != lines:
            if chain in old.chains:
                out.append(f"flush chain {t} {chain}")
            out += [f"add rule {t} {chain} {line}" for line in lines]
    out += _member_changes(t, old.sets, new.sets)
    for set_name, veths in new_ifsets.items():
        out += _element_changes(t, set_name, old_ifsets.get(set_name, ()), veths)
    out += _map_changes(t, "outs", old.outs, new.outs) + _map_changes(t, "ins", old.ins, new.ins)
    if old.base("forward") != new.base("forward"):
        out.append(f"flush chain {t} forward")
        out += [f"add rule {t} forward {line}" for line in new.base("forward")]
    for chain in old.chains:
        if chain not in new.chains:
            out += [f"flush chain {t} {chain}", f"delete chain {t} {chain}"]
    out += [f"delete set {t} {s}" for s in old.sets if s not in new.sets]
    out += [f"delete set {t} {s}" for s in old_ifsets if s not in new_ifsets]
    return "\n".join(out) + "\n" if out else ""


def _member_changes(t: str, old: Mapping[str, Lines], new: Mapping[str, Lines]) -> list[str]:
    """Refill each group set whose members changed."""
    out = []
    for set_name, addresses in new.items():
        if old.get(set_name) != addresses:
            if set_name in old:
                out.append(f"flush set {t} {set_name}")
            if addresses:
                out.append(f"add element {t} {set_name} {{ {', '.join(addresses)} }}")
    return out


def _map_changes(
    t: str, name: str, before: Mapping[str, str], after: Mapping[str, str]
) -> list[str]:
    """Delete the map elements that went or changed, then add the new ones."""
    out = []
    gone = [veth for veth in before if after.get(veth) != before[veth]]
    if gone:
        out.append(f"delete element {t} {name} {{ {', '.join(map(_quote, gone))} }}")
    added = {veth: v for veth, v in after.items() if before.get(veth) != v}
    if added:
        out.append(f"add element {t} {name} {{ {_elements(added)} }}")
    return out


def _element_changes(t: str, set_name: str, before: Lines, after: Lines) -> list[str]:
    """Delete the veths that left a set and add those that joined it (a set grows or
    shrinks by one element per launch, whatever its size)."""
    gone = [_quote(veth) for veth in before if veth not in after]
    added = [_quote(veth) for veth in after if veth not in before]
    out = [f"delete element {t} {set_name} {{ {', '.join(gone)} }}"] if gone else []
    return out + ([f"add element {t} {set_name} {{ {', '.join(added)} }}"] if added else [])


def _quote(veth: str) -> str:
    return f'"{veth}"'


_BLOCK = re.compile(r"^\t(chain|set|map) (\S+) \{\n(.*?)^\t\}", re.MULTILINE | re.DOTALL)
_ELEMENTS = re.compile(r"elements = \{(.*?)\}", re.DOTALL)
Shape = dict[str, object]


def shape(rs: Ruleset) -> Shape:
    """What the table must hold, reduced to what a listing shows plainly: each chain's
    number of rules, each set's and each map's elements (pure)."""
    out: Shape = {f"chain {chain}": len(lines) for chain, lines in rs.chains.items()}
    out |= {f"chain {hook}": len(rs.base(hook)) for hook in BASE_CHAINS}
    out |= {f"set {name}": frozenset(addresses) for name, addresses in rs.sets.items()}
    out |= {f"set {name}": frozenset(veths) for name, veths in rs.ifname_sets().items()}
    return out | {"map outs": dict(rs.outs), "map ins": dict(rs.ins)}


def shape_of_listing(listed: str) -> Shape:
    """The same reduction of ``nft list table`` output (pure): comparing it with
    ``shape`` catches a table, chain, set or element deleted, flushed or added."""
    out: Shape = {}
    for kind, name, body in _BLOCK.findall(listed):
        if kind == "chain":
            lines = [line for line in body.splitlines() if line.strip()]
            out[f"chain {name}"] = sum(1 for line in lines if not line.strip().startswith("type "))
            continue
        found = _ELEMENTS.search(body)
        items = [item.strip() for item in found.group(1).split(",")] if found else []
        items = [item for item in items if item]
        if kind == "set":  # a set of ifnames lists them quoted
            out[f"set {name}"] = frozenset(item.strip('"') for item in items)
        else:
            pairs = (item.split(" : ", 1) for item in items)
            out[f"map {name}"] = {key.strip('"'): verdict for key, verdict in pairs}
    return out


def load(text: str, *, check_only: bool = False) -> None:
    """Run one nft transaction (``nft -f -``); HostError if nft refuses it. Needs root."""
    run(["nft", *(["-c"] if check_only else []), "-f", "-"], input=text.encode())


def listing(prefix: str) -> str:
    """The table as the kernel has it now ("" if absent). Runs ``nft list``."""
    result = run(["nft", "list", "table", "inet", table(prefix)], check=False)
    return result.stdout.decode() if result.returncode == 0 else ""


def remove(prefix: str) -> bool:
    """Delete the cloud's firewall table; False if there was none."""
    return run(["nft", "delete", "table", "inet", table(prefix)], check=False).returncode == 0
