"""Security group semantics on real packets: a matrix of TCP, UDP and ICMP probes.

A target instance listens on tcp 8080, 8081, 8090 and udp 9999 (and answers pings).
Probes come from the host (source 169.254.1.1, the gateway), from instance A (a member
of the "friends" group) and from instance B (a member of the VPC's default group). Each
case gives the target a fresh set of groups with one ModifyInstanceAttribute call and
compares what every source reaches with what the rules say, both ways.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.plugin import probe
from tests.plugin.clouds import Server
from tests.plugin.instances import (
    Machine,
    install_probe,
    launch,
    listing,
    perm,
    ssh_group,
    start_listeners,
    wait_for_banner,
)

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

HOST = "169.254.1.1"  # the host's address as instances see it (the gateway)
LISTENERS = ("tcp:8080", "tcp:8081", "tcp:8090", "udp:9999")
TCP = {"tcp:8080", "tcp:8081", "tcp:8090"}
ICMP = {"icmp:8/0", "icmp:8/5"}  # echo request with code 0 / code 5 (the host can send both)
EVERYTHING = TCP | {"udp:9999"} | ICMP
HOST_ONLY_ECHO = "icmp:8/5"  # instances ping through ping sockets: code 0 only


def probes_for(ip: str, labels: Sequence[str]) -> list[list[object]]:
    """Probe specs for labels like "tcp:8080" and "icmp:8/5"."""
    out: list[list[object]] = []
    for label in labels:
        kind, rest = label.split(":")
        if kind == "icmp":
            icmp_type, code = rest.split("/")
            out.append(["icmp", ip, int(icmp_type), int(code)])
        else:
            out.append([kind, ip, int(rest)])
    return out


def reach(source: Machine | None, probes: Sequence[Sequence[object]]) -> list[bool]:
    """Run probes from the host (None) or from inside an instance over SSH."""
    if source is None:
        return probe.reach_all(probes)
    out = source.ssh(f"python3 /tmp/probe.py probe {shlex.quote(json.dumps(list(probes)))}")
    return [bool(x) for x in json.loads(out)]


def wait_for_change(prefix: str, before: str, timeout: float = 10, required: bool = True) -> None:
    """Until the reconciler has loaded a ruleset different from ``before`` (when not
    ``required``, a change that renders the same table may leave it as it was)."""
    deadline = time.monotonic() + (timeout if required else 2)
    while listing(prefix) == before:
        if time.monotonic() > deadline:
            assert not required, "the ruleset did not change"
            return
        time.sleep(0.02)


def first_difference(a: str, b: str) -> int:
    """Index (from the top, 0–31) of the first bit where two IPv4 addresses differ."""
    x = int(ipaddress.IPv4Address(a)) ^ int(ipaddress.IPv4Address(b))
    return 32 - x.bit_length()


def block(ip: str, prefix_len: int) -> str:
    """The CIDR block of that length around an address."""
    return str(ipaddress.IPv4Network(f"{ip}/{prefix_len}", strict=False))


@dataclass
class World:
    """The target, the sources and the groups the cases use."""

    ec2: Any
    cloud: Server
    target: Machine
    a: Machine  # member of "friends"
    b: Machine  # member of the default group
    friends: str
    default: str
    ssh: str
    made: list[str] = field(default_factory=list)

    def give_target(self, groups: Sequence[Sequence[dict[str, Any]] | str]) -> None:
        """Replace the target's groups (besides SSH) with new ones holding these rules
        (or existing group ids), in one ModifyInstanceAttribute; wait until applied."""
        ids = [g if isinstance(g, str) else self._group(g) for g in groups]
        before = listing(self.cloud.prefix)
        self.ec2.modify_instance_attribute(
            InstanceId=self.target.instance_id, Groups=[self.ssh, *ids]
        )
        wait_for_change(self.cloud.prefix, before)

    def _group(self, permissions: Sequence[dict[str, Any]]) -> str:
        name = f"case-{len(self.made)}"
        gid = str(self.ec2.create_security_group(GroupName=name, Description=name)["GroupId"])
        self.made.append(gid)
        if permissions:
            self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=permissions)
        return gid

    def observe(self) -> dict[str, set[str]]:
        """What each source reaches on the target now."""
        sources: dict[str, tuple[Machine | None, list[str]]] = {
            "host": (None, sorted(EVERYTHING)),
            "a": (self.a, sorted(EVERYTHING - {HOST_ONLY_ECHO})),
            "b": (self.b, sorted(EVERYTHING - {HOST_ONLY_ECHO})),
        }
        with ThreadPoolExecutor(max_workers=len(sources)) as pool:
            results = {
                name: pool.submit(reach, m, probes_for(self.target.ip, labels))
                for name, (m, labels) in sources.items()
            }
        return {
            name: {label for label, ok in zip(sources[name][1], fut.result(), strict=True) if ok}
            for name, fut in results.items()
        }

    def expect(self, expected: Mapping[str, set[str]], settle: float = 3) -> None:
        """What each source reaches equals ``expected`` (missing sources: nothing)."""
        want = {name: set(expected.get(name, set())) for name in ("host", "a", "b")}
        deadline = time.monotonic() + settle
        seen = self.observe()
        while seen != want and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = self.observe()
        assert seen == want


@pytest.fixture(scope="module")
def world(cloud: Server, ec2: Any, image_id: str, key: tuple[str, Path]) -> World:
    """Target, friend and default-group instances, listeners running, probes installed."""
    ssh = ssh_group(ec2)
    friends = str(ec2.create_security_group(GroupName="friends", Description="f")["GroupId"])
    default = str(
        ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    )
    target = launch(ec2, image_id, key)
    a = launch(ec2, image_id, key, SecurityGroupIds=[ssh, friends])
    b = launch(ec2, image_id, key, SecurityGroupIds=[ssh, default])
    start_listeners(target, LISTENERS)
    install_probe(a)
    install_probe(b)
    return World(ec2, cloud, target, a, b, friends, default, ssh)


def _cases() -> list[tuple[str, Any, Any]]:
    """(name, groups builder, expectation builder); builders take the World."""
    return [
        ("one tcp port from anywhere", lambda w: [[perm("tcp", 8080, cidr="0.0.0.0/0")]],
         lambda w: {s: {"tcp:8080"} for s in ("host", "a", "b")}),
        ("tcp port range", lambda w: [[perm("tcp", 8080, 8081, cidr="0.0.0.0/0")]],
         lambda w: {s: {"tcp:8080", "tcp:8081"} for s in ("host", "a", "b")}),
        ("range edges", lambda w: [[perm("tcp", 8081, 8090, cidr="0.0.0.0/0")]],
         lambda w: {s: {"tcp:8081", "tcp:8090"} for s in ("host", "a", "b")}),
        ("udp port", lambda w: [[perm("udp", 9999, cidr="0.0.0.0/0")]],
         lambda w: {s: {"udp:9999"} for s in ("host", "a", "b")}),
        ("icmp echo with code 0 only", lambda w: [[perm("icmp", 8, 0, cidr="0.0.0.0/0")]],
         lambda w: {"host": {"icmp:8/0"}, "a": {"icmp:8/0"}, "b": {"icmp:8/0"}}),
        ("icmp echo, any code", lambda w: [[perm("icmp", 8, -1, cidr="0.0.0.0/0")]],
         lambda w: {"host": ICMP, "a": {"icmp:8/0"}, "b": {"icmp:8/0"}}),
        ("icmp of another type admits no echo",
         lambda w: [[perm("icmp", 0, -1, cidr="0.0.0.0/0"), perm("tcp", 8090, cidr="0.0.0.0/0")]],
         lambda w: {s: {"tcp:8090"} for s in ("host", "a", "b")}),
        ("all icmp", lambda w: [[perm("icmp", -1, -1, cidr="0.0.0.0/0")]],
         lambda w: {"host": ICMP, "a": {"icmp:8/0"}, "b": {"icmp:8/0"}}),
        ("all traffic from /0", lambda w: [[perm("-1", cidr="0.0.0.0/0")]],
         lambda w: {"host": EVERYTHING, "a": EVERYTHING - ICMP | {"icmp:8/0"},
                    "b": EVERYTHING - ICMP | {"icmp:8/0"}}),
        ("/32 of the host", lambda w: [[perm("tcp", 8080, cidr=f"{HOST}/32")]],
         lambda w: {"host": {"tcp:8080"}}),
        ("/32 of one instance", lambda w: [[perm("tcp", 8080, cidr=f"{w.a.ip}/32")]],
         lambda w: {"a": {"tcp:8080"}}),
        ("A's block, not its neighbour B's",
         lambda w: [[perm("udp", 9999, cidr=block(w.a.ip, first_difference(w.a.ip, w.b.ip) + 1))]],
         lambda w: {"a": {"udp:9999"}}),
        ("adjacent blocks: B's, and the host's neighbours",
         lambda w: [
             [perm("udp", 9999, cidr=block(w.b.ip, first_difference(w.a.ip, w.b.ip) + 1))],
             [perm("tcp", 8080, cidr="169.254.1.2/31"), perm("tcp", 8081, cidr="169.254.1.0/31")],
         ],
         lambda w: {"host": {"tcp:8081"}, "b": {"udp:9999"}}),
        ("source group", lambda w: [[perm("tcp", 8080, group=w.friends)]],
         lambda w: {"a": {"tcp:8080"}}),
        ("source group and a CIDR in one group",
         lambda w: [[perm("-1", group=w.friends), perm("udp", 9999, cidr=f"{HOST}/32")]],
         lambda w: {"host": {"udp:9999"}, "a": EVERYTHING - {HOST_ONLY_ECHO}}),
        ("the default group admits its members", lambda w: [w.default],
         lambda w: {"b": EVERYTHING - {HOST_ONLY_ECHO}}),
        ("several groups: the union of their rules",
         lambda w: [
             [perm("tcp", 8080, cidr="0.0.0.0/0")],
             [perm("udp", 9999, group=w.friends)],
             [perm("icmp", 8, -1, cidr=f"{HOST}/32")],
         ],
         lambda w: {"host": {"tcp:8080"} | ICMP, "a": {"tcp:8080", "udp:9999"}, "b": {"tcp:8080"}}),
        ("a group without rules admits nothing", lambda w: [[]], lambda w: {}),
    ]  # fmt: skip


CASES = _cases()


@pytest.mark.parametrize(("name", "groups", "expected"), CASES, ids=[c[0] for c in CASES])
def test_ingress_matrix(world: World, name: str, groups: Any, expected: Any) -> None:
    """Each source reaches exactly the protocols, ports and ICMP types the target's
    groups admit from it (CIDR edges, ranges, source groups, the default group, and
    the union of several groups), applied live to the running target."""
    world.give_target(groups(world))
    world.expect(expected(world))


@dataclass(frozen=True)
class Peers:
    """What egress rules of the client name: the target, its group, a port on the host."""

    target_ip: str
    target_group: str
    host_port: int


EGRESS = [
    ("no egress rule: nothing leaves", lambda p: [], set()),
    ("one tcp port to the target's /32",
     lambda p: [perm("tcp", 8080, cidr=f"{p.target_ip}/32")], {"tcp:8080"}),
    ("udp anywhere", lambda p: [perm("udp", 9999, cidr="0.0.0.0/0")], {"udp:9999"}),
    ("everything to the target's group", lambda p: [perm("-1", group=p.target_group)],
     TCP | {"udp:9999", "icmp:8/0"}),
    ("one port on the host", lambda p: [perm("tcp", p.host_port, cidr=f"{HOST}/32")],
     {"host"}),
    ("all outbound", lambda p: [perm("-1", cidr="0.0.0.0/0")],
     TCP | {"udp:9999", "icmp:8/0", "host", "api"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def client(world: World, image_id: str, key: tuple[str, Path]) -> Machine:
    """An instance whose only group admits SSH in and holds no egress rule."""
    ec2 = world.ec2
    sshin = str(ec2.create_security_group(GroupName="ssh-in", Description="s")["GroupId"])
    ec2.authorize_security_group_ingress(
        GroupId=sshin, IpPermissions=[perm("tcp", 22, cidr="0.0.0.0/0")]
    )
    ec2.revoke_security_group_egress(GroupId=sshin, IpPermissions=[perm("-1", cidr="0.0.0.0/0")])
    m = launch(ec2, image_id, key, SecurityGroupIds=[sshin])
    install_probe(m)
    return m


@pytest.fixture(scope="module")
def peers(world: World) -> Iterator[Peers]:
    """The target admitting everything, and a TCP listener on the host (instances
    reach it at the gateway address)."""
    world.give_target([[perm("-1", cidr="0.0.0.0/0")]])
    with socket.create_server((HOST, 0)) as server:
        yield Peers(world.target.ip, world.made[-1], server.getsockname()[1])


class TestEgress:
    """An instance whose groups hold no all-outbound rule sends only what they allow."""

    def _egress(self, world: World, client: Machine, rules: Sequence[dict[str, Any]]) -> None:
        """Swap the client's second group for a new one holding exactly these egress rules."""
        ec2 = world.ec2
        name = f"egress-{len(world.made)}"
        gid = str(ec2.create_security_group(GroupName=name, Description=name)["GroupId"])
        world.made.append(gid)
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[perm("-1", cidr="0.0.0.0/0")])
        if rules:
            ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=list(rules))
        sshin = ec2.describe_security_groups(GroupNames=["ssh-in"])["SecurityGroups"][0]
        before = listing(world.cloud.prefix)
        ec2.modify_instance_attribute(InstanceId=client.instance_id, Groups=[sshin["GroupId"], gid])
        wait_for_change(world.cloud.prefix, before, required=bool(rules))

    def _observe(self, world: World, client: Machine, peers: Peers) -> set[str]:
        labels = sorted(EVERYTHING - {HOST_ONLY_ECHO})
        probes = probes_for(peers.target_ip, labels)
        probes += [["tcp", HOST, peers.host_port], ["tcp", HOST, world.cloud.port]]
        seen = reach(client, probes)
        return {label for label, ok in zip([*labels, "host", "api"], seen, strict=True) if ok}

    @pytest.mark.parametrize(("name", "rules", "expected"), EGRESS, ids=[c[0] for c in EGRESS])
    def test_egress_matrix(
        self,
        world: World,
        client: Machine,
        peers: Peers,
        name: str,
        rules: Any,
        expected: set[str],
    ) -> None:
        """The client reaches the target, a port on the host and the API (on the gateway)
        exactly as its egress rules allow; the target admits everything."""
        self._egress(world, client, rules(peers))
        deadline = time.monotonic() + 3
        seen = self._observe(world, client, peers)
        while seen != expected and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = self._observe(world, client, peers)
        assert seen == expected

    def test_metadata_ignores_egress_rules(
        self, world: World, client: Machine, peers: Peers
    ) -> None:
        """With no egress rule at all, the metadata service still answers (as on EC2),
        while the API on the same gateway address is as closed as everything else."""
        self._egress(world, client, [])
        got = client.ssh("curl -s -m 3 http://169.254.169.254/latest/meta-data/instance-id")
        assert got == client.instance_id
        assert self._observe(world, client, peers) == set()

    def test_api_answers_instances(self, world: World, client: Machine) -> None:
        """With egress allowed, an instance reaches the control-plane API at the gateway
        (an unsigned call gets AWS's error, as from anywhere else)."""
        self._egress(world, client, [perm("-1", cidr="0.0.0.0/0")])
        url = f"http://{HOST}:{world.cloud.port}/?Action=DescribeRegions&Version=2016-11-15"
        body = client.ssh(f"curl -s -m 3 '{url}'")
        assert "<Code>MissingAuthenticationToken</Code>" in body or "AuthFailure" in body


