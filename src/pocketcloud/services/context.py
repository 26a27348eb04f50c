"""The context every service call takes: the store and the cloud's identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pocketcloud.config import Paths, Settings
from pocketcloud.store import Store


@dataclass
class Cloud:
    """What every service call needs: the store and the cloud's identity."""

    store: Store
    paths: Paths
    settings: Settings
    account_id: str
    #: bumped on every IAM change; caches of credentials and policies key on it
    iam_generation: int = field(default=0)
    #: per-cloud caches, owned by the modules that fill them
    caches: dict[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.settings.region

    def zones(self) -> list[str]:
        """The availability zones of the cloud's region."""
        return [f"{self.region}{letter}" for letter in "abc"]

    #: called after a change the host must follow (the server sets it to wake the reconciler)
    on_change: Callable[[], None] | None = None

    def wake(self) -> None:
        """Tell the reconciler that desired state changed."""
        if self.on_change is not None:
            self.on_change()

    def iam_changed(self) -> None:
        """Invalidate every cache that depends on IAM state."""
        self.iam_generation += 1


def now() -> str:
    """The current time as stored (ISO 8601, UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
