"""Keeps the host's VPC plumbing equal to what the store says, cheaply.

Three things follow the store's VPCs, subnets, route tables and internet gateways:

- every VPC CIDR of the cloud has its ``unreachable`` route (``host.vpc``);
- with outbound NAT on, the NAT table masquerades every VPC CIDR (``host.nat``);
- each running instance has the policy rules that keep its traffic on this machine
  unless its subnet has outbound access (``services.outbound``); the rules of a running
  instance are added or removed when that flips, without restarting it.

Each pass compares the store with a cached view of what was applied and changes only
the difference; ``repair`` passes read the host first (one ``ip route``, one ``nft
list``, one ``ip rule`` listing), so that a route, table or rule changed behind our back
is put back. Called from the reconciler's thread; ``started`` from its workers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from pocketcloud.host import nat, network, runtime, vpc
from pocketcloud.reconcile import outbound
from pocketcloud.services.context import Cloud

log = logging.getLogger("pocketcloud.vpc")


class VpcSync:
    """The keeper of the VPC routes, the NAT table and instances' outbound rules."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self._blocked: set[str] = set()  # CIDRs whose unreachable route we added
        self._masqueraded: frozenset[str] | None = None  # CIDRs in the loaded NAT table
        self._outbound: dict[str, bool] = {}  # instance id → outbound as applied
        self._lock = threading.Lock()

    def cidrs(self) -> frozenset[str]:
        """Every VPC CIDR of the cloud (reads the store)."""
        rows = self.cloud.store.all("SELECT cidr FROM vpcs")
        return frozenset(r["cidr"] for r in rows)

    def sync_addresses(self, repair: bool) -> None:
        """The unreachable routes and the NAT table. Runs ``ip``/``nft``; needs root."""
        cidrs = self.cidrs()
        present = vpc.blocked() if repair else self._blocked
        for cidr in sorted(cidrs - present):
            vpc.block(cidr)
        for cidr in sorted(self._blocked - cidrs):
            log.info("VPC %s is gone: removing its unreachable route", cidr)
            vpc.unblock(cidr)
        self._blocked = set(cidrs)
        if not self.cloud.settings.nat:
            return
        prefix = self.cloud.settings.prefix
        if repair:
            loaded = nat.masqueraded(prefix)
            self._masqueraded = None if loaded is None else frozenset(loaded)
        if self._masqueraded != cidrs:
            nat.enable(prefix, sorted(cidrs))
            self._masqueraded = cidrs

    def sync_outbound(
        self, running: Iterable[tuple[str, str]], busy: set[str], repair: bool
    ) -> list[str]:
        """Give each running instance (id, subnet) the policy rules its subnet's outbound
        access asks for. Instances in ``busy`` (a worker is acting on them) are left
        alone; returns those of them whose rules must change. Runs ``ip rule``; needs root.
        """
        wanted = outbound.subnets_with_outbound(self.cloud)
        prefix = self.cloud.settings.prefix
        running = list(running)
        with self._lock:
            ids = {iid for iid, _ in running} | busy
            self._outbound = {iid: v for iid, v in self._outbound.items() if iid in ids}
            known = dict(self._outbound)
        kernel: dict[str, bool | None] | None = None
        if repair or any(iid not in known for iid, _ in running):
            kernel = network.outbound_states(f"{prefix}[0-9a-f]{{8}}h")
        deferred = []
        for instance_id, subnet_id in running:
            want = subnet_id in wanted
            veth = runtime.veth_name(prefix, instance_id)
            have = known.get(instance_id)
            if kernel is not None and (repair or have is None):
                have = kernel.get(veth, True)  # no rule: outbound (or no veth at all)
            if have is want:
                continue
            if instance_id in busy:
                deferred.append(instance_id)
                continue
            log.info("%s: outbound %s", instance_id, "on" if want else "off")
            network.set_outbound(veth, want)
            with self._lock:
                self._outbound[instance_id] = want
        return deferred

    def started(self, instance_id: str, applied: bool) -> None:
        """Record the outbound state an instance's machine was just started with."""
        with self._lock:
            self._outbound[instance_id] = applied


def teardown(cloud: Cloud) -> list[str]:
    """Remove the unreachable route of every VPC of the cloud and its NAT table; what it
    removed. Runs ``ip``/``nft``; needs root."""
    present = vpc.blocked()
    removed = []
    for cidr in sorted(VpcSync(cloud).cidrs() & present):
        vpc.unblock(cidr)
        removed.append(f"unreachable route {cidr}")
    if nat.disable(cloud.settings.prefix):
        removed.append(f"nft table {nat.table(cloud.settings.prefix)}")
    return removed
