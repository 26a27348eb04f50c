"""Keeps the kernel's Elastic IP forwarding equal to what the store says.

Each pass builds the model (the store's associations whose instance has its veth on
the host now) and applies it when it differs from what was applied last. A veth made
again by a restart has a new ifindex, so its route, gone with the old veth, comes back
on the next pass. A small watcher thread asks for that pass as soon as an associated
instance's veth appears, goes or is made again (a start, a stop, a reboot), so an
address follows its instance within a tenth of a second instead of at the next timed
pass. ``sync(repair=True)`` also checks that the table and the routes were not changed
behind our back, and applies everything again if they were.
"""

from __future__ import annotations

import logging
import threading
import time

from pocketcloud.host import eip, runtime
from pocketcloud.host.run import HostError
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import addresses

log = logging.getLogger("pocketcloud.eip")


WATCH_PERIOD = 0.1  # seconds between two looks at the associated instances' veths
Links = tuple[tuple[str, ...], dict[str, int]]  # veths looked at, and the ifindex of those found


def model(cloud: Cloud) -> tuple[eip.Model, Links]:
    """What the kernel must hold now, and the veths it depends on (reads the store and
    /sys/class/net; runs no command)."""
    prefix = cloud.settings.prefix
    associated = addresses.associations(cloud)
    veths = {a.instance_id: runtime.veth_name(prefix, a.instance_id) for a in associated}
    names = tuple(sorted(set(veths.values())))
    links = eip.links(list(names))
    bindings = tuple(
        eip.Binding(a.public_ip, a.private_ip, veths[a.instance_id], links[veths[a.instance_id]])
        for a in associated
        if veths[a.instance_id] in links
    )
    return eip.Model(prefix, cloud.settings.eip_pool, bindings), (names, links)


class AddressSync:
    """The keeper of the cloud's Elastic IP table and routes (one thread calls it)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self._applied: eip.Model | None = None
        self._listed = ""
        self._links: Links = ((), {})  # what the last model saw (the watcher compares)
        self._watcher = threading.Thread(target=self._watch, name="eip-watch", daemon=True)

    def sync(self, repair: bool) -> None:
        """Apply the model if it changed; with ``repair``, also if the kernel drifted.
        Runs ``nft``/``ip`` only when something is to be done (besides the check). The
        first call starts the watcher thread (a daemon: it ends with the process)."""
        wanted, self._links = model(self.cloud)
        if not self._watcher.is_alive():  # the first call, or a watcher that died
            self._watcher = threading.Thread(target=self._watch, name="eip-watch", daemon=True)
            self._watcher.start()
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

    def _watch(self) -> None:
        """Wake the reconciler when an associated instance's veth changed since the last
        model (reads /sys/class/net only)."""
        woken: dict[str, int] | None = None
        while True:
            time.sleep(WATCH_PERIOD)
            names, seen = self._links
            if not names:
                continue
            try:
                now = eip.links(list(names))
            except Exception:  # never die: a dead watcher wakes nobody again
                log.exception("watching the Elastic IPs' veths failed")
                continue
            if now not in (seen, woken):
                woken = now
                self.cloud.wake()

    def _drifted(self, applied: eip.Model) -> bool:
        if eip.listing(applied.prefix) != self._listed:
            return True
        return eip.routes(applied.pool) != eip.wanted_routes(applied)


def teardown(cloud: Cloud) -> list[str]:
    """Remove the cloud's Elastic IP table and routes (see ``eip.remove``)."""
    return eip.remove(cloud.settings.prefix, cloud.settings.eip_pool)
