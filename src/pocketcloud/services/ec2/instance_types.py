"""Instance types: every name in botocore's ``InstanceType`` enum, with the vCPUs and memory
AWS publishes for it, and the cgroup limits that follow (pure).

The table is compact: a size gives the vCPUs (``large`` 2, ``xlarge`` 4, ``Nxlarge`` 4·N,
``metal`` the family's largest size), a family gives the memory per vCPU, and the older or
irregular types (burstable ones, first generations, accelerated and high-memory ones) are
listed explicitly. Whatever the host has, an instance's CPU quota never exceeds its cores.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, partial

import botocore.session

from pocketcloud.errors import InvalidParameterValue
from pocketcloud.services.ec2 import filters

MIB = 1024 * 1024
GIB = 1024  # in MiB

#: burstable families: size → (vCPUs of t2, of the later families, memory in MiB)
_BURSTABLE_SIZES = {
    "nano": (1, 2, 512),
    "micro": (1, 2, 1024),
    "small": (1, 2, 2048),
    "medium": (2, 2, 4096),
    "large": (2, 2, 8192),
    "xlarge": (4, 4, 16384),
    "2xlarge": (8, 8, 32768),
}
_BURSTABLE = ("t2", "t3", "t3a", "t4g", "t8i")

#: memory per vCPU, in GiB, by family (fallback: by the family's first letter)
_GIB_PER_VCPU: dict[str, float] = {
    "a1": 2, "c3": 1.875, "c4": 1.875, "c5n": 2.625, "g2": 1.875, "m3": 3.75,
    "d2": 7.625, "i2": 7.625, "i3": 7.625, "r3": 7.625, "r4": 7.625, "g3": 7.625,
    "p3": 7.625, "x1": 15.25, "f1": 15.25, "x1e": 30.5, "g3s": 7.625,
    "h1": 4, "d3": 8, "d3en": 4, "i3en": 8, "i4i": 8, "i4g": 8, "im4gn": 4, "is4gen": 6,
    "i7ie": 8, "i7i": 8, "i8g": 8, "i8ge": 8, "z1d": 8, "x2iezn": 32, "x2iedn": 32,
    "x2idn": 16, "x2gd": 16, "x8g": 16, "x8i": 16, "x8aedz": 32,
    "g4dn": 4, "g4ad": 4, "g5": 4, "g5g": 2, "g6": 4, "g6e": 8, "g6f": 4, "gr6": 8,
    "gr6f": 8, "g7": 4, "g7e": 8, "inf1": 2, "inf2": 4, "trn1": 4, "trn1n": 4,
    "vt1": 2, "f2": 2048 / 192, "trn2": 2048 / 192, "trn2u": 2048 / 192,
}  # fmt: skip
_GIB_PER_VCPU_BY_LETTER = {"c": 2.0, "m": 4.0, "r": 8.0, "x": 16.0, "i": 8.0, "z": 8.0}

#: types whose vCPUs or memory follow no rule: name → (vCPUs, memory MiB)
_EXPLICIT: dict[str, tuple[int, int]] = {
    "t1.micro": (1, 613),
    "m1.small": (1, 1740), "m1.medium": (1, 3840), "m1.large": (2, 7680),
    "m1.xlarge": (4, 15360),
    "m2.xlarge": (2, 17510), "m2.2xlarge": (4, 35020), "m2.4xlarge": (8, 70042),
    "c1.medium": (2, 1740), "c1.xlarge": (8, 7168),
    "c4.8xlarge": (36, 61440), "d2.8xlarge": (36, 249856),
    "cc1.4xlarge": (16, 23552), "cc2.8xlarge": (32, 61952), "cg1.4xlarge": (16, 23040),
    "cr1.8xlarge": (32, 249856), "hi1.4xlarge": (16, 61952), "hs1.8xlarge": (16, 119808),
    "c5n.9xlarge": (36, 98304), "c5n.18xlarge": (72, 196608), "c5n.metal": (72, 196608),
    "i3.metal": (72, 524288), "g4dn.metal": (96, 393216),
    "p2.xlarge": (4, 62464), "p2.8xlarge": (32, 499712), "p2.16xlarge": (64, 749568),
    "p3dn.24xlarge": (96, 786432), "p4d.24xlarge": (96, 1179648),
    "p4de.24xlarge": (96, 1179648), "p5.4xlarge": (16, 262144),
    "p5.48xlarge": (192, 2097152), "p5e.48xlarge": (192, 2097152),
    "p5en.48xlarge": (192, 2097152), "p6-b200.48xlarge": (192, 2097152),
    "p6-b300.48xlarge": (192, 4194304), "p6e-gb200.36xlarge": (144, 983040),
    "dl1.24xlarge": (96, 786432), "dl2q.24xlarge": (96, 786432),
    "hpc6a.48xlarge": (96, 393216), "hpc6id.32xlarge": (64, 1048576),
    "hpc7g.4xlarge": (16, 131072), "hpc7g.8xlarge": (32, 131072),
    "hpc7g.16xlarge": (64, 131072), "hpc7a.12xlarge": (24, 786432),
    "hpc7a.24xlarge": (48, 786432), "hpc7a.48xlarge": (96, 786432),
    "hpc7a.96xlarge": (192, 786432), "hpc8a.96xlarge": (192, 786432),
    "mac1.metal": (12, 32768), "mac2.metal": (12, 16384), "mac2-m2.metal": (8, 24576),
    "mac2-m2pro.metal": (12, 32768), "mac2-m1ultra.metal": (20, 131072),
    "mac-m4.metal": (10, 24576), "mac-m4pro.metal": (14, 49152),
    "mac-m4max.metal": (16, 131072), "mac-m3ultra.metal": (32, 262144),
}  # fmt: skip

#: families AWS lists as previous generation
_PREVIOUS = {
    "t1", "m1", "m2", "m3", "c1", "c3", "cc1", "cc2", "cg1", "cr1", "hi1", "hs1", "i2",
    "r3", "g2",
}  # fmt: skip
_I386 = {"t1.micro", "m1.small", "m1.medium", "c1.medium"}
FREE_TIER = {"t2.micro", "t3.micro"}
_FAMILY = re.compile(r"^(?P<prefix>[a-z]+)(?P<gen>\d*)(?P<suffix>.*)$")
_NXLARGE = re.compile(r"^(?:metal-)?(?P<n>\d+)xl(?:arge)?$")


@dataclass(frozen=True)
class InstanceType:
    """One instance type, as DescribeInstanceTypes shows it."""

    name: str
    vcpus: int
    memory_mib: int
    burstable: bool = False
    architectures: tuple[str, ...] = ("x86_64",)
    current_generation: bool = True

    @property
    def family(self) -> str:
        return self.name.partition(".")[0]

    @property
    def size(self) -> str:
        return self.name.partition(".")[2]

    @property
    def bare_metal(self) -> bool:
        return self.size.startswith("metal")

    @property
    def free_tier(self) -> bool:
        return self.name in FREE_TIER

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


def botocore_names() -> list[str]:
    """Every value of botocore's ``InstanceType`` enum, in the model's order."""
    model = botocore.session.get_session().get_service_model("ec2")
    return list(model.shape_for("InstanceType").enum)


def architectures(name: str) -> tuple[str, ...]:
    """What AWS lists as the type's SupportedArchitectures."""
    family = name.partition(".")[0]
    if family == "mac1":
        return ("x86_64_mac",)
    if family.startswith("mac"):
        return ("arm64_mac",)
    parts = _FAMILY.match(family)
    if family == "a1" or (parts is not None and "g" in parts["suffix"]):
        return ("arm64",)
    return ("i386", "x86_64") if name in _I386 else ("x86_64",)


