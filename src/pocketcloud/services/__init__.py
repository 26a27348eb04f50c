"""One module per AWS resource; each takes a ``Cloud`` and plain Python values."""
