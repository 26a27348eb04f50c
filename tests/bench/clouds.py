"""Clouds of the benchmarks' own, clear of every other cloud running on this machine.

``tests.conftest.make_server`` gives a cloud its own state directory, ports and host-object
prefix, NAT off, and a VPC CIDR and an Elastic IP pool picked at random (one /16 of 150,
one /24 of 511). A bench also needs those two to be free: the default VPC is not checked
against the host's routes, and two clouds with the same CIDR both route their first
instance's address to their own veth — the later launch takes the route, and the other
cloud's instance stops answering. ``own_cloud`` draws again until nothing overlaps.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

from pocketcloud.host import routes
from tests.conftest import Server, make_server


def taken(server: Server) -> str:
    """What of this host a new, not yet started cloud would share, or "" (runs ``ip route``
    and ``nft list tables``): a route overlapping its VPC or Elastic IP pool (another cloud's
    VPC, pool or instance, or the host's own network), or a table of its prefix."""
    mine = [ipaddress.ip_network(server.cidr), ipaddress.ip_network(server.eip_pool)]
    for route in routes.main_routes():
        network = ipaddress.ip_network(route.destination, strict=False)
        if any(network.overlaps(block) for block in mine):
            return f"route {route.destination} overlaps {server.cidr} or {server.eip_pool}"
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True)
    if f" {server.prefix}_" in tables.stdout:
        return f"prefix {server.prefix} is in use"
    return ""


def own_cloud(tmp: Path, *, nat: bool = False, tries: int = 20) -> Server:
    """A cloud initialized in ``tmp`` (runs ``pocketcloud init``; not started) whose VPC,
    Elastic IP pool and prefix no route or table of this host has now; SystemExit if
    ``tries`` draws all collide. A draw that collides is removed."""
    why = ""
    for _ in range(tries):
        server = make_server(tmp, nat=nat)
        why = taken(server)
        if not why:
            return server
        shutil.rmtree(server.state_dir.parent, ignore_errors=True)
        shutil.rmtree(tmp / "aws", ignore_errors=True)  # the profile init wrote
    raise SystemExit(f"no cloud clear of this host's in {tries} draws; the last: {why}")