def _size_vcpus(size: str, largest: int) -> int:
    """vCPUs a size gives: medium 1, large 2, xlarge 4, Nxlarge 4·N, metal the largest."""
    fixed = {"nano": 1, "micro": 1, "small": 1, "medium": 1, "large": 2, "xlarge": 4}
    if size in fixed:
        return fixed[size]
    found = _NXLARGE.match(size)
    if found:
        return 4 * int(found["n"])
    return largest  # "metal"


def _gib_per_vcpu(family: str) -> float:
    if family in _GIB_PER_VCPU:
        return _GIB_PER_VCPU[family]
    return _GIB_PER_VCPU_BY_LETTER.get(family[0], 4.0)


def _high_memory(family: str, size: str) -> tuple[int, int] | None:
    """u-Ntb1 / u7i-Ntb: memory from the family's name, vCPUs from the size."""
    found = re.search(r"-(\d+)tb", family)
    if not family.startswith("u") or found is None:
        return None
    vcpus = 448 if size == "metal" else 4 * int(size.removesuffix("xlarge"))
    return vcpus, int(found[1]) * 1024 * GIB


def derive(name: str, largest: int) -> InstanceType:
    """One type's figures from the rules (``largest``: vCPUs of its family's largest size)."""
    family, _, size = name.partition(".")
    arch = architectures(name)
    current = family not in _PREVIOUS
    if family in _BURSTABLE:
        t2_vcpus, vcpus, mem = _BURSTABLE_SIZES[size]
        return InstanceType(name, t2_vcpus if family == "t2" else vcpus, mem, True, arch)
    figures = _EXPLICIT.get(name) or _high_memory(family, size)
    if figures is None:
        vcpus = _size_vcpus(size, largest)
        figures = (vcpus, round(vcpus * _gib_per_vcpu(family) * GIB))
    return InstanceType(name, figures[0], figures[1], False, arch, current)


