"""Rendering security groups as an nftables ruleset (pure), and nft accepting it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace

import pytest

from pocketcloud.host import firewall, nat
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
    vpc_id="vpc-0aaaaaaaaaaaaaaaa",
)
DB = Guarded(
    "i-1111111111111111a",
    "pt011111111ah",
    ingress=(),
    egress=(Rule("-1"),),
    vpc_id="vpc-0aaaaaaaaaaaaaaaa",
)
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
        assert '"pt0189abcdef0h" : jump out_i_0123456789abcdef0' in text
        outs = text[text.index("map outs {") :]
        assert "type ifname : verdict" in outs.splitlines()[1]
        chain = text[text.index("chain in_i_0123456789abcdef0") :]
        chain = chain[: chain.index("}")]
        lines = [line.strip() for line in chain.splitlines()[1:] if line.strip()]
        assert lines[0] == "ct state established,related return"
        assert lines[-1] == "drop"
        egress = text[text.index("chain out_i_0123456789abcdef0") :]
        # the metadata service only, before any rule: the API on the gateway obeys egress
        assert egress.splitlines()[3].strip() == "ip daddr 169.254.1.1 tcp dport 4748 return"

    def test_forward_checks_egress_before_ingress(self) -> None:
        """Between instances tracked flows pass at once; a new one meets the sender's
        egress first, then the receiver's ingress."""
        text = firewall.render(MODEL)
        forward = text[text.index("chain forward") : text.index("chain output")]
        assert (
            forward.index("ct state established,related accept")
            < forward.index("iifname vmap @outs")
            < forward.index("oifname vmap @ins")
        )

    def test_empty_cloud(self) -> None:
        """A cloud without instances still renders a loadable table with empty maps."""
        text = firewall.render(Model("pt02"))
        assert "elements" not in text
        assert "chain forward {" in text

    @pytest.mark.needs_root  # nft -c
    def test_nft_accepts_it(self) -> None:
        """nft itself accepts the rendered ruleset (checked with -c, nothing applied)."""
        firewall.load(firewall.render(MODEL), check_only=True)
        firewall.load(firewall.render(Model("pt02")), check_only=True)
        firewall.load(firewall.render(_with(MODEL, instances=(WEB, OTHER))), check_only=True)


LAUNCHED = Guarded(
    "i-2222222222222222b",
    "pt012222222bh",
    ingress=(Rule("tcp", 80, 80),),
    vpc_id="vpc-0aaaaaaaaaaaaaaaa",
)
# an instance of a second VPC
OTHER = Guarded("i-3333333333333333c", "pt013333333ch", ingress=(Rule("-1"),), vpc_id="vpc-0b")


def _with(
    model: Model, *, instances: tuple[Guarded, ...] | None = None, **members: list[str]
) -> Model:
    merged = {**(model.members or {}), **{k.replace("_", "-"): v for k, v in members.items()}}
    return replace(
        model, instances=model.instances if instances is None else instances, members=merged
    )


def _changes(old: Model, new: Model) -> list[str]:
    return firewall.render_update(firewall.ruleset(old), firewall.ruleset(new)).splitlines()


class TestRenderUpdate:
    def test_nothing_changed(self) -> None:
        """The same model twice needs no transaction at all."""
        assert firewall.render_update(firewall.ruleset(MODEL), firewall.ruleset(MODEL)) == ""

    def test_rule_change_rewrites_one_chain(self) -> None:
        """A changed rule flushes and refills only the chain of the instance it concerns."""
        web = replace(WEB, ingress=(*WEB.ingress, Rule("udp", 53, 53, cidr="10.0.0.0/8")))
        lines = _changes(MODEL, _with(MODEL, instances=(web, DB)))
        assert lines[0] == "flush chain inet pt01_fw in_i_0123456789abcdef0"
        assert all("in_i_0123456789abcdef0" in line for line in lines)
        assert lines[-2:] == [
            "add rule inet pt01_fw in_i_0123456789abcdef0 ip saddr 10.0.0.0/8 udp dport 53 return",
            "add rule inet pt01_fw in_i_0123456789abcdef0 drop",
        ]

    def test_launch_and_terminate(self) -> None:
        """A new instance adds its two chains before the map elements that jump to them;
        a removed one loses its map elements before its chains are deleted."""
        bigger = _with(MODEL, instances=(WEB, DB, LAUNCHED))
        lines = _changes(MODEL, bigger)
        assert lines[:2] == [
            "add chain inet pt01_fw in_i_2222222222222222b",
            "add chain inet pt01_fw out_i_2222222222222222b",
        ]
        assert (
            'add element inet pt01_fw ins { "pt012222222bh" : jump in_i_2222222222222222b }'
            in lines
        )
        back = _changes(bigger, MODEL)
        assert back.index('delete element inet pt01_fw ins { "pt012222222bh" }') < back.index(
            "delete chain inet pt01_fw in_i_2222222222222222b"
        )

    def test_membership_change_touches_one_set(self) -> None:
        """A group's new member only refills that group's set."""
        lines = _changes(MODEL, _with(MODEL, sg_0aaaaaaaaaaaaaaaa=["10.1.0.4"]))
        assert lines == [
            "flush set inet pt01_fw g_sg_0aaaaaaaaaaaaaaaa",
            "add element inet pt01_fw g_sg_0aaaaaaaaaaaaaaaa { 10.1.0.4 }",
        ]


