"""``explain <topic>``: a cloud concept explained in Korean or English with the user's own
cloud (what a port is, and which ports listen on your instances now).

- :mod:`.registry` — one :class:`~.registry.Topic` record per topic (its words, the live
  facts it needs, its title, its renderer), the question parsed and rendered (pure).
- :mod:`.facts` — the facts a topic may show (values); :mod:`.gather` and
  :mod:`.gather_iam` are the thin edge that reads them, :mod:`.listings` parses the
  ``ss``/``nft`` listings among them (pure).
- :mod:`.net` (port, listening, security-group), :mod:`.runserver`, :mod:`.access`
  (key-pair, iam), :mod:`.credentials` (aws-keys: access keys, key pairs, roles),
  :mod:`.machines` (instance, hosting) — the renderers (pure), writing through
  :mod:`.common`'s ``Out``.
- :mod:`.texts` with :mod:`.texts_en` and :mod:`.texts_ko` — every sentence, under the
  same keys in both languages.
"""