def _largest_sizes(names: list[str]) -> dict[str, int]:
    """Each family's most vCPUs among its sized (non-metal) types."""
    out: dict[str, int] = {}
    for name in names:
        family, _, size = name.partition(".")
        if not size.startswith("metal"):
            out[family] = max(out.get(family, 0), _size_vcpus(size, 0))
    return out


@cache
def table() -> dict[str, InstanceType]:
    """Every instance type botocore's model names, by name."""
    names = botocore_names()
    largest = _largest_sizes(names)
    return {n: derive(n, largest.get(n.partition(".")[0], 0)) for n in names}


def all_types() -> Iterator[InstanceType]:
    """Every type, in name order."""
    yield from (table()[n] for n in sorted(table()))


def lookup(name: str) -> InstanceType:
    """The named type; InvalidParameterValue for a name EC2 does not know."""
    found = table().get(name)
    if found is None:
        raise InvalidParameterValue(f"Invalid value '{name}' for InstanceType.")
    return found


def check_architecture(itype: InstanceType, image_architecture: str) -> None:
    """AWS refuses a type whose architecture the image does not have."""
    if image_architecture not in itype.architectures:
        raise InvalidParameterValue(
            f"The architecture '{itype.architectures[0]}' of the specified instance type does "
            f"not match the architecture '{image_architecture}' of the specified AMI. Specify "
            "an instance type and an AMI that have matching architectures, and try again. You "
            "can use 'describe-instance-types' or 'describe-images' to discover the "
            "architecture of the instance type or AMI."
        )


_XEN = {
    "t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "cc1", "cc2", "cg1", "cr1", "hi1",
    "hs1", "i2", "i3", "r3", "r4", "d2", "g2", "g3", "g3s", "p2", "p3", "x1", "x1e", "f1", "h1",
}  # fmt: skip
#: what an instance of any type gets here: one network interface, EBS root, no instance store
MAX_INTERFACES = 1
ADDRESSES_PER_INTERFACE = 1
TYPE_FILTERS = (
    "instance-type", "current-generation", "free-tier-eligible",
    "burstable-performance-supported", "bare-metal", "hypervisor", "vcpu-info.default-vcpus",
    "vcpu-info.default-cores", "vcpu-info.default-threads-per-core", "vcpu-info.valid-cores",
    "vcpu-info.valid-threads-per-core", "memory-info.size-in-mib",
    "processor-info.supported-architecture", "supported-usage-class",
    "supported-root-device-type", "supported-virtualization-type", "supported-boot-mode",
    "instance-storage-supported", "hibernation-supported", "auto-recovery-supported",
    "dedicated-hosts-supported", "ebs-info.ebs-optimized-support", "ebs-info.encryption-support",
    "ebs-info.nvme-support", "network-info.ena-support", "network-info.maximum-network-interfaces",
    "network-info.ipv4-addresses-per-interface", "network-info.ipv6-supported",
    "network-info.ipv6-addresses-per-interface", "network-info.efa-supported",
    "network-info.encryption-in-transit-supported", "network-info.maximum-network-cards",
    "network-info.network-performance", "nitro-enclaves-support", "nitro-tpm-support",
)  # fmt: skip
#: documented filters on hardware pocketcloud does not emulate (EBS and network bandwidth,
#: instance store disks, EFA, TPM versions, clock speed): no type shows them, none matches
NOT_EMULATED_FILTERS = (
    "ebs-info.attachment-limit-type", "ebs-info.maximum-ebs-attachments",
    "ebs-info.ebs-optimized-info.*", "instance-storage-info.*",
    "network-info.bandwidth-weightings", "network-info.efa-info.maximum-efa-interfaces",
    "network-info.flexible-ena-queues-support", "nitro-tpm-info.supported-versions",
    "processor-info.sustained-clock-speed-in-ghz", "processor-info.supported-features",
    "reboot-migration-support",
)  # fmt: skip
OFFERING_FILTERS = ("location", "instance-type")
LOCATION_TYPES = ("region", "availability-zone", "availability-zone-id")


