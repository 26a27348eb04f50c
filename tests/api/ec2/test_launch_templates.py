"""Launch templates through boto3 against a live server, and RunInstances from them."""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _name() -> str:
    return "lt-test-" + secrets.token_hex(4)


@pytest.fixture
def template(ec2: Any) -> Iterator[dict[str, Any]]:
    """A template with version 1 (t3.nano) and version 2 (t3.small, from version 1)."""
    made = ec2.create_launch_template(
        LaunchTemplateName=_name(),
        VersionDescription="first",
        LaunchTemplateData={"InstanceType": "t3.nano", "EbsOptimized": True},
    )["LaunchTemplate"]
    ec2.create_launch_template_version(
        LaunchTemplateId=made["LaunchTemplateId"],
        SourceVersion="1",
        LaunchTemplateData={"InstanceType": "t3.small"},
    )
    yield made
    with contextlib.suppress(ClientError):  # the test may have deleted it
        ec2.delete_launch_template(LaunchTemplateId=made["LaunchTemplateId"])


class TestCreate:
    def test_create_shows_the_template(self, ec2: Any) -> None:
        """CreateLaunchTemplate answers the template: version 1 is default and latest, tags
        from TagSpecifications, CreatedBy the caller."""
        name = _name()
        made = ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={"ImageId": "ami-0123456789abcdef0"},
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": "team", "Value": "web"}]}
            ],
        )["LaunchTemplate"]
        assert made["LaunchTemplateId"].startswith("lt-")
        assert made["LaunchTemplateName"] == name
        assert made["DefaultVersionNumber"] == made["LatestVersionNumber"] == 1
        assert made["Tags"] == [{"Key": "team", "Value": "web"}]
        assert made["CreatedBy"].startswith("arn:aws:iam::")
        ec2.delete_launch_template(LaunchTemplateName=name)

    def test_duplicate_name(self, ec2: Any, template: dict[str, Any]) -> None:
        """A second template of a name is InvalidLaunchTemplateName.AlreadyExistsException."""
        with pytest.raises(ClientError) as info:
            ec2.create_launch_template(
                LaunchTemplateName=template["LaunchTemplateName"],
                LaunchTemplateData={"InstanceType": "t3.micro"},
            )
        assert _code(info) == "InvalidLaunchTemplateName.AlreadyExistsException"

    @pytest.mark.parametrize("bad", ["ab", "has space", "x" * 129, "semi;colon"])
    def test_malformed_name(self, ec2: Any, bad: str) -> None:
        """Names must be 3-128 characters of letters, digits and ( ) . - / _."""
        with pytest.raises(ClientError) as info:
            ec2.create_launch_template(
                LaunchTemplateName=bad, LaunchTemplateData={"InstanceType": "t3.micro"}
            )
        assert _code(info) == "InvalidLaunchTemplateName.MalformedException"

    def test_data_members_are_kept(self, ec2: Any) -> None:
        """Members this cloud cannot act on are stored and shown back, not dropped."""
        data = {
            "InstanceType": "m5.large",
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
            "CreditSpecification": {"CpuCredits": "unlimited"},
            "NetworkInterfaces": [
                {"DeviceIndex": 0, "AssociatePublicIpAddress": True, "Groups": ["sg-1"]}
            ],
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3"}}
            ],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}
            ],
            "UserData": base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
        }
        name = _name()
        ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)
        version = ec2.describe_launch_template_versions(LaunchTemplateName=name)[
            "LaunchTemplateVersions"
        ][0]
        assert version["LaunchTemplateData"] == data
        assert version["DefaultVersion"] is True
        ec2.delete_launch_template(LaunchTemplateName=name)


