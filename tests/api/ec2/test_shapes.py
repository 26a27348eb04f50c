"""Complete shapes: for each operation, botocore's output shape walked over real responses.

Every member of a structure the response holds must be filled, unless it is listed in
``AWS_LEAVES_EMPTY`` — members EC2 itself leaves out for a resource made with defaults
(each with the reason). The test prints what it walked, so a run shows the full report.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.instances import Machine, launch, ssh_group
from tests.plugin.shapes import unfilled

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

#: Shape.Member → why EC2 leaves it empty for a default resource
AWS_LEAVES_EMPTY: dict[str, str] = {
    # Instance: what belongs to features a default launch does not use
    "Instance.KernelId": "paravirtual kernels only",
    "Instance.RamdiskId": "paravirtual kernels only",
    "Instance.Platform": "only 'windows' is ever shown",
    "Instance.SpotInstanceRequestId": "Spot instances only",
    "Instance.InstanceLifecycle": "Spot/scheduled instances only",
    "Instance.SriovNetSupport": "only instances with the Intel 82599 VF",
    "Instance.ElasticGpuAssociations": "elastic GPUs only",
    "Instance.ElasticInferenceAcceleratorAssociations": "inference accelerators only",
    "Instance.OutpostArn": "Outposts only",
    "Instance.Licenses": "license configurations only",
    "Instance.BootMode": "shown only when set at launch or on the AMI (and then 'uefi')",
    "Instance.Ipv6Address": "IPv6 subnets only",
    "Instance.TpmSupport": "NitroTPM AMIs only",
    "Instance.CapacityReservationId": "capacity reservations only",
    "Instance.IamInstanceProfile": "only when launched with a profile",
    "Instance.StateReason": "only while pending, stopping, stopped or terminated",
    "Instance.Tags": "EC2 sends no tagSet for an untagged instance",
    "Instance.InstanceTopology": "not a DescribeInstances member in practice",
    "Instance.CapacityBlockId": "capacity blocks only",
    "Instance.SecondaryInterfaces": "secondary network cards only",
    "Instance.PlacementGroupId": "placement groups only",
    "Placement.Affinity": "dedicated hosts only",
    "Placement.HostId": "dedicated hosts only",
    "Placement.PartitionNumber": "partition placement groups only",
    "Placement.SpreadDomain": "reserved",
    "Placement.HostResourceGroupArn": "host resource groups only",
    "Placement.GroupId": "placement groups only",
    "CpuOptions.AmdSevSnp": "shown only for AMD SEV-SNP instances",
    "CpuOptions.NestedVirtualization": "shown only when enabled",
    "CapacityReservationSpecificationResponse.CapacityReservationTarget": "targeted only",
    "Operator.Principal": "managed instances only",
    "OperatorResponse.Principal": "managed resources only",
    "OperatorResponse.HiddenByDefault": "managed resources only",
    "Monitoring.MetricCategoryIds": "detailed monitoring categories only",
    "InstanceNetworkInterface.ConnectionTrackingConfiguration": "only when set on the interface",
    "InstanceNetworkInterface.Ipv4Prefixes": "prefix delegation only",
    "InstanceNetworkInterface.Ipv6Prefixes": "prefix delegation only",
    "InstanceNetworkInterface.Operator": "managed interfaces only",
    "InstanceNetworkInterfaceAssociation.CarrierIp": "Wavelength zones only",
    "InstanceNetworkInterfaceAssociation.CustomerOwnedIp": "Outposts only",
    "InstanceNetworkInterfaceAttachment.EnaQueueCount": "only when set at launch",
    "InstanceNetworkInterfaceAttachment.EnaSrdSpecification": "ENA Express only",
    "Reservation.RequesterId": "instances launched by another service only",
    # instance status: only what a healthy instance shows
    "InstanceStatus.OutpostArn": "Outposts only",
    "InstanceStatus.Events": "scheduled events only",
    "InstanceStatus.Operator": "managed instances only",
    "InstanceStatus.ApplicationStatus": "application health checks only",
    "InstanceStatus.PerformanceStatus": "shown only on instances with performance checks",
    "InstanceStatusDetails.ImpairedSince": "impaired instances only",
    "EbsStatusDetails.ImpairedSince": "impaired volumes only",
    # volumes
    "Volume.MultiAvailabilityZoneConfiguration": "Multi-Availability Zone volumes only",
    "EbsInstanceBlockDevice.MultiAvailabilityZoneConfiguration": "Multi-AZ volumes only",
    "EbsBlockDevice.MultiAvailabilityZoneConfiguration": "only when an AMI's mapping sets it",
    # images
    "Image.KernelId": "paravirtual kernels only",
    "Image.RamdiskId": "paravirtual kernels only",
    "Image.Platform": "only 'windows' is ever shown",
    "Image.StateReason": "failed images only",
    "Image.TpmSupport": "NitroTPM AMIs only",
    "Image.DeprecationTime": "set by the AMI's owner",
    "Image.ImdsSupport": "set by the AMI's owner",
    "Image.SourceInstanceId": "AMIs made with CreateImage only",
    "Image.DeregistrationProtection": "set by the AMI's owner",
    "Image.LastLaunchedTime": "own AMIs only",
    "Image.SourceImageId": "copied AMIs only",
    "Image.SourceImageRegion": "copied AMIs only",
    "Image.FreeTierEligible": "a newer member EC2 does not show on most AMIs",
    "Image.ImageAllowed": "allowed-AMI settings only",
    "Image.Tags": "the owner's tags, invisible to others",
    "Image.ImageWatermarks": "watermarked AMIs only",
    "Image.InstanceTypeSpecification": "AMIs restricted to instance types only",
    "Image.PublicSsmParameterName": "AMIs published through SSM parameters only",
    "Image.ScanResults": "scanned AMIs only",
    "EbsBlockDevice.SnapshotId": "pocketcloud images have no snapshots (see docs/operations.md)",
    "EbsBlockDevice.KmsKeyId": "encrypted volumes only",
    "EbsBlockDevice.OutpostArn": "Outposts only",
    "EbsBlockDevice.AvailabilityZone": "request-only member",
    "EbsBlockDevice.VolumeInitializationRate": "request-only member",
    "EbsBlockDevice.AvailabilityZoneId": "request-only member",
    "EbsBlockDevice.EbsCardIndex": "request-only member",
    "BlockDeviceMapping.VirtualName": "instance-store mappings only",
    "EbsInstanceBlockDevice.AssociatedResource": "volumes of AWS-managed resources only",
    "EbsInstanceBlockDevice.VolumeOwnerId": "volumes of AWS-managed resources only",
    "EbsInstanceBlockDevice.Operator": "managed volumes only",
    "EbsInstanceBlockDevice.EbsCardIndex": "instances with several EBS cards only",
    "BlockDeviceMapping.NoDevice": "suppressed mappings only",
    # security groups, zones, regions
    "IpRange.Description": "only when the rule has one",
    "AvailabilityZone.ParentZoneId": "Local and Wavelength zones only",
    "AvailabilityZone.ParentZoneName": "Local and Wavelength zones only",
    "AvailabilityZone.Geography": "a newer member EC2 fills for some zones only",
    "AvailabilityZone.SubGeography": "a newer member EC2 fills for some zones only",
    "Region.Geography": "a newer member EC2 fills for some regions only",
    # volumes: a gp3 root volume of the account's own instance
    "Volume.KmsKeyId": "encrypted volumes only",
    "Volume.OutpostArn": "Outposts only",
    "Volume.OwnerId": "a newer member EC2 shows for shared volumes only",
    "Volume.SourceVolumeId": "copied volumes only",
    "Volume.SseType": "volumes with server-side encryption settings only",
    "Volume.VolumeArn": "a newer member EC2 does not show on most volumes",
    "Volume.VolumeInitializationRate": "volumes created from a snapshot with a rate only",
    "Volume.Operator": "managed volumes only",
    "VolumeAttachment.AssociatedResource": "volumes of AWS-managed resources only",
    "VolumeAttachment.EbsCardIndex": "instances with several EBS cards only",
    "VolumeAttachment.InstanceOwningService": "volumes of AWS-managed resources only",
    # instance types: pocketcloud reports what it enforces (vCPUs, memory, the network
    # interface it gives), not hardware it does not emulate — a stated difference
    "InstanceTypeInfo.FpgaInfo": "FPGA types only",
    "InstanceTypeInfo.GpuInfo": "GPU types only",
    "InstanceTypeInfo.InferenceAcceleratorInfo": "accelerated types only",
    "InstanceTypeInfo.InstanceStorageInfo": "types with instance store only",
    "InstanceTypeInfo.MediaAcceleratorInfo": "accelerated types only",
    "InstanceTypeInfo.NeuronInfo": "Inferentia/Trainium types only",
    "InstanceTypeInfo.NitroTpmInfo": "not emulated (no TPM here)",
    "InstanceTypeInfo.RebootMigrationSupport": "not emulated",
    "EbsInfo.AttachmentLimitType": "not emulated (one root volume)",
    "EbsInfo.EbsCards": "not emulated (one root volume)",
    "EbsInfo.EbsOptimizedInfo": "not emulated: no EBS bandwidth limit is enforced",
    "EbsInfo.MaximumEbsAttachments": "not emulated (one root volume)",
    "EbsInfo.MaximumEbsCards": "not emulated (one root volume)",
    "NetworkCardInfo.AdditionalFlexibleNetworkInterfaces": "not emulated",
    "NetworkCardInfo.BaselineBandwidthInGbps": "not emulated: no bandwidth limit",
    "NetworkCardInfo.PeakBandwidthInGbps": "not emulated: no bandwidth limit",
    "NetworkCardInfo.DefaultEnaQueueCountPerInterface": "not emulated",
    "NetworkCardInfo.MaximumEnaQueueCount": "not emulated",
    "NetworkCardInfo.MaximumEnaQueueCountPerInterface": "not emulated",
    "NetworkCardInfo.InterfaceTypes": "not emulated",
    "NetworkInfo.BandwidthWeightings": "not emulated",
    "NetworkInfo.ConnectionTrackingConfiguration": "not emulated",
    "NetworkInfo.EfaInfo": "EFA types only",
    "NetworkInfo.FlexibleEnaQueuesSupport": "not emulated",
    "NetworkInfo.Ipv4AddressesPerSecondaryInterface": "secondary network cards only",
    "NetworkInfo.MaximumSecondaryNetworkInterfaces": "secondary network cards only",
    "NetworkInfo.SecondaryNetworkSupported": "secondary network cards only",
    "ProcessorInfo.Manufacturer": "not emulated: the host's CPU is what runs",
    "ProcessorInfo.SupportedFeatures": "AMD SEV-SNP types only",
    "ProcessorInfo.SustainedClockSpeedInGhz": "not emulated: the host's CPU is what runs",
    # key pairs
    "KeyPairInfo.PublicKey": "only with IncludePublicKey",
}


def _print_report(operation: str, missing: set[str]) -> None:
    allowed = sorted(m for m in missing if m in AWS_LEAVES_EMPTY)
    print(f"{operation}: {len(allowed)} members left empty as EC2 leaves them")


@pytest.fixture(scope="module")
def machine(ec2: Any, image_id: str, key: tuple[str, Path]) -> Machine:
    """One instance launched with defaults (plus tags and user data)."""
    return launch(
        ec2,
        image_id,
        key,
        UserData="#!/bin/sh\ntrue\n",  # boto3 encodes it
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "s"}]}],
    )


def _calls(ec2: Any, machine: Machine, image_id: str) -> dict[str, list[dict[str, Any]]]:
    ids = [machine.instance_id]
    return {
        "DescribeInstances": [ec2.describe_instances(InstanceIds=ids)],
        "DescribeInstanceStatus": [ec2.describe_instance_status(InstanceIds=ids)],
        "DescribeImages": [ec2.describe_images(ImageIds=[image_id])],
        "DescribeKeyPairs": [ec2.describe_key_pairs()],
        "DescribeSecurityGroups": [ec2.describe_security_groups(GroupIds=[ssh_group(ec2)])],
        "DescribeAvailabilityZones": [ec2.describe_availability_zones()],
        "DescribeRegions": [ec2.describe_regions()],
        "DescribeVolumes": [
            ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": ids}])
        ],
        "DescribeInstanceTypes": [ec2.describe_instance_types(InstanceTypes=["t3.micro"])],
    }


def test_every_member_filled(ec2: Any, machine: Machine, image_id: str) -> None:
    """Each operation's responses fill every member of its output shape that EC2 fills for
    a default resource; the members left empty are exactly those EC2 leaves empty."""
    problems = {}
    for operation, responses in _calls(ec2, machine, image_id).items():
        missing = unfilled("ec2", operation, responses)
        _print_report(operation, missing)
        wrong = sorted(
            m for m in missing if m not in AWS_LEAVES_EMPTY and not m.endswith(".NextToken")
        )
        if wrong:
            problems[operation] = wrong
    assert not problems, "\n".join(f"{op}: {', '.join(m)}" for op, m in problems.items())


ATTRIBUTE_MEMBERS = {
    "instanceType": "InstanceType",
    "userData": "UserData",
    "groupSet": "Groups",
    "disableApiTermination": "DisableApiTermination",
    "disableApiStop": "DisableApiStop",
    "instanceInitiatedShutdownBehavior": "InstanceInitiatedShutdownBehavior",
    "rootDeviceName": "RootDeviceName",
    "blockDeviceMapping": "BlockDeviceMappings",
    "productCodes": "ProductCodes",
    "sourceDestCheck": "SourceDestCheck",
    "ebsOptimized": "EbsOptimized",
    "enaSupport": "EnaSupport",
    "enclaveOptions": "EnclaveOptions",
}


def test_every_instance_attribute(ec2: Any, machine: Machine) -> None:
    """DescribeInstanceAttribute answers each attribute under its member, with the value
    DescribeInstances shows."""
    shown = ec2.describe_instances(InstanceIds=[machine.instance_id])["Reservations"][0][
        "Instances"
    ][0]
    for attribute, member in ATTRIBUTE_MEMBERS.items():
        got = ec2.describe_instance_attribute(InstanceId=machine.instance_id, Attribute=attribute)
        assert member in got, attribute
    attribute = ec2.describe_instance_attribute
    mappings = attribute(InstanceId=machine.instance_id, Attribute="blockDeviceMapping")
    assert mappings["BlockDeviceMappings"] == shown["BlockDeviceMappings"]
    check = attribute(InstanceId=machine.instance_id, Attribute="sourceDestCheck")
    assert check["SourceDestCheck"]["Value"] is shown["SourceDestCheck"] is True
    data = attribute(InstanceId=machine.instance_id, Attribute="userData")
    assert base64.b64decode(data["UserData"]["Value"]) == b"#!/bin/sh\ntrue\n"


def test_source_dest_check_follows_modify(ec2: Any, machine: Machine) -> None:
    """ModifyInstanceAttribute SourceDestCheck=false shows on the instance and its
    interface (stored; pocketcloud never forwards for instances, so nothing else changes)."""
    ec2.modify_instance_attribute(InstanceId=machine.instance_id, SourceDestCheck={"Value": False})
    try:
        shown = ec2.describe_instances(InstanceIds=[machine.instance_id])["Reservations"][0][
            "Instances"
        ][0]
        assert shown["SourceDestCheck"] is False
        assert shown["NetworkInterfaces"][0]["SourceDestCheck"] is False
    finally:
        ec2.modify_instance_attribute(
            InstanceId=machine.instance_id, SourceDestCheck={"Value": True}
        )


def _selected(ec2: Any, name: str, *values: str) -> list[str]:
    found = ec2.describe_instances(Filters=[{"Name": name, "Values": list(values)}])
    return [i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]]


class TestInstanceFilters:
    """Documented DescribeInstances filters select by what the instance shows."""

    def test_filters_on_shown_members(self, ec2: Any, machine: Machine) -> None:
        """Filters on options, placement, the interface and the root volume select the
        instance by the values DescribeInstances shows for it, and not by other values."""
        shown = ec2.describe_instances(InstanceIds=[machine.instance_id])["Reservations"][0][
            "Instances"
        ][0]
        interface = shown["NetworkInterfaces"][0]
        hits = {
            "metadata-options.http-tokens": "optional",
            "ebs-optimized": "false",
            "tenancy": "default",
            "availability-zone-id": shown["Placement"]["AvailabilityZoneId"],
            "launch-index": "0",
            "ip-address": shown["PublicIpAddress"],
            "network-interface.mac-address": interface["MacAddress"],
            "network-interface.attachment.device-index": "0",
            "network-interface.addresses.private-ip-address": shown["PrivateIpAddress"],
            "block-device-mapping.device-name": shown["RootDeviceName"],
            "tag:Name": "s",
        }
        for name, value in hits.items():
            assert machine.instance_id in _selected(ec2, name, value), name
            assert machine.instance_id not in _selected(ec2, name, "nothing-like-it"), name

    def test_filters_on_absent_members_match_nothing(self, ec2: Any, machine: Machine) -> None:
        """A documented filter on something a default instance lacks selects nothing."""
        for name in ("spot-instance-request-id", "placement-group-name", "kernel-id"):
            assert _selected(ec2, name, "*") == [], name

    def test_status_filters(self, ec2: Any, machine: Machine) -> None:
        """DescribeInstanceStatus filters on its own members (status, reachability, zone)."""
        for name, value in (
            ("instance-status.status", "ok"),
            ("system-status.reachability", "passed"),
            ("instance-state-name", "running"),
        ):
            found = ec2.describe_instance_status(Filters=[{"Name": name, "Values": [value]}])
            assert machine.instance_id in [s["InstanceId"] for s in found["InstanceStatuses"]]
        none = ec2.describe_instance_status(
            Filters=[{"Name": "instance-status.status", "Values": ["impaired"]}]
        )
        assert none["InstanceStatuses"] == []

    def test_unknown_filter(self, ec2: Any) -> None:
        """A filter EC2 does not document for instances gets InvalidParameterValue."""
        with pytest.raises(ClientError) as info:
            ec2.describe_instances(Filters=[{"Name": "colour", "Values": ["x"]}])
        assert info.value.response["Error"]["Code"] == "InvalidParameterValue"
