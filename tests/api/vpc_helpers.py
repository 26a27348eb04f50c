"""Moved to tests/plugin/vpcs.py; re-exported for the modules that still import it from here
(tests/explain)."""

from __future__ import annotations

from tests.plugin.vpcs import cidr_within, flt, new_vpc

__all__ = ["cidr_within", "flt", "new_vpc"]
