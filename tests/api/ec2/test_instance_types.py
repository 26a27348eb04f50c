"""DescribeInstanceTypes and DescribeInstanceTypeOfferings through boto3 against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pocketcloud.services.ec2 import instance_types

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]


class TestDescribeInstanceTypes:
    def test_paginator_walks_every_type(self, ec2: Any) -> None:
        """boto3's paginator iterates every type botocore names, in pages of at most 100."""
        pages = list(ec2.get_paginator("describe_instance_types").paginate())
        assert all(len(p["InstanceTypes"]) <= 100 for p in pages)
        seen = [t["InstanceType"] for p in pages for t in p["InstanceTypes"]]
        assert sorted(seen) == sorted(instance_types.botocore_names())

    def test_shape_reports_the_limits(self, ec2: Any) -> None:
        """An InstanceTypeInfo shows the vCPUs and memory an instance of the type gets."""
        [info] = ec2.describe_instance_types(InstanceTypes=["t1.micro"])["InstanceTypes"]
        assert info["VCpuInfo"]["DefaultVCpus"] == 1
        assert info["MemoryInfo"]["SizeInMiB"] == 613
        assert info["CurrentGeneration"] is False
        assert info["ProcessorInfo"]["SupportedArchitectures"] == ["i386", "x86_64"]
        assert info["SupportedRootDeviceTypes"] == ["ebs"]
        assert info["NetworkInfo"]["MaximumNetworkInterfaces"] == 1
        assert info["Hypervisor"] == "xen"

    @pytest.mark.parametrize(
        ("name", "value", "member"),
        [
            ("instance-type", "m5.*", "m5.large"),
            ("current-generation", "false", "m1.small"),
            ("vcpu-info.default-vcpus", "2", "c5.large"),
            ("memory-info.size-in-mib", "613", "t1.micro"),
            ("processor-info.supported-architecture", "arm64", "t4g.nano"),
            ("free-tier-eligible", "true", "t2.micro"),
            ("burstable-performance-supported", "true", "t3.micro"),
            ("network-info.network-performance", "Up to 5 Gigabit", "t3.micro"),
        ],
    )
    def test_filters(self, ec2: Any, name: str, value: str, member: str) -> None:
        """Each documented filter selects the types it names."""
        pages = ec2.get_paginator("describe_instance_types").paginate(
            Filters=[{"Name": name, "Values": [value]}]
        )
        seen = {t["InstanceType"] for p in pages for t in p["InstanceTypes"]}
        assert member in seen
        assert len(seen) < len(instance_types.botocore_names())

    def test_filters_on_hardware_not_emulated_match_nothing(self, ec2: Any) -> None:
        """Documented filters on what pocketcloud does not emulate (EBS bandwidth, instance
        store disks, clock speed) are accepted and select no type, since none shows them."""
        for name in (
            "ebs-info.ebs-optimized-info.baseline-iops",
            "instance-storage-info.disk.count",
            "processor-info.sustained-clock-speed-in-ghz",
        ):
            found = ec2.describe_instance_types(Filters=[{"Name": name, "Values": ["*"]}])
            assert found["InstanceTypes"] == [], name

    def test_unknown_type(self, ec2: Any) -> None:
        """A name EC2 does not know is InvalidParameterValue."""
        with pytest.raises(ClientError) as info:
            ec2.describe_instance_types(InstanceTypes=["x9.mega"])
        assert info.value.response["Error"]["Code"] == "InvalidParameterValue"


class TestOfferings:
    def test_region_and_zones(self, ec2: Any) -> None:
        """Every type is offered in the region and in each zone (by name and by id)."""
        region = ec2.describe_instance_type_offerings(
            Filters=[{"Name": "instance-type", "Values": ["t1.micro"]}]
        )["InstanceTypeOfferings"]
        assert region == [
            {"InstanceType": "t1.micro", "LocationType": "region", "Location": "us-east-1"}
        ]
        zones = ec2.describe_instance_type_offerings(
            LocationType="availability-zone",
            Filters=[
                {"Name": "instance-type", "Values": ["t3.micro"]},
                {"Name": "location", "Values": ["us-east-1a", "us-east-1b"]},
            ],
        )["InstanceTypeOfferings"]
        assert sorted(o["Location"] for o in zones) == ["us-east-1a", "us-east-1b"]
        ids = ec2.describe_instance_type_offerings(
            LocationType="availability-zone-id",
            Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}],
        )["InstanceTypeOfferings"]
        assert {o["Location"] for o in ids} == {"use1-az1", "use1-az2", "use1-az3"}

    def test_paginator(self, ec2: Any) -> None:
        """boto3's paginator walks every offering of the region."""
        pages = ec2.get_paginator("describe_instance_type_offerings").paginate()
        seen = [o["InstanceType"] for p in pages for o in p["InstanceTypeOfferings"]]
        assert sorted(seen) == sorted(instance_types.botocore_names())
