"""DescribeInstanceTypes and DescribeInstanceTypeOfferings wire handlers."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry
from pocketcloud.services.ec2 import instance_types, network
from pocketcloud.services.ec2.instance_types import InstanceType


def _network_info(t: InstanceType) -> Result:
    performance = instance_types.network_performance(t)
    interfaces = instance_types.MAX_INTERFACES
    return {
        "NetworkPerformance": performance,
        "MaximumNetworkInterfaces": interfaces,
        "MaximumNetworkCards": 1,
        "DefaultNetworkCardIndex": 0,
        "NetworkCards": [
            {
                "NetworkCardIndex": 0,
                "NetworkPerformance": performance,
                "MaximumNetworkInterfaces": interfaces,
            }
        ],
        "Ipv4AddressesPerInterface": instance_types.ADDRESSES_PER_INTERFACE,
        "Ipv6AddressesPerInterface": 0,
        "Ipv6Supported": False,
        "EnaSupport": "unsupported" if instance_types.hypervisor(t) == "xen" else "required",
        "EfaSupported": False,
        "EncryptionInTransitSupported": False,
        "EnaSrdSupported": False,
    }


def type_view(t: InstanceType) -> Result:
    """An InstanceTypeInfo: the vCPUs and memory are the limits an instance gets here."""
    nitro = instance_types.hypervisor(t) != "xen"
    return {
        "InstanceType": t.name,
        "CurrentGeneration": t.current_generation,
        "FreeTierEligible": t.free_tier,
        "SupportedUsageClasses": ["on-demand", "spot"],
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": t.bare_metal,
        "Hypervisor": instance_types.hypervisor(t),
        "ProcessorInfo": {"SupportedArchitectures": list(t.architectures)},
        "VCpuInfo": {
            "DefaultVCpus": t.vcpus,
            "DefaultCores": t.vcpus,
            "DefaultThreadsPerCore": 1,
            "ValidCores": [t.vcpus],
            "ValidThreadsPerCore": [1],
        },
        "MemoryInfo": {"SizeInMiB": t.memory_mib},
        "InstanceStorageSupported": False,
        "EbsInfo": {
            "EbsOptimizedSupport": "default" if nitro else "supported",
            "EncryptionSupport": "supported",
            "NvmeSupport": "required" if nitro else "unsupported",
        },
        "NetworkInfo": _network_info(t),
        "PlacementGroupInfo": {"SupportedStrategies": ["partition", "spread"]},
        "HibernationSupported": False,
        "BurstablePerformanceSupported": t.burstable,
        "DedicatedHostsSupported": False,
        "AutoRecoverySupported": True,
        "SupportedBootModes": ["legacy-bios", "uefi"],
        "NitroEnclavesSupport": "unsupported",
        "NitroTpmSupport": "unsupported",
        "PhcSupport": "unsupported",
        "SupportedInRegion": True,
    }


@registry.op(
    "DescribeInstanceTypes",
    filters=(*instance_types.TYPE_FILTERS, *instance_types.NOT_EMULATED_FILTERS),
)
def describe_instance_types(call: Call, p: Params) -> Result:
    found, token = instance_types.describe_instance_types(
        p.get("InstanceTypes", []), filters_of(p), p.get("MaxResults"), p.get("NextToken")
    )
    return {"InstanceTypes": [type_view(t) for t in found], "NextToken": token}


def _locations(call: Call, location_type: str) -> list[str]:
    if location_type == "region":
        return [call.cloud.region]
    if location_type == "availability-zone-id":
        return [network.zone_id(call.cloud, z) for z in call.cloud.zones()]
    return call.cloud.zones()


@registry.op("DescribeInstanceTypeOfferings", filters=instance_types.OFFERING_FILTERS)
def describe_instance_type_offerings(call: Call, p: Params) -> Result:
    location_type = p.get("LocationType") or "region"
    found, token = instance_types.describe_offerings(
        _locations(call, location_type),
        location_type,
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {
        "InstanceTypeOfferings": [
            {
                "InstanceType": o.instance_type,
                "LocationType": o.location_type,
                "Location": o.location,
            }
            for o in found
        ],
        "NextToken": token,
    }
