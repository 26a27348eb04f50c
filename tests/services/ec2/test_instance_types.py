"""The instance type table: every botocore name, AWS's published vCPUs and memory (pure)."""

from __future__ import annotations

import pytest

from pocketcloud.errors import InvalidParameterValue
from pocketcloud.services.ec2 import filters, instance_types

#: (type, vCPUs, MiB) as DescribeInstanceTypes reports them on AWS
KNOWN = [
    ("t1.micro", 1, 613),
    ("m1.small", 1, 1740),
    ("m1.large", 2, 7680),
    ("m2.xlarge", 2, 17510),
    ("m3.medium", 1, 3840),
    ("c1.medium", 2, 1740),
    ("c3.large", 2, 3840),
    ("c4.8xlarge", 36, 61440),
    ("t2.nano", 1, 512),
    ("t2.micro", 1, 1024),
    ("t2.2xlarge", 8, 32768),
    ("t3.nano", 2, 512),
    ("t3a.small", 2, 2048),
    ("t4g.medium", 2, 4096),
    ("m4.10xlarge", 40, 163840),
    ("m5.large", 2, 8192),
    ("m5.metal", 96, 393216),
    ("c5.xlarge", 4, 8192),
    ("c5.9xlarge", 36, 73728),
    ("c5n.large", 2, 5376),
    ("r3.large", 2, 15616),
    ("r4.16xlarge", 64, 499712),
    ("r5.2xlarge", 8, 65536),
    ("i3.metal", 72, 524288),
    ("x1.32xlarge", 128, 1998848),
    ("x1e.xlarge", 4, 124928),
    ("c6g.medium", 1, 2048),
    ("m7i.metal-48xl", 192, 786432),
    ("z1d.large", 2, 16384),
    ("p3.2xlarge", 8, 62464),
    ("g4dn.xlarge", 4, 16384),
    ("u-6tb1.112xlarge", 448, 6291456),
    ("mac1.metal", 12, 32768),
]


class TestTable:
    def test_every_botocore_name(self) -> None:
        """Every value of botocore's InstanceType enum is a type with vCPUs and memory."""
        names = instance_types.botocore_names()
        assert len(names) > 500
        for name in names:
            found = instance_types.lookup(name)
            assert found.vcpus >= 1, name
            assert found.memory_mib >= 512 or name == "t1.micro", name

    @pytest.mark.parametrize(("name", "vcpus", "mib"), KNOWN)
    def test_published_figures(self, name: str, vcpus: int, mib: int) -> None:
        """A sample matches AWS's published vCPUs and memory."""
        found = instance_types.lookup(name)
        assert (found.vcpus, found.memory_mib) == (vcpus, mib)

    def test_attributes(self) -> None:
        """Burstable, generation, architecture and free tier follow AWS."""
        assert instance_types.lookup("t3.micro").burstable
        assert not instance_types.lookup("m5.large").burstable
        assert not instance_types.lookup("t1.micro").current_generation
        assert instance_types.lookup("m6g.large").architectures == ("arm64",)
        assert instance_types.lookup("a1.medium").architectures == ("arm64",)
        assert instance_types.lookup("mac1.metal").architectures == ("x86_64_mac",)
        assert instance_types.lookup("t1.micro").architectures == ("i386", "x86_64")
        assert instance_types.lookup("t2.micro").free_tier
        assert instance_types.lookup("m5.metal").bare_metal
        assert instance_types.hypervisor(instance_types.lookup("m5.metal")) is None
        assert instance_types.hypervisor(instance_types.lookup("t2.micro")) == "xen"
        assert instance_types.hypervisor(instance_types.lookup("t3.micro")) == "nitro"

    def test_limits(self) -> None:
        """Cgroup limits come from the type; CPUs never exceed the host's cores."""
        micro = instance_types.lookup("t1.micro")
        assert micro.memory_bytes == 613 * 1024 * 1024
        assert micro.cpus(host_cpus=2) == 1.0
        assert instance_types.lookup("m5.24xlarge").cpus(host_cpus=2) == 2.0

    def test_unknown(self) -> None:
        """A name EC2 does not know is InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue):
            instance_types.lookup("x9.mega")

    def test_architecture_mismatch(self) -> None:
        """An arm64 type with an x86_64 image is refused as AWS refuses it."""
        with pytest.raises(InvalidParameterValue, match="architecture 'arm64'"):
            instance_types.check_architecture(instance_types.lookup("t4g.nano"), "x86_64")
        instance_types.check_architecture(instance_types.lookup("t1.micro"), "x86_64")


class TestDescribe:
    def test_pages_of_a_hundred(self) -> None:
        """Without MaxResults a page holds 100 types; the token walks all of them."""
        seen: list[str] = []
        token: str | None = None
        while True:
            page, token = instance_types.describe_instance_types([], [], None, token)
            assert len(page) <= 100
            seen += [t.name for t in page]
            if token is None:
                break
        assert sorted(seen) == sorted(instance_types.botocore_names())

    def test_filters(self) -> None:
        """Filters on vCPUs, memory, architecture and burstability combine."""
        wanted = [
            filters.Filter("vcpu-info.default-vcpus", ("2",)),
            filters.Filter("memory-info.size-in-mib", ("512",)),
            filters.Filter("processor-info.supported-architecture", ("x86_64",)),
            filters.Filter("burstable-performance-supported", ("true",)),
        ]
        page, _ = instance_types.describe_instance_types([], wanted, None, None)
        names = {t.name for t in page}
        assert {"t3.nano", "t3a.nano"} <= names
        assert not names & {"t2.nano", "t4g.nano", "t3.micro"}

    def test_unknown_filter(self) -> None:
        """An unknown filter name is refused."""
        with pytest.raises(InvalidParameterValue):
            instance_types.describe_instance_types(
                [], [filters.Filter("colour", ("red",))], None, None
            )
