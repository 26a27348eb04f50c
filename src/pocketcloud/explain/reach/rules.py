"""A small evaluator of the firewall's rule lines, read from the kernel's own table (pure).

``parse_listing`` reads ``nft list table inet <prefix>_fw`` (chains and address sets);
``first_match`` runs a new TCP connection through one instance chain the way the kernel
does: top to bottom, the first line whose matches all hold decides. It understands
exactly the statements ``host.firewall`` renders — ``ip saddr|daddr <cidr|@set>``,
``meta nfproto ipv4``, ``tcp|udp dport <n|a-b>``, ``meta l4proto <p>``, ``icmp type``,
``ct state …`` (never true for a new connection), ``return``/``drop``/``accept`` — and
treats any other line as not matching. ``same_rule`` compares two lines by meaning, so a
line the kernel prints maps back to the stored rule rendered by ``firewall.render_rule``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_BLOCK = re.compile(r"^\t(chain|set|map) (\S+) \{\n(.*?)^\t\}", re.MULTILINE | re.DOTALL)
_ELEMENTS = re.compile(r"elements = \{(.*?)\}", re.DOTALL)
VERDICTS = ("return", "drop", "accept")


@dataclass(frozen=True)
class Table:
    """A listed table: each chain's rule lines and each set's elements."""

    chains: Mapping[str, tuple[str, ...]]
    sets: Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Match:
    """What one rule line tests, and its verdict."""

    saddr: str | None = None  # a network ("10.0.0.0/24") or a set ("@g_sg_1")
    daddr: str | None = None
    protocol: str | None = None  # "tcp", "udp", "icmp", a number; None: any
    ports: tuple[int, int] | None = None  # destination port range
    verdict: str = ""
    new_flows: bool = True  # False: a ``ct state`` line, which a new connection skips


@dataclass(frozen=True)
class Packet:
    """The first packet of a connection."""

    saddr: str
    daddr: str
    protocol: str = "tcp"
    port: int = 0


def parse_listing(listed: str) -> Table:
    """Chains and sets of an ``nft list table`` listing (pure)."""
    chains: dict[str, tuple[str, ...]] = {}
    sets: dict[str, frozenset[str]] = {}
    for kind, name, body in _BLOCK.findall(listed):
        if kind == "chain":
            lines = (line.strip() for line in body.splitlines())
            chains[name] = tuple(ln for ln in lines if ln and not ln.startswith("type "))
        elif kind == "set":
            found = _ELEMENTS.search(body)
            items = found.group(1).split(",") if found else []
            sets[name] = frozenset(i.strip().strip('"') for i in items if i.strip())
    return Table(chains, sets)


def _network(text: str) -> str:
    if text.startswith("@"):
        return text
    return str(ipaddress.ip_network(text, strict=False))


def _ports(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def parse_line(line: str) -> Match | None:
    """The tests of one rule line; None if it uses a statement not modelled (pure)."""
    words = line.split()
    fields: dict[str, object] = {}
    i = 0
    try:
        while i < len(words):
            word, arg = words[i], words[i + 1] if i + 1 < len(words) else ""
            if word in VERDICTS:
                fields["verdict"] = word
                i += 1
            elif word == "ip" and arg in ("saddr", "daddr"):
                fields[arg] = _network(words[i + 2])
                i += 3
            elif word == "meta" and arg == "nfproto" and words[i + 2] == "ipv4":
                i += 3
            elif word == "meta" and arg == "l4proto":
                fields["protocol"] = words[i + 2]
                i += 3
            elif word in ("tcp", "udp") and arg == "dport":
                fields["protocol"], fields["ports"] = word, _ports(words[i + 2])
                i += 3
            elif word == "icmp" and arg in ("type", "code"):
                fields["protocol"] = "icmp"
                i += 3
            elif word == "ct" and arg == "state":
                fields["new_flows"] = "new" in words[i + 2].split(",")
                i += 3
            else:
                return None
    except (IndexError, ValueError):
        return None
    return Match(**fields)  # type: ignore[arg-type]


def _address_in(address: str, test: str | None, sets: Mapping[str, frozenset[str]]) -> bool:
    if test is None:
        return True
    if test.startswith("@"):
        return address in sets.get(test[1:], frozenset())
    return ipaddress.ip_address(address) in ipaddress.ip_network(test)


def matches(m: Match, p: Packet, sets: Mapping[str, frozenset[str]]) -> bool:
    """Whether every test of the line holds for the packet (pure)."""
    if not m.new_flows:
        return False
    if m.protocol is not None and m.protocol != p.protocol:
        return False
    if m.ports is not None and not m.ports[0] <= p.port <= m.ports[1]:
        return False
    return _address_in(p.saddr, m.saddr, sets) and _address_in(p.daddr, m.daddr, sets)


def first_match(
    lines: Sequence[str], packet: Packet, sets: Mapping[str, frozenset[str]]
) -> tuple[str, str] | None:
    """The first line that decides the packet and its verdict, or None if none does
    (the chain falls through) (pure)."""
    for line in lines:
        m = parse_line(line)
        if m is not None and m.verdict and matches(m, packet, sets):
            return line, m.verdict
    return None


def same_rule(a: str, b: str) -> bool:
    """Whether two rule lines test the same thing (the kernel prints ``10.0.0.5`` for a
    rendered ``10.0.0.5/32``, ``meta nfproto ipv4`` may be elided) (pure)."""
    ma, mb = parse_line(a), parse_line(b)
    return ma is not None and ma == mb
