"""Nothing is local to tests/host. These names moved to tests/plugin; they are re-exported
for the modules that still import them from here (tests/explain, tests/console)."""

from __future__ import annotations

from tests.plugin.clouds import cloud, ec2
from tests.plugin.instances import (
    SSH_OPTIONS,
    Machine,
    image_id,
    key,
    launch,
    listing,
    perm,
    ssh_group,
    wait_for_banner,
)

__all__ = ["SSH_OPTIONS", "Machine", "cloud", "ec2", "image_id", "key", "launch", "listing",
           "perm", "ssh_group", "wait_for_banner"]  # fmt: skip
