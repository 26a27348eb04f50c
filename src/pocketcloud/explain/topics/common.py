"""What every topic's rendering shares: the writer and small readings of the facts (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pocketcloud.explain.sockets import Socket
from pocketcloud.explain.topics.facts import Group, Instance, KeyPair, Rule, TopicFacts
from pocketcloud.explain.topics.texts import message

EVERY = frozenset({"0.0.0.0", "::", "*"})  # noqa: S104 (read from ss, never bound)
MAX_ITEMS = 20  # longer lists are cut, with "... and N more"
T = TypeVar("T")


@dataclass
class Out:
    """Lines of an answer in one language, and the data ``--json`` gives."""

    lang: str
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def say(self, template: str, indent: int = 0, /, **values: object) -> None:
        """Add ``template`` (it may span lines), indented by ``indent`` steps."""
        for line in message(self.lang, template, **values).splitlines():
            self.lines.append("  " * indent + line)

    def text(self, template: str, /, **values: object) -> str:
        """``template`` filled in, as a string (for composing)."""
        return message(self.lang, template, **values)

    def blank(self) -> None:
        """An empty line between sections."""
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def cut(self, items: Sequence[T], indent: int) -> Sequence[T]:
        """The first MAX_ITEMS items; says how many were left out."""
        if len(items) > MAX_ITEMS:
            self.say("more", indent, count=len(items) - MAX_ITEMS)
        return items[:MAX_ITEMS]


def running(facts: TopicFacts) -> list[Instance]:
    """The running instances (none while the cloud is down: its instances stop with it,
    whatever state is stored)."""
    if facts.cloud.status != "up":
        return []
    return [i for i in facts.instances if i.state == "running"]


def unseen(facts: TopicFacts, inst: Instance) -> str | None:
    """Why an instance's sockets cannot be shown (a template key), or None."""
    if facts.cloud.status != "up":
        return "listening.down"
    if inst.state != "running":
        return "listening.not_running"
    return "listening.unread" if inst.sockets is None else None


def address_of(inst: Instance) -> str:
    """The address to reach an instance at: its public one, else its private one."""
    return inst.public_ip or inst.private_ip


def meaning(sock: Socket, inst: Instance) -> str:
    """What a listening address means: all, loopback, own or other."""
    if sock.address in EVERY:
        return "all"
    if sock.address.startswith("127.") or sock.address == "::1":
        return "loopback"
    return "own" if sock.address == inst.private_ip else "other"


def reachable(sock: Socket, inst: Instance) -> bool:
    """Whether another machine can connect to the socket (firewall aside)."""
    return meaning(sock, inst) in ("all", "own")


def show_address(address: str) -> str:
    """An address as ``ss`` would print it before ``:port``."""
    return f"[{address}]" if ":" in address else address


def process(sock: Socket) -> str:
    """``sshd (pid 17)``, ``nginx (pids 5, 6, 7)``, or ``?`` when ss did not say."""
    if not sock.processes:
        return "?"
    names = sorted({name for name, _ in sock.processes})
    pids = ", ".join(str(pid) for _, pid in sock.processes)
    return f"{'/'.join(names)} (pid{'s' if len(sock.processes) > 1 else ''} {pids})"


def ports(rule: Rule) -> str:
    """The rule's ports as a reader writes them: ``22``, ``8000-8099``, ``all``."""
    if rule.protocol == "-1" or (rule.from_port == -1 and rule.protocol in ("tcp", "udp")):
        return "all"
    if rule.protocol == "icmp":
        return "all" if rule.from_port == -1 else f"type {rule.from_port}"
    if rule.from_port == rule.to_port:
        return str(rule.from_port)
    return f"{rule.from_port}-{rule.to_port}"


def protocol(rule: Rule) -> str:
    """``tcp``, ``udp``, ``icmp``, ``all``."""
    return "all" if rule.protocol == "-1" else rule.protocol


def source(rule: Rule) -> str:
    """Where the rule admits from (or sends to): a CIDR or a group id."""
    return rule.cidr_ipv4 or rule.ref_group_id or "?"


def peer(out: Out, rule: Rule) -> str:
    """The rule's peer in words: a CIDR, or the members of a group."""
    if rule.ref_group_id is not None and rule.cidr_ipv4 is None:
        return out.text("source.group", group=rule.ref_group_id)
    return source(rule)


def traffic(out: Out, rule: Rule) -> str:
    """What the rule matches in words: ``tcp 8080``, ``tcp 8000-8099``, ``all traffic``."""
    if rule.protocol == "-1":
        return out.text("traffic.all")
    return f"{protocol(rule)} {ports(rule)}"


def admits(rule: Rule, port: int) -> bool:
    """Whether an ingress rule admits TCP ``port`` (from its source)."""
    if rule.egress:
        return False
    if rule.protocol == "-1":
        return True
    return rule.protocol == "tcp" and (
        rule.from_port == -1 or rule.from_port <= port <= rule.to_port
    )


def groups_of(inst: Instance, facts: TopicFacts) -> list[Group]:
    """The instance's security groups, in its order."""
    by_id = {g.group_id: g for g in facts.groups}
    return [by_id[g] for g in inst.group_ids if g in by_id]


def admitting(inst: Instance, facts: TopicFacts, port: int) -> list[tuple[Group, Rule]]:
    """The ingress rules of the instance's groups that admit TCP ``port``."""
    return [(g, r) for g in groups_of(inst, facts) for r in g.rules if admits(r, port)]


def key_of(inst: Instance, facts: TopicFacts) -> KeyPair | None:
    """The instance's key pair, if the cloud still has it."""
    return next((k for k in facts.keys if k.name == inst.key_name), None)


def pem(name: str | None, facts: TopicFacts) -> str:
    """The private key file to use with ``ssh -i``: found in ~/.ssh, else where it goes."""
    key = next((k for k in facts.keys if k.name == name), None)
    if key is not None and key.pem:
        return key.pem
    return f"~/.ssh/{name or '<key>'}.pem"


def joined(items: Iterable[str], empty: str = "-") -> str:
    """Items separated by commas, or ``empty``."""
    text = ", ".join(items)
    return text or empty


def listing_sockets(inst: Instance) -> list[dict[str, Any]]:
    """An instance's listening sockets as data."""
    return [
        {
            "address": s.address,
            "port": s.port,
            "processes": [{"name": n, "pid": p} for n, p in s.processes],
            "meaning": meaning(s, inst),
        }
        for s in inst.sockets or ()
    ]


def rule_data(group: Group, rule: Rule) -> dict[str, Any]:
    """A rule as data, with its group."""
    return {
        "group_id": group.group_id,
        "group_name": group.name,
        "rule_id": rule.rule_id,
        "direction": "egress" if rule.egress else "ingress",
        "protocol": protocol(rule),
        "ports": ports(rule),
        "source": source(rule),
        "description": rule.description,
    }
