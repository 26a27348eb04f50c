"""Which CIDRs a new VPC may take on this machine (pure: host routes as data)."""

from __future__ import annotations

import ipaddress

from pocketcloud.host.routes import HostRoute, parse
from pocketcloud.services.ec2.network import Vpc
from pocketcloud.services.ec2.vpcs import overlap

IP_OUTPUT = """[
 {"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},
 {"type":"7","dst":"10.161.0.0/16","protocol":"99","flags":[]},
 {"dst":"10.161.0.4","dev":"t1a2b3h","flags":[]},
 {"dst":"192.0.2.0/24","dev":"eth0","protocol":"2","scope":"253","prefsrc":"192.0.2.2",
  "flags":[]}
]"""


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


class TestParse:
    def test_routes(self) -> None:
        """The default route is left out; a bare address gets /32; a route without a
        protocol is boot (3); a route without a device shows its type."""
        assert parse(IP_OUTPUT) == [
            HostRoute("10.161.0.0/16", 99, "unreachable"),
            HostRoute("10.161.0.4/32", 3, "t1a2b3h"),
            HostRoute("192.0.2.0/24", 2, "eth0"),
        ]

    def test_empty(self) -> None:
        """No output, no routes."""
        assert parse("") == []


class TestOverlap:
    routes = parse(IP_OUTPUT)
    vpcs = (Vpc("vpc-0aaaaaaaaaaaaaaaa", "10.50.0.0/16", False),)

    def test_free(self) -> None:
        """A CIDR clear of every VPC and route is allowed."""
        assert overlap(net("10.60.0.0/16"), self.vpcs, self.routes, set()) is None

    def test_own_vpc(self) -> None:
        """Overlapping a VPC of this cloud names that VPC and why."""
        why = overlap(net("10.50.8.0/24"), self.vpcs, self.routes, set())
        assert why is not None
        assert "vpc-0aaaaaaaaaaaaaaaa" in why
        assert "routing table" in why

    def test_host_route(self) -> None:
        """Overlapping one of the machine's routes names the route and its device."""
        why = overlap(net("192.0.2.0/25"), self.vpcs, self.routes, set())
        assert why is not None
        assert "192.0.2.0/24 (eth0, proto 2)" in why

    def test_other_pocketcloud(self) -> None:
        """A pocketcloud VPC route (proto 99) of another cloud is reported as such, before
        the /32 routes inside it."""
        why = overlap(net("10.161.0.0/24"), [], self.routes, set())
        assert why is not None
        assert "another pocketcloud" in why

    def test_own_route_is_no_conflict(self) -> None:
        """A proto 99 route equal to one of this cloud's own CIDRs is not a conflict."""
        routes = [r for r in self.routes if r.protocol == 99]
        assert overlap(net("10.161.0.0/16"), [], routes, {"10.161.0.0/16"}) is None
