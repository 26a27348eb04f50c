"""Keeping a cloud's VPC addresses on this machine.

Each instance has a /32 route on the host. Every other address of the VPC gets
an ``unreachable`` route, so that the host's connections to an address no
instance holds (yet) fail at once instead of following the default route off the
machine. Runs ``ip route``; needs CAP_NET_ADMIN.
"""

from __future__ import annotations

from pocketcloud.host.run import run

#: marks our routes (rt_protos: 0-255; 99 is unassigned)
PROTO = "99"


def block(cidr: str) -> None:
    """Add (or keep) the unreachable route for the VPC's CIDR."""
    run(["ip", "route", "replace", "unreachable", cidr, "proto", PROTO])


def unblock(cidr: str) -> None:
    """Remove the unreachable route; no error if it is gone already."""
    run(["ip", "route", "del", "unreachable", cidr, "proto", PROTO], check=False)