class TestVersions:
    def test_source_version_merges(self, ec2: Any, template: dict[str, Any]) -> None:
        """A version made from SourceVersion keeps the source's members it does not replace."""
        v2 = ec2.describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], Versions=["2"]
        )["LaunchTemplateVersions"][0]
        assert v2["LaunchTemplateData"] == {"InstanceType": "t3.small", "EbsOptimized": True}
        assert v2["DefaultVersion"] is False

    def test_latest_and_default(self, ec2: Any, template: dict[str, Any]) -> None:
        """$Latest and $Default name the latest and the default version."""
        found = ec2.describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], Versions=["$Latest", "$Default"]
        )["LaunchTemplateVersions"]
        assert sorted(v["VersionNumber"] for v in found) == [1, 2]

    def test_min_max_version(self, ec2: Any, template: dict[str, Any]) -> None:
        """MinVersion/MaxVersion bound the versions listed."""
        tid = template["LaunchTemplateId"]
        ec2.create_launch_template_version(
            LaunchTemplateId=tid, LaunchTemplateData={"InstanceType": "t3.micro"}
        )
        found = ec2.describe_launch_template_versions(
            LaunchTemplateId=tid, MinVersion="2", MaxVersion="3"
        )["LaunchTemplateVersions"]
        assert [v["VersionNumber"] for v in found] == [2, 3]

    def test_filters(self, ec2: Any, template: dict[str, Any]) -> None:
        """Version filters read the data: instance-type, is-default-version."""
        tid = template["LaunchTemplateId"]
        small = ec2.describe_launch_template_versions(
            LaunchTemplateId=tid, Filters=[{"Name": "instance-type", "Values": ["t3.small"]}]
        )["LaunchTemplateVersions"]
        assert [v["VersionNumber"] for v in small] == [2]
        default = ec2.describe_launch_template_versions(
            LaunchTemplateId=tid, Filters=[{"Name": "is-default-version", "Values": ["true"]}]
        )["LaunchTemplateVersions"]
        assert [v["VersionNumber"] for v in default] == [1]

    def test_all_templates_latest(self, ec2: Any, template: dict[str, Any]) -> None:
        """Without a template, Versions=$Latest lists every template's latest version."""
        found = ec2.describe_launch_template_versions(Versions=["$Latest"])[
            "LaunchTemplateVersions"
        ]
        mine = [v for v in found if v["LaunchTemplateId"] == template["LaunchTemplateId"]]
        assert [v["VersionNumber"] for v in mine] == [2]

    def test_missing_version(self, ec2: Any, template: dict[str, Any]) -> None:
        """An absent version is InvalidLaunchTemplateId.VersionNotFound."""
        with pytest.raises(ClientError) as info:
            ec2.describe_launch_template_versions(
                LaunchTemplateId=template["LaunchTemplateId"], Versions=["9"]
            )
        assert _code(info) == "InvalidLaunchTemplateId.VersionNotFound"

    def test_modify_default(self, ec2: Any, template: dict[str, Any]) -> None:
        """ModifyLaunchTemplate sets the default version; an absent one is refused."""
        tid = template["LaunchTemplateId"]
        changed = ec2.modify_launch_template(LaunchTemplateId=tid, DefaultVersion="2")
        assert changed["LaunchTemplate"]["DefaultVersionNumber"] == 2
        with pytest.raises(ClientError) as info:
            ec2.modify_launch_template(LaunchTemplateId=tid, DefaultVersion="7")
        assert _code(info) == "InvalidLaunchTemplateId.VersionNotFound"

    def test_delete_versions(self, ec2: Any, template: dict[str, Any]) -> None:
        """The default version cannot be deleted (an item failure); others can, and their
        numbers are not reused."""
        tid = template["LaunchTemplateId"]
        result = ec2.delete_launch_template_versions(LaunchTemplateId=tid, Versions=["1", "2"])
        assert [
            v["VersionNumber"] for v in result["SuccessfullyDeletedLaunchTemplateVersions"]
        ] == [2]
        failed = result["UnsuccessfullyDeletedLaunchTemplateVersions"]
        assert [v["VersionNumber"] for v in failed] == [1]
        assert "default version" in failed[0]["ResponseError"]["Message"]
        again = ec2.create_launch_template_version(
            LaunchTemplateId=tid, LaunchTemplateData={"InstanceType": "t3.micro"}
        )
        assert again["LaunchTemplateVersion"]["VersionNumber"] == 3


class TestDescribe:
    def test_by_id_name_and_filters(self, ec2: Any, template: dict[str, Any]) -> None:
        """DescribeLaunchTemplates finds a template by id, by name, and by name filter."""
        tid, name = template["LaunchTemplateId"], template["LaunchTemplateName"]
        by_id = ec2.describe_launch_templates(LaunchTemplateIds=[tid])["LaunchTemplates"]
        by_name = ec2.describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"]
        filtered = ec2.describe_launch_templates(
            Filters=[{"Name": "launch-template-name", "Values": [name]}]
        )["LaunchTemplates"]
        assert [t["LaunchTemplateId"] for t in by_id + by_name + filtered] == [tid] * 3
        assert by_id[0]["LatestVersionNumber"] == 2

    def test_tag_filter(self, ec2: Any, template: dict[str, Any]) -> None:
        """CreateTags applies to templates; tag:<key> filters them."""
        tid = template["LaunchTemplateId"]
        ec2.create_tags(Resources=[tid], Tags=[{"Key": "stage", "Value": "blue"}])
        found = ec2.describe_launch_templates(Filters=[{"Name": "tag:stage", "Values": ["blue"]}])[
            "LaunchTemplates"
        ]
        assert [t["LaunchTemplateId"] for t in found] == [tid]

    def test_not_found(self, ec2: Any) -> None:
        """Unknown ids and names get AWS's not-found errors; a bad id is Malformed."""
        with pytest.raises(ClientError) as info:
            ec2.describe_launch_templates(LaunchTemplateIds=["lt-0123456789abcdef0"])
        assert _code(info) == "InvalidLaunchTemplateId.NotFound"
        with pytest.raises(ClientError) as info:
            ec2.describe_launch_templates(LaunchTemplateNames=["no-such-template"])
        assert _code(info) == "InvalidLaunchTemplateName.NotFoundException"
        with pytest.raises(ClientError) as info:
            ec2.describe_launch_templates(LaunchTemplateIds=["bogus"])
        assert _code(info) == "InvalidLaunchTemplateId.Malformed"

    def test_paginator(self, ec2: Any) -> None:
        """boto3's paginator walks every template."""
        names = [_name() for _ in range(3)]
        for name in names:
            ec2.create_launch_template(
                LaunchTemplateName=name, LaunchTemplateData={"InstanceType": "t3.micro"}
            )
        pages = ec2.get_paginator("describe_launch_templates").paginate(
            PaginationConfig={"PageSize": 1}
        )
        seen = [t["LaunchTemplateName"] for page in pages for t in page["LaunchTemplates"]]
        assert set(names) <= set(seen)
        assert len(seen) == len(set(seen))
        for name in names:
            ec2.delete_launch_template(LaunchTemplateName=name)

    def test_delete(self, ec2: Any) -> None:
        """DeleteLaunchTemplate removes the template and its versions."""
        name = _name()
        ec2.create_launch_template(
            LaunchTemplateName=name, LaunchTemplateData={"InstanceType": "t3.micro"}
        )
        gone = ec2.delete_launch_template(LaunchTemplateName=name)["LaunchTemplate"]
        assert gone["LaunchTemplateName"] == name
        with pytest.raises(ClientError) as info:
            ec2.describe_launch_template_versions(LaunchTemplateName=name)
        assert _code(info) == "InvalidLaunchTemplateName.NotFoundException"