class TestLifecycle:
    """Instance start, stop and terminate change what the firewall holds."""

    def test_rules_return_after_stop_and_start(self, world: World) -> None:
        """A stopped instance has no chain; started again, its groups guard it at once."""
        ec2, target = world.ec2, world.target
        world.give_target([[perm("tcp", 8080, cidr="0.0.0.0/0")]])
        chain = "in_" + target.instance_id.replace("-", "_")
        assert chain in listing(world.cloud.prefix)
        ec2.stop_instances(InstanceIds=[target.instance_id])
        ec2.get_waiter("instance_stopped").wait(
            InstanceIds=[target.instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        deadline = time.monotonic() + 10
        while chain in listing(world.cloud.prefix):
            assert time.monotonic() < deadline, "a stopped instance kept its chain"
            time.sleep(0.1)
        ec2.start_instances(InstanceIds=[target.instance_id])
        ec2.get_waiter("instance_running").wait(
            InstanceIds=[target.instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        wait_for_banner(target.ip)
        start_listeners(target, LISTENERS)
        world.expect({s: {"tcp:8080"} for s in ("host", "a", "b")})

    def test_terminated_member_leaves_its_group(
        self, world: World, image_id: str, key: tuple[str, Path]
    ) -> None:
        """A group rule admits a member launched after it; once that member is terminated,
        a non-member given the same address is not admitted."""
        ec2, target = world.ec2, world.target
        crew = str(ec2.create_security_group(GroupName="crew", Description="c")["GroupId"])
        world.give_target([[perm("tcp", 8080, group=crew)]])
        member = launch(ec2, image_id, key, SecurityGroupIds=[world.ssh, crew])
        install_probe(member)
        assert reach(member, probes_for(target.ip, ["tcp:8080", "udp:9999"])) == [True, False]
        ec2.terminate_instances(InstanceIds=[member.instance_id])
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=[member.instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        stranger = launch(ec2, image_id, key, PrivateIpAddress=member.ip)
        assert stranger.ip == member.ip
        install_probe(stranger)
        assert reach(stranger, probes_for(target.ip, ["tcp:8080"])) == [False]