def _chain_lines(text: str, chain: str) -> list[str]:
    block = text[text.index(f"chain {chain} {{") :]
    block = block[: block.index("}")]
    return [line.strip() for line in block.splitlines()[1:] if line.strip()]


class TestVpcIsolation:
    def test_sets_and_forward_rules(self) -> None:
        """Every veth is in ``veths``, each VPC's in its own set, and the forward chain
        drops what one VPC's instances send to another VPC's private addresses (flows to an
        Elastic IP, translated, are spared), before tracked flows pass."""
        text = firewall.render(_with(MODEL, instances=(WEB, DB, OTHER)))
        assert 'elements = { "pt011111111ah", "pt013333333ch", "pt0189abcdef0h" }' in text
        assert 'elements = { "pt011111111ah", "pt0189abcdef0h" }' in text
        assert _chain_lines(text, "forward")[1:] == [
            "iifname @v_vpc_0aaaaaaaaaaaaaaaa oifname @veths"
            " oifname != @v_vpc_0aaaaaaaaaaaaaaaa ct status ! dnat drop",
            "iifname @v_vpc_0b oifname @veths oifname != @v_vpc_0b ct status ! dnat drop",
            "ct state established,related accept",
            "iifname vmap @outs",
            "oifname vmap @ins",
        ]

    def test_host_chains_untouched(self) -> None:
        """Traffic between the host and instances (input, output) knows nothing of VPCs."""
        text = firewall.render(_with(MODEL, instances=(WEB, DB, OTHER)))
        assert _chain_lines(text, "output")[1:] == [
            "ct state established,related accept",
            "oifname vmap @ins",
        ]
        assert _chain_lines(text, "input")[1:] == [
            "ct state established,related accept",
            "iifname vmap @outs",
        ]

    def test_instance_without_vpc(self) -> None:
        """An instance the model puts in no VPC is in ``veths`` only (no VPC set, no rule)."""
        text = firewall.render(Model("pt02", (replace(DB, vpc_id=""),)))
        assert "set v_" not in text
        assert "@v_" not in text
        assert 'elements = { "pt011111111ah" }' in text

    def test_launch_into_known_vpc_adds_elements_only(self) -> None:
        """A launch into a VPC that has instances adds one element to its set and to
        ``veths``; the forward chain is not rewritten."""
        lines = _changes(MODEL, _with(MODEL, instances=(WEB, DB, LAUNCHED)))
        assert 'add element inet pt01_fw veths { "pt012222222bh" }' in lines
        assert 'add element inet pt01_fw v_vpc_0aaaaaaaaaaaaaaaa { "pt012222222bh" }' in lines
        assert not any("forward" in line for line in lines)

    def test_new_vpc_and_gone_vpc(self) -> None:
        """The first instance of a VPC creates its set before the forward chain is
        rewritten to name it; the last one's departure rewrites the chain before the
        set is deleted."""
        bigger = _with(MODEL, instances=(WEB, DB, OTHER))
        lines = _changes(MODEL, bigger)
        assert lines.index("add set inet pt01_fw v_vpc_0b { type ifname; }") < lines.index(
            "flush chain inet pt01_fw forward"
        )
        assert (
            "add rule inet pt01_fw forward iifname @v_vpc_0b oifname @veths"
            " oifname != @v_vpc_0b ct status ! dnat drop"
        ) in lines
        back = _changes(bigger, MODEL)
        assert back.index("flush chain inet pt01_fw forward") < back.index(
            "delete set inet pt01_fw v_vpc_0b"
        )
        assert 'delete element inet pt01_fw veths { "pt013333333ch" }' in back


