"""Understanding: why something is (un)reachable, and what the cloud's concepts mean.

Two commands, two packages; both read the cloud without changing it (the state through
:class:`pocketcloud.store.reader.StateReader`, the host through read-only commands):

- :mod:`.reach` — ``explain reach``: every layer a connection crosses, and the first that
  blocks it (gather the facts, then decide, pure).
- :mod:`.topics` — ``explain <topic>`` in Korean or English: one :class:`~.topics.registry.Topic`
  record per topic, rendered with the user's own cloud.
- :mod:`.sockets` — what both read from ``ss``: the listening sockets.
"""
