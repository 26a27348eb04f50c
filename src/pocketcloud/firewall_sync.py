"""Keeps the cloud's firewall table equal to what the store says, cheaply.

Each change loads the smallest nft transaction from what was loaded last (the whole
table at start-up, after drift, or if nft refuses an update). To notice changes made
behind our back, a helper thread lists the table after every load — listing a large
table costs more than changing it, so loads never wait for it — and ``sync(repair=True)``
compares the table with that listing. A listing that overlapped a later load is
discarded (the load sequence number moved on).
"""

from __future__ import annotations

import logging
import re
import threading

from pocketcloud.host import firewall
from pocketcloud.host.run import HostError
from pocketcloud.services import firewall as firewall_model
from pocketcloud.services.context import Cloud

CHAIN_LINE = re.compile(r"^\s*chain (\S+) \{", re.MULTILINE)
log = logging.getLogger("pocketcloud.firewall")


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
        self._lister.start()

    def close(self) -> None:
        """Stop the listing thread."""
        self._stop.set()
        self._listing_due.set()
        self._lister.join(10)

    def sync(self, repair: bool) -> None:
        """Bring the table up to date; with ``repair``, first reload it whole if it is
        no longer what we loaded."""
        wanted = firewall.ruleset(firewall_model.model(self.cloud))
        if repair and self._applied is not None and self._drifted(wanted):
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

    def _drifted(self, wanted: firewall.Ruleset) -> bool:
        listed = firewall.listing(wanted.prefix)
        if not set(wanted.chains) <= set(CHAIN_LINE.findall(listed)):
            return True  # the table, or an instance's chain, is gone
        reference = self._reference
        if reference is None or reference[0] != self._loads:
            # the lister has not caught up with the last load; as only this thread
            # loads, what is listed now is that load
            self._reference = (self._loads, listed)
            return False
        return listed != reference[1]

    def _list_loop(self) -> None:
        while True:
            self._listing_due.wait()
            self._listing_due.clear()
            if self._stop.is_set():
                return
            load = self._loads
            try:
                listed = firewall.listing(self.cloud.settings.prefix)
            except HostError:
                log.exception("listing the firewall table failed")
                continue
            if load == self._loads:
                self._reference = (load, listed)
