"""Reading the host's main routing table (read-only).

A VPC's addresses are routed in the host's main table, so a new VPC must not overlap a
route the host already has. Runs ``ip -N -j route show table main``; needs no privilege.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pocketcloud.host.run import output

#: the routing protocol pocketcloud marks its VPC routes with (``host/vpc.py``'s PROTO)
VPC_PROTOCOL = 99


@dataclass(frozen=True)
class HostRoute:
    """One route of the host's main table: its destination and how it got there."""

    destination: str
    #: the numeric routing protocol (``2`` kernel, ``3`` boot, ``99`` pocketcloud's VPC routes)
    protocol: int
    #: the device it leaves by, or its type (``unreachable``, ``blackhole``…) when it has none
    via: str


def main_routes() -> list[HostRoute]:
    """Every route of the host's main table but the default route (runs ``ip``)."""
    return parse(output(["ip", "-N", "-j", "route", "show", "table", "main"]))


def parse(text: str) -> list[HostRoute]:
    """The routes in ``ip -N -j route`` output, the default route left out (pure).

    ``-N`` prints protocols as numbers; a route without one was added with ``boot`` (3).
    A single-address destination is printed without its ``/32``.
    """
    routes = []
    for entry in json.loads(text or "[]"):
        destination = str(entry.get("dst", ""))
        if not destination or destination == "default":
            continue
        if "/" not in destination:
            destination += "/32"
        protocol = int(entry.get("protocol", 3))
        via = str(entry.get("dev") or _TYPES.get(str(entry.get("type")), entry.get("type", "")))
        routes.append(HostRoute(destination, protocol, via))
    return routes


#: route types ``-N`` prints as numbers (rtnetlink's RTN_*)
_TYPES = {"6": "blackhole", "7": "unreachable", "8": "prohibit", "2": "local", "3": "broadcast"}