def _normalized(prefix: str) -> dict[str, object]:
    """The loaded table as JSON, without handles and with set elements sorted."""
    listed = subprocess.run(
        ["nft", "-j", "list", "table", "inet", f"{prefix}_fw"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    objects: dict[str, object] = {}
    rules: dict[str, list[str]] = {}
    for item in json.loads(listed)["nftables"]:
        for kind, raw in item.items():
            body = {k: v for k, v in raw.items() if k != "handle"}
            if kind == "rule":
                rules.setdefault(body["chain"], []).append(json.dumps(body["expr"]))
            elif kind != "metainfo":
                body["elem"] = sorted(json.dumps(e) for e in body.get("elem", []))
                objects[f"{kind} {body['name']}"] = body
    return {**objects, "rules": rules}


@pytest.mark.live  # loads real tables (prefix pt03) into the kernel
@pytest.mark.needs_root
class TestUpdateMatchesFullLoad:
    PREFIX = "pt03"

    @pytest.fixture(autouse=True)
    def _cleanup(self) -> Iterator[None]:
        yield
        firewall.remove(self.PREFIX)

    @pytest.mark.parametrize(
        "change",
        [
            "rule",
            "launch",
            "terminate",
            "members",
            "new group set",
            "everything gone",
            "vpc added",
            "vpc removed",
            "last of a vpc gone",
        ],
    )
    def test_same_table_either_way(self, change: str) -> None:
        """Loading a model whole and updating to it from the previous one leave the very
        same table in the kernel (veth names are not real links: nothing is filtered),
        VPC sets and the forward chain's isolation rules included."""
        old = replace(MODEL, prefix=self.PREFIX, metadata=("169.254.1.1", 4748))
        two_vpcs = _with(old, instances=(WEB, DB, OTHER))
        if change in ("vpc removed", "last of a vpc gone"):
            old, two_vpcs = two_vpcs, old
        new = {
            "rule": _with(old, instances=(replace(WEB, ingress=WEB.ingress[1:]), DB)),
            "launch": _with(old, instances=(WEB, DB, LAUNCHED)),
            "terminate": _with(old, instances=(DB,)),
            "members": _with(old, sg_0aaaaaaaaaaaaaaaa=["10.1.0.9"]),
            "new group set": replace(
                _with(old, instances=(WEB, replace(DB, ingress=(Rule("-1", group_id="sg-0c"),)))),
                members={**(old.members or {}), "sg-0c": ["10.1.0.7"]},
            ),
            "everything gone": replace(old, instances=(), members={}),
            "vpc added": two_vpcs,
            "vpc removed": two_vpcs,
            "last of a vpc gone": _with(old, instances=(OTHER,)),
        }[change]
        firewall.load(firewall.render(old))
        firewall.load(firewall.render_update(firewall.ruleset(old), firewall.ruleset(new)))
        updated = _normalized(self.PREFIX)
        listed = firewall.listing(self.PREFIX)
        assert firewall.shape_of_listing(listed) == firewall.shape(firewall.ruleset(new))
        firewall.load(firewall.render(new))
        assert updated == _normalized(self.PREFIX)

    @pytest.mark.parametrize(
        "tamper",
        [
            "flush chain inet pt03_fw in_i_0123456789abcdef0",
            "add rule inet pt03_fw out_i_1111111111111111a accept",
            "delete element inet pt03_fw g_sg_0aaaaaaaaaaaaaaaa { 10.1.0.4 }",
            'delete element inet pt03_fw ins { "pt011111111ah" }',
            "delete chain inet pt03_fw input",
            'delete element inet pt03_fw v_vpc_0aaaaaaaaaaaaaaaa { "pt011111111ah" }',
            'add element inet pt03_fw veths { "pt0dead0000h" }',
            "flush chain inet pt03_fw forward",
        ],
    )
    def test_tampering_changes_the_shape(self, tamper: str) -> None:
        """A chain flushed or grown, a set or map element removed or added (VPC sets too),
        a base chain gone or flushed:
        the listing no longer has the shape of what was loaded (what the reconciler
        checks before reloading the table)."""
        model = replace(MODEL, prefix=self.PREFIX, metadata=("169.254.1.1", 4748))
        firewall.load(firewall.render(model))
        expected = firewall.shape(firewall.ruleset(model))
        assert firewall.shape_of_listing(firewall.listing(self.PREFIX)) == expected
        subprocess.run(["nft", *tamper.split()], check=True)
        assert firewall.shape_of_listing(firewall.listing(self.PREFIX)) != expected


class TestNatRender:
    def test_one_rule_per_vpc(self) -> None:
        """Each VPC CIDR (once) is masqueraded towards anything outside every VPC."""
        text = nat.ruleset("pt04", ["10.2.0.0/16", "10.1.0.0/16", "10.2.0.0/16"])
        assert text.startswith("table ip pt04_nat\ndelete table ip pt04_nat\n")
        assert "elements = { 10.1.0.0/16, 10.2.0.0/16 }" in text
        rules = [line.strip() for line in text.splitlines() if "masquerade" in line]
        assert rules == [
            "ip saddr 10.1.0.0/16 ip daddr != @vpcs masquerade",
            "ip saddr 10.2.0.0/16 ip daddr != @vpcs masquerade",
        ]

    def test_no_vpc(self) -> None:
        """A cloud without VPCs masquerades nothing."""
        assert "masquerade" not in nat.ruleset("pt04", [])

    @pytest.mark.needs_root  # nft -c
    def test_nft_accepts_it(self) -> None:
        """nft accepts the table, overlapping CIDRs included (checked with -c only)."""
        for cidrs in ([], ["10.1.0.0/16", "10.1.2.0/24", "10.3.0.0/16"]):
            firewall.load(nat.ruleset("pt04", cidrs), check_only=True)
