"""``pocketcloud doctor``: every prerequisite of the cloud, each failure one line.

:mod:`.checks` decides (pure: facts in, findings out); :mod:`.gather` is the thin edge
that reads the facts from this machine (``shutil.which`` under the current PATH, /proc
files, ``stat``, socket bind probes). ``pocketcloud up`` and ``serve`` run the same
checks before they start.
"""

from pocketcloud.doctor.checks import Finding, HostFacts, diagnose

__all__ = ["Finding", "HostFacts", "diagnose"]
