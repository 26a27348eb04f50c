"""Keeps the kernel's Elastic IP forwarding equal to what the store says.

Each pass builds the model (the store's associations whose instance has its veth on
the host now) and applies it when it differs from what was applied last. A veth made
again by a restart has a new ifindex, so its route, gone with the old veth, comes back
on the next pass. ``sync(repair=True)`` also checks that the table and the routes were
not changed behind our back, and applies everything again if they were.
"""

from __future__ import annotations

import logging

from pocketcloud.host import eip, runtime
from pocketcloud.host.run import HostError
from pocketcloud.services import addresses
from pocketcloud.services.context import Cloud

log = logging.getLogger("pocketcloud.eip")


def model(cloud: Cloud) -> eip.Model:
    """What the kernel must hold now (reads the store and /sys/class/net; no command)."""
    prefix = cloud.settings.prefix
    associated = addresses.associations(cloud)
    veths = {a.instance_id: runtime.veth_name(prefix, a.instance_id) for a in associated}
    links = eip.links(sorted(set(veths.values())))
    bindings = tuple(
        eip.Binding(a.public_ip, a.private_ip, veths[a.instance_id], links[veths[a.instance_id]])
        for a in associated
        if veths[a.instance_id] in links
    )
    return eip.Model(prefix, cloud.settings.eip_pool, bindings)


class AddressSync:
    """The keeper of the cloud's Elastic IP table and routes (one thread calls it)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self._applied: eip.Model | None = None
        self._listed = ""

    def sync(self, repair: bool) -> None:
        """Apply the model if it changed; with ``repair``, also if the kernel drifted.
        Runs ``nft``/``ip`` only when something is to be done (besides the check)."""
        wanted = model(self.cloud)
        if repair and self._applied is not None and self._drifted(self._applied):
            log.warning("Elastic IP table or routes changed behind our back; applying again")
            self._applied = None
        if wanted == self._applied:
            return
        self._applied = None  # until it is known to be in place
        try:
            eip.apply(wanted)
        except HostError as error:  # e.g. a veth gone meanwhile: the next pass tries again
            log.error("applying Elastic IPs failed: %s", error)
            return
        self._applied = wanted
        self._listed = eip.listing(wanted.prefix)

    def _drifted(self, applied: eip.Model) -> bool:
        if eip.listing(applied.prefix) != self._listed:
            return True
        return eip.routes(applied.pool) != eip.wanted_routes(applied)


def teardown(cloud: Cloud) -> list[str]:
    """Remove the cloud's Elastic IP table and routes (see ``eip.remove``)."""
    return eip.remove(cloud.settings.prefix, cloud.settings.eip_pool)
