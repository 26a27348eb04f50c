"""Instance types: what each offers, and the cgroup limits that follow from it (pure)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pocketcloud.errors import InvalidParameterValue

MIB = 1024 * 1024


@dataclass(frozen=True)
class InstanceType:
    """One instance type, as DescribeInstanceTypes shows it."""

    name: str
    vcpus: int
    memory_mib: int
    burstable: bool = True

    @property
    def memory_bytes(self) -> int:
        return self.memory_mib * MIB

    @property
    def pids_max(self) -> int:
        """Processes allowed inside: generous for a small server, finite for a fork bomb."""
        return 512 * self.vcpus + self.memory_mib // 4

    def cpus(self, host_cpus: int | None = None) -> float:
        """CPU quota in cores: the type's vCPUs, at most the host's cores."""
        return float(min(self.vcpus, host_cpus or os.cpu_count() or 1))


TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        InstanceType("t2.nano", 1, 512),
        InstanceType("t2.micro", 1, 1024),
        InstanceType("t2.small", 1, 2048),
        InstanceType("t2.medium", 2, 4096),
        InstanceType("t3.nano", 2, 512),
        InstanceType("t3.micro", 2, 1024),
        InstanceType("t3.small", 2, 2048),
        InstanceType("t3.medium", 2, 4096),
        InstanceType("t3.large", 2, 8192),
        InstanceType("t3.xlarge", 4, 16384),
    )
}


def lookup(name: str) -> InstanceType:
    """The named type; InvalidParameterValue for a type this cloud does not offer."""
    found = TYPES.get(name)
    if found is None:
        raise InvalidParameterValue(f"Invalid value '{name}' for InstanceType.")
    return found