@pytest.mark.needs_root  # the instances start
class TestRunInstances:
    def test_template_under_explicit_parameters(self, ec2: Any, image_id: str) -> None:
        """RunInstances takes the template's data; an explicit InstanceType wins; tags of both
        are merged; the instance carries AWS's aws:ec2launchtemplate:* tags."""
        name = _name()
        made = ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={
                "ImageId": image_id,
                "InstanceType": "t3.nano",
                "TagSpecifications": [
                    {"ResourceType": "instance", "Tags": [{"Key": "from", "Value": "template"}]}
                ],
            },
        )["LaunchTemplate"]
        ec2.create_launch_template_version(
            LaunchTemplateName=name,
            SourceVersion="1",
            LaunchTemplateData={"InstanceType": "t3.small"},
        )
        runs = [
            ({"Version": "$Default"}, {}, "t3.nano", "1"),
            ({"Version": "$Latest"}, {}, "t3.small", "2"),
            ({}, {"InstanceType": "t3.medium"}, "t3.medium", "1"),
        ]
        launched = []
        for spec, extra, expected_type, version in runs:
            instance = ec2.run_instances(
                MinCount=1,
                MaxCount=1,
                LaunchTemplate={"LaunchTemplateName": name, **spec},
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "from", "Value": "call"}]}
                ],
                **extra,
            )["Instances"][0]
            launched.append(instance["InstanceId"])
            tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
            assert instance["ImageId"] == image_id
            assert instance["InstanceType"] == expected_type
            assert tags == {
                "from": "call",
                "aws:ec2launchtemplate:id": made["LaunchTemplateId"],
                "aws:ec2launchtemplate:version": version,
            }
        ec2.terminate_instances(InstanceIds=launched)
        ec2.delete_launch_template(LaunchTemplateName=name)

    def test_unknown_template(self, ec2: Any) -> None:
        """RunInstances with an unknown template name gets the template's not-found error."""
        with pytest.raises(ClientError) as info:
            ec2.run_instances(
                MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": "nope-nope"}
            )
        assert _code(info) == "InvalidLaunchTemplateName.NotFoundException"

    def test_template_interface_takes_call_groups(self, ec2: Any, image_id: str) -> None:
        """A template's NetworkInterfaces give the subnet; the call's SecurityGroupIds replace
        the interface's groups (explicit wins); spot-request tags of the template are
        ignored at launch."""
        subnet = ec2.describe_subnets()["Subnets"][-1]
        mine = ec2.create_security_group(GroupName=_name(), Description="call's group")
        name = _name()
        ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={
                "ImageId": image_id,
                "NetworkInterfaces": [
                    {
                        "DeviceIndex": 0,
                        "SubnetId": subnet["SubnetId"],
                        "AssociatePublicIpAddress": True,
                    }
                ],
                "TagSpecifications": [
                    {
                        "ResourceType": "spot-instances-request",
                        "Tags": [{"Key": "spot", "Value": "x"}],
                    }
                ],
            },
        )
        instance = ec2.run_instances(
            MinCount=1,
            MaxCount=1,
            LaunchTemplate={"LaunchTemplateName": name},
            SecurityGroupIds=[mine["GroupId"]],
        )["Instances"][0]
        assert instance["SubnetId"] == subnet["SubnetId"]
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [mine["GroupId"]]
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.delete_launch_template(LaunchTemplateName=name)

    def test_template_without_image(self, ec2: Any) -> None:
        """A template without ImageId and a call without one: MissingParameter."""
        name = _name()
        ec2.create_launch_template(
            LaunchTemplateName=name, LaunchTemplateData={"InstanceType": "t3.micro"}
        )
        with pytest.raises(ClientError) as info:
            ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": name})
        assert _code(info) == "MissingParameter"
        ec2.delete_launch_template(LaunchTemplateName=name)
