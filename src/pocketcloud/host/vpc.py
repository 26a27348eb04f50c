"""Keeping a cloud's VPC addresses on this machine.

Each instance has a /32 route on the host. Every other address of each VPC of the
cloud gets an ``unreachable`` route, so that the host's connections to an address no
instance holds (yet) fail at once instead of following the default route off the
machine. Runs ``ip route``; needs CAP_NET_ADMIN.
"""

from __future__ import annotations

from pocketcloud.host.run import output, run

#: marks our routes (rt_protos: 0-255; 99 is unassigned)
PROTO = "99"


def block(cidr: str) -> None:
    """Add (or keep) the unreachable route for the VPC's CIDR."""
    run(["ip", "route", "replace", "unreachable", cidr, "proto", PROTO])


def unblock(cidr: str) -> None:
    """Remove the unreachable route; no error if it is gone already."""
    run(["ip", "route", "del", "unreachable", cidr, "proto", PROTO], check=False)


def blocked() -> set[str]:
    """Every CIDR with such a route now, of any cloud on this host (runs ``ip route``)."""
    listed = output(["ip", "-o", "route", "show", "type", "unreachable", "proto", PROTO])
    found = set()
    for line in listed.splitlines():
        words = line.split()
        cidr = words[1] if words[:1] == ["unreachable"] else words[0]
        found.add(cidr if "/" in cidr else f"{cidr}/32")
    return found