def hypervisor(itype: InstanceType) -> str | None:
    """``xen`` for the older families, ``nitro`` for the rest, none for bare metal."""
    if itype.bare_metal:
        return None
    return "xen" if itype.family in _XEN else "nitro"


def _bool(value: bool) -> list[str]:
    return [str(value).lower()]


def network_performance(itype: InstanceType) -> str:
    """The network performance class EC2 names for the type."""
    return "Up to 5 Gigabit" if itype.burstable else "Up to 10 Gigabit"


def type_fields(itype: InstanceType, name: str) -> list[str] | None:
    """The values a DescribeInstanceTypes filter compares (None: no such filter)."""
    nitro = hypervisor(itype) != "xen"
    values: dict[str, list[str]] = {
        "instance-type": [itype.name],
        "current-generation": _bool(itype.current_generation),
        "free-tier-eligible": _bool(itype.free_tier),
        "burstable-performance-supported": _bool(itype.burstable),
        "bare-metal": _bool(itype.bare_metal),
        "hypervisor": [hypervisor(itype) or ""],
        "vcpu-info.default-vcpus": [str(itype.vcpus)],
        "vcpu-info.default-cores": [str(itype.vcpus)],
        "vcpu-info.default-threads-per-core": ["1"],
        "vcpu-info.valid-cores": [str(itype.vcpus)],
        "vcpu-info.valid-threads-per-core": ["1"],
        "memory-info.size-in-mib": [str(itype.memory_mib)],
        "processor-info.supported-architecture": list(itype.architectures),
        "supported-usage-class": ["on-demand", "spot"],
        "supported-root-device-type": ["ebs"],
        "supported-virtualization-type": ["hvm"],
        "supported-boot-mode": ["legacy-bios", "uefi"],
        "instance-storage-supported": ["false"],
        "hibernation-supported": ["false"],
        "auto-recovery-supported": ["true"],
        "dedicated-hosts-supported": ["false"],
        "ebs-info.ebs-optimized-support": ["default" if nitro else "supported"],
        "ebs-info.encryption-support": ["supported"],
        "ebs-info.nvme-support": ["required" if nitro else "unsupported"],
        "network-info.ena-support": ["required" if nitro else "unsupported"],
        "network-info.maximum-network-interfaces": [str(MAX_INTERFACES)],
        "network-info.ipv4-addresses-per-interface": [str(ADDRESSES_PER_INTERFACE)],
        "network-info.ipv6-supported": ["false"],
        "network-info.ipv6-addresses-per-interface": ["0"],
        "network-info.efa-supported": ["false"],
        "network-info.encryption-in-transit-supported": ["false"],
        "network-info.maximum-network-cards": ["1"],
        "network-info.network-performance": [network_performance(itype)],
        "nitro-enclaves-support": ["unsupported"],
        "nitro-tpm-support": ["unsupported"],
    }
    if name not in values and any(fnmatch.fnmatchcase(name, p) for p in NOT_EMULATED_FILTERS):
        return []
    return values.get(name)


def describe_instance_types(
    names: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[InstanceType], str | None]:
    """DescribeInstanceTypes: pages of 100 unless MaxResults says fewer (5-100)."""
    filters.check_filter_names(flts, (*TYPE_FILTERS, *NOT_EMULATED_FILTERS))
    found = [lookup(n) for n in dict.fromkeys(names)] if names else list(all_types())
    chosen = [t for t in found if filters.matches(flts, partial(type_fields, t))]
    return filters.paginate(
        chosen, lambda t: t.name, max_results or 100, next_token, bounds=(5, 100)
    )


@dataclass(frozen=True)
class Offering:
    """One instance type offered in one location."""

    instance_type: str
    location_type: str
    location: str


def describe_offerings(
    locations: Sequence[str],
    location_type: str,
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Offering], str | None]:
    """DescribeInstanceTypeOfferings: every type in every location given (``locations``:
    the region's name, its zones' names or its zones' ids, as ``location_type`` says)."""
    if location_type not in LOCATION_TYPES:
        raise InvalidParameterValue(
            f"Value ({location_type}) for parameter locationType is invalid."
        )
    filters.check_filter_names(flts, OFFERING_FILTERS)
    offers = [Offering(t.name, location_type, place) for place in locations for t in all_types()]
    chosen = [o for o in offers if filters.matches(flts, partial(_offering_fields, o))]
    return filters.paginate(
        chosen,
        lambda o: f"{o.location}\0{o.instance_type}",
        max_results or 1000,
        next_token,
        bounds=(5, 1000),
    )


def _offering_fields(offer: Offering, name: str) -> list[str] | None:
    return {"location": [offer.location], "instance-type": [offer.instance_type]}.get(name)
