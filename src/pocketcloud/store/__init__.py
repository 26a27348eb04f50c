"""Desired state in SQLite."""

from pocketcloud.store.sqlite import Store

__all__ = ["Store"]
