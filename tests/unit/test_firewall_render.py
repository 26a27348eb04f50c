"""Rendering security groups as an nftables ruleset (pure), and nft accepting it."""

from __future__ import annotations

import os
import shutil

import pytest

from pocketcloud.host import firewall
from pocketcloud.host.firewall import Guarded, Model, Rule

WEB = Guarded(
    "i-0123456789abcdef0",
    "pt0189abcdef0h",
    ingress=(
        Rule("tcp", 22, 22, cidr="0.0.0.0/0"),
        Rule("tcp", 8000, 8100, cidr="10.1.2.0/24"),
        Rule("icmp", 8, -1, cidr="10.0.0.1/32"),
        Rule("-1", group_id="sg-0aaaaaaaaaaaaaaaa"),
        Rule("47"),
    ),
    egress=(Rule("udp", 53, 53, cidr="10.0.0.2/32"),),
)
DB = Guarded("i-1111111111111111a", "pt011111111ah", ingress=(), egress=(Rule("-1"),))
MODEL = Model(
    "pt01",
    (WEB, DB),
    {"sg-0aaaaaaaaaaaaaaaa": ["10.1.0.5", "10.1.0.4"], "sg-0bbbbbbbbbbbbbbbb": []},
    metadata=("169.254.1.1", 4748),
)


class TestRenderRule:
    @pytest.mark.parametrize(
        ("rule", "direction", "expected"),
        [
            (Rule("tcp", 22, 22, cidr="0.0.0.0/0"), "in", "meta nfproto ipv4 tcp dport 22 return"),
            (
                Rule("udp", 1000, 2000, cidr="10.0.0.0/8"),
                "in",
                "ip saddr 10.0.0.0/8 udp dport 1000-2000 return",
            ),
            (
                Rule("udp", 53, 53, cidr="10.0.0.2/32"),
                "out",
                "ip daddr 10.0.0.2/32 udp dport 53 return",
            ),
            (
                Rule("icmp", 8, 0, cidr=None),
                "in",
                "meta nfproto ipv4 meta l4proto icmp icmp type 8 icmp code 0 return",
            ),
            (Rule("icmp"), "in", "meta nfproto ipv4 meta l4proto icmp return"),
            (Rule("-1", group_id="sg-0a"), "in", "ip saddr @g_sg_0a return"),
            (Rule("47"), "out", "meta nfproto ipv4 meta l4proto 47 return"),
            (Rule("icmpv6"), "in", "meta nfproto ipv4 meta l4proto ipv6-icmp return"),
        ],
    )
    def test_rules(self, rule: Rule, direction: str, expected: str) -> None:
        """Protocol, port range, ICMP type/code, CIDR and group peers become nft matches."""
        assert firewall.render_rule(rule, direction) == expected


class TestRender:
    def test_structure(self) -> None:
        """Stateful chains per instance, verdict maps on veths, a set per group, default drop."""
        text = firewall.render(MODEL)
        assert text.startswith("table inet pt01_fw\ndelete table inet pt01_fw\n")
        assert "elements = { 10.1.0.4, 10.1.0.5 }" in text
        assert "set g_sg_0bbbbbbbbbbbbbbbb {" in text
        assert 'iifname vmap { "pt0189abcdef0h" : jump out_i_0123456789abcdef0' in text
        chain = text[text.index("chain in_i_0123456789abcdef0") :]
        chain = chain[: chain.index("}")]
        lines = [line.strip() for line in chain.splitlines()[1:] if line.strip()]
        assert lines[0] == "ct state established,related return"
        assert lines[-1] == "drop"
        egress = text[text.index("chain out_i_0123456789abcdef0") :]
        # the metadata service only, before any rule: the API on the gateway obeys egress
        assert egress.splitlines()[3].strip() == "ip daddr 169.254.1.1 tcp dport 4748 return"

    def test_forward_checks_egress_before_ingress(self) -> None:
        """Between instances the sender's egress runs first, then the receiver's ingress."""
        text = firewall.render(MODEL)
        forward = text[text.index("chain forward") : text.index("chain output")]
        assert forward.index("iifname vmap") < forward.index("oifname vmap")

    def test_empty_cloud(self) -> None:
        """A cloud without instances still renders a loadable, empty table."""
        text = firewall.render(Model("pt02"))
        assert "vmap" not in text
        assert "chain forward {" in text

    @pytest.mark.skipif(
        os.geteuid() != 0 or not shutil.which("nft"), reason="nft -c needs root and nftables"
    )
    def test_nft_accepts_it(self) -> None:
        """nft itself accepts the rendered ruleset (checked with -c, nothing applied)."""
        firewall.apply(MODEL, check_only=True)
        firewall.apply(Model("pt02"), check_only=True)
