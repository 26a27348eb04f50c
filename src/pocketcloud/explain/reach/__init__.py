"""``explain reach``: walk every layer a connection crosses; name the first that blocks.

- :mod:`.layers` — each layer judged from the facts, in order, and the verdict (pure);
  :func:`~.layers.explain` gathers, then decides.
- :mod:`.facts` — the facts a verdict is decided on (values).
- :mod:`.gather` — the thin edge that reads them: the state (read-only), the firewall
  table, the instance's sockets, one real request (:mod:`.probe`).
- :mod:`.rules` — the kernel's rule lines evaluated the way the kernel does (pure).
- :mod:`.answers` — the last layer: what a real request got back (pure).
- :mod:`.report` — the answer: the verdict and each layer's evidence (values).
"""

from pocketcloud.explain.reach.layers import decide, explain
from pocketcloud.explain.reach.report import Layer, Report, Verdict

__all__ = ["Layer", "Report", "Verdict", "decide", "explain"]
