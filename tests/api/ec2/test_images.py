"""DescribeImages as tools call it: Owners, owner aliases, documented filters, the AMI shape."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _names(ec2: Any, **params: Any) -> list[str]:
    return [i["Name"] for i in ec2.describe_images(**params)["Images"]]


class TestOwners:
    def test_amazon_self_and_account_id_list_the_image(self, ec2: Any, sts: Any) -> None:
        """Our images stand where a provider's public AMIs stand: ``Owners=["amazon"]``,
        ``["self"]`` and the account's own id all list debian-12."""
        account = sts.get_caller_identity()["Account"]
        for owners in (["amazon"], ["self"], [account], ["amazon", "aws-marketplace"]):
            assert "debian-12" in _names(ec2, Owners=owners), owners

    def test_owner_alias_filter_agrees_with_owners(self, ec2: Any) -> None:
        """The filter ``owner-alias=amazon`` selects exactly what ``Owners=["amazon"]`` does."""
        by_filter = _names(ec2, Filters=[{"Name": "owner-alias", "Values": ["amazon"]}])
        assert by_filter == _names(ec2, Owners=["amazon"])
        assert "debian-12" in by_filter
        shown = ec2.describe_images(Owners=["amazon"])["Images"][0]
        assert shown["ImageOwnerAlias"] == "amazon"

    def test_another_account_owns_nothing_here(self, ec2: Any) -> None:
        """Another account's id (Debian's, as tools ask on AWS) lists no image."""
        assert _names(ec2, Owners=["136693071363"]) == []

    def test_invalid_owner_is_refused(self, ec2: Any) -> None:
        """An owner that is neither an alias nor a 12-digit id gets InvalidParameterValue."""
        with pytest.raises(ClientError) as info:
            ec2.describe_images(Owners=["nobody"])
        assert _code(info) == "InvalidParameterValue"


class TestFilters:
    def test_documented_filters_select(self, ec2: Any) -> None:
        """Filters on what our AMIs have match them; those on what they never have
        (a kernel id, a product code) match nothing; neither is an error."""
        hits = {
            "architecture": "x86_64",
            "root-device-type": "ebs",
            "block-device-mapping.device-name": "/dev/xvda",
            "virtualization-type": "hvm",
            "platform-details": "Linux/UNIX",
            "is-public": "true",
            "name": "debian-*",
        }
        for name, value in hits.items():
            found = _names(ec2, Filters=[{"Name": name, "Values": [value]}])
            assert "debian-12" in found, name
        for name in ("kernel-id", "product-code", "scan-result.highest-finding-severity-label"):
            assert _names(ec2, Filters=[{"Name": name, "Values": ["*"]}]) == [], name

    def test_unknown_filter_is_refused(self, ec2: Any) -> None:
        """A filter EC2 does not document gets AWS's InvalidParameterValue."""
        with pytest.raises(ClientError) as info:
            ec2.describe_images(Filters=[{"Name": "colour", "Values": ["blue"]}])
        assert _code(info) == "InvalidParameterValue"
        assert "colour" in info.value.response["Error"]["Message"]


def test_ami_shape(ec2: Any) -> None:
    """The image shows an EBS root of 8 GiB on /dev/xvda, ENA, and its platform."""
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-12"]}])["Images"][0]
    assert image["RootDeviceType"] == "ebs"
    assert image["RootDeviceName"] == "/dev/xvda"
    mapping = image["BlockDeviceMappings"][0]
    assert mapping["DeviceName"] == "/dev/xvda"
    assert mapping["Ebs"]["VolumeSize"] == 8
    assert mapping["Ebs"]["DeleteOnTermination"] is True
    assert image["EnaSupport"] is True
    assert image["PlatformDetails"] == "Linux/UNIX"
    assert image["UsageOperation"] == "RunInstances"


def test_pages(ec2: Any) -> None:
    """MaxResults pages the listing; boto3's paginator walks it to the same images."""
    everything = _names(ec2)
    paged = [
        i["Name"]
        for page in ec2.get_paginator("describe_images").paginate(PaginationConfig={"PageSize": 5})
        for i in page["Images"]
    ]
    assert paged == everything
