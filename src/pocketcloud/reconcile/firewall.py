"""Keeps the cloud's firewall table equal to what the store says, cheaply.

Each change loads the smallest nft transaction from what was loaded last (the whole
table at start-up, after drift, or if nft refuses an update). ``sync(repair=True)``
also checks that the table was not changed behind our back: its listing must have the
shape the store asks for (every chain's number of rules, every set's and map's
elements), and must equal the listing a helper thread took after the last load, once
changes paused for half a second (listing a large table costs more than changing it:
loads never wait for it). A listing that overlapped a later load is discarded.
"""

from __future__ import annotations

import logging
import threading

from pocketcloud.host import firewall
from pocketcloud.host.run import HostError
from pocketcloud.reconcile import firewall_model
from pocketcloud.services.context import Cloud

log = logging.getLogger("pocketcloud.firewall")
QUIET = 0.5  # seconds without a load before the table is listed


class FirewallSync:
    """The table's keeper; ``sync`` is called from one thread (the reconciler's)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self._applied: firewall.Ruleset | None = None  # what the table holds, as loaded
        self._loads = 0  # sequence number of the last load
        self._reference: tuple[int, str] | None = None  # (load, listing after it)
        self._listing_due = threading.Event()
        self._stop = threading.Event()
        self._lister = threading.Thread(target=self._list_loop, name="fw-listing", daemon=True)

    def start(self) -> None:
        """Start the listing thread."""
        self._lister.start()

    def close(self) -> None:
        """Stop the listing thread."""
        self._stop.set()
        self._listing_due.set()
        if self._lister.is_alive():
            self._lister.join(10)

    def sync(self, repair: bool) -> None:
        """Bring the table up to date; with ``repair``, first reload it whole if it is
        no longer what we loaded."""
        wanted = firewall.ruleset(firewall_model.model(self.cloud))
        if repair and self._applied is not None and self._drifted(self._applied):
            log.warning("firewall table %s changed behind our back; reloading it", wanted.prefix)
            self._applied = None
        if wanted == self._applied:
            return
        update = firewall.render_update(self._applied, wanted) if self._applied else None
        try:
            firewall.load(update if update is not None else firewall.render(wanted))
        except HostError:
            if update is None:
                raise
            log.warning("nft refused an incremental update; loading the whole table")
            firewall.load(firewall.render(wanted))
        self._applied = wanted
        self._loads += 1
        self._listing_due.set()

    def _drifted(self, loaded: firewall.Ruleset) -> bool:
        """Whether the table is no longer ``loaded``, what we last loaded into it."""
        listed = firewall.listing(loaded.prefix)
        if firewall.shape_of_listing(listed) != firewall.shape(loaded):
            return True  # a table, chain, set or element deleted, flushed or added
        reference = self._reference
        # once the lister has listed the last load, any change to a rule's text counts
        return reference is not None and reference[0] == self._loads and listed != reference[1]

    def _list_loop(self) -> None:
        while True:
            self._listing_due.wait()
            self._listing_due.clear()
            load = self._loads
            # wait for a quiet moment: during a burst of changes, listings would only
            # be discarded, and they compete with the loads for the CPU
            while not self._stop.wait(QUIET) and load != self._loads:
                load = self._loads
            if self._stop.is_set():
                return
            try:
                listed = firewall.listing(self.cloud.settings.prefix)
            except HostError:
                log.exception("listing the firewall table failed")
                continue
            if load == self._loads:
                self._reference = (load, listed)
