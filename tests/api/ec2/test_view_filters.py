"""Filters read from a resource's wire view (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from pocketcloud.api import optable
from pocketcloud.api.ec2 import instance_filters, view_filters

VIEW = {
    "InstanceId": "i-0123456789abcdef0",
    "State": {"Code": 16, "Name": "running"},
    "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
    "EbsOptimized": False,
    "LaunchTime": datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    "MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 1},
    "NetworkInterfaces": [
        {
            "MacAddress": "0e:01:02:03:04:05",
            "Attachment": {"DeviceIndex": 0, "Status": "attached"},
            "Groups": [{"GroupId": "sg-1", "GroupName": "web"}, {"GroupId": "sg-2"}],
            "PrivateIpAddresses": [
                {"Primary": True, "PrivateIpAddress": "10.0.0.5", "Association": {"PublicIp": "1"}}
            ],
        }
    ],
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-1"}}],
}


def _values(name: str) -> list[str]:
    return view_filters.values(VIEW, name, instance_filters.PATHS)


def test_mechanical_names_read_their_member() -> None:
    """``metadata-options.http-tokens`` reads MetadataOptions.HttpTokens; booleans and numbers
    read as EC2 filter values ("false", "1")."""
    assert _values("metadata-options.http-tokens") == ["optional"]
    assert _values("metadata-options.http-put-response-hop-limit") == ["1"]
    assert _values("ebs-optimized") == ["false"]
    assert _values("instance-id") == ["i-0123456789abcdef0"]


def test_plural_members_and_lists_flatten() -> None:
    """A singular segment finds a plural member, and lists contribute every item."""
    assert _values("network-interface.mac-address") == ["0e:01:02:03:04:05"]
    assert _values("network-interface.attachment.device-index") == ["0"]
    assert _values("network-interface.group-id") == ["sg-1", "sg-2"]
    assert _values("network-interface.group-name") == ["web"]


def test_irregular_names_follow_the_table() -> None:
    """Names EC2 spells differently from the member follow PATHS (and family prefixes)."""
    assert _values("instance-state-name") == ["running"]
    assert _values("tenancy") == ["default"]
    assert _values("block-device-mapping.volume-id") == ["vol-1"]
    assert _values("network-interface.addresses.private-ip-address") == ["10.0.0.5"]
    assert _values("network-interface.addresses.association.public-ip") == ["1"]
    assert _values("network-interface.addresses.primary") == ["true"]


def test_missing_members_match_nothing() -> None:
    """A filter on a member the view does not show has no values (it matches nothing)."""
    assert _values("spot-instance-request-id") == []
    assert _values("network-interface.association.carrier-ip") == []


def test_instance_filters_are_the_documented_ones() -> None:
    """The instance filter list is exactly what EC2 documents for DescribeInstances."""
    documented = optable.documented_filters("DescribeInstances")
    assert set(instance_filters.FILTERS) == set(documented)
    assert optable.missing_filters("DescribeInstances", instance_filters.FILTERS) == []
