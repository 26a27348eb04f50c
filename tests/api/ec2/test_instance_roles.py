"""An instance with an IAM instance profile: its role's credentials from the metadata
service, used by an unconfigured boto3 on the instance (real instance, real OpenSSH)."""

from __future__ import annotations

import io
import json
import secrets
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import botocore
import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server
from tests.plugin.instances import SSH_OPTIONS, Machine, launch

pytestmark = [pytest.mark.live, pytest.mark.needs_root]


def trust(principal: dict[str, str]) -> str:
    """A trust policy letting ``principal`` assume the role."""
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})
#: the packages boto3 needs, from the test environment (pure Python, same minor version)
PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
MODELS = ("s3", "sts", "ec2", "iam")
CREDENTIALS = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def _only(name: str) -> bool:
    """Whether a file of botocore's data belongs to the services the test calls."""
    parts = Path(name).parts
    if "data" not in parts:
        return True
    rest = parts[parts.index("data") + 1 :]
    return len(rest) <= 1 or rest[0] in MODELS


def install_boto3(m: Machine) -> None:
    """Copy boto3 and what it needs into ~/py on the instance (it has no internet)."""
    site = Path(botocore.__file__).parent.parent
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for package in PACKAGES:
            tar.add(
                site / package,
                arcname=package,
                filter=lambda info: info if _only(info.name) and "__pycache__" not in info.name
                else None,
            )  # fmt: skip
    subprocess.run(
        ["ssh", "-i", str(m.key), *SSH_OPTIONS, f"admin@{m.ip}", "mkdir -p py && tar xz -C py"],
        input=buffer.getvalue(),
        capture_output=True,
        check=True,
        timeout=120,
    )


def on_instance(m: Machine, script: str) -> Any:
    """Run a Python script with the copied boto3 and no AWS settings of its own; its JSON."""
    out = m.ssh("PYTHONPATH=$HOME/py python3 -", stdin=script, timeout=120)
    return json.loads(out)


CALLS = """
import json, boto3
from botocore.exceptions import ClientError
out = {"identity": boto3.client("sts").get_caller_identity()["Arn"]}
s3 = boto3.client("s3")
s3.put_object(Bucket="%(allowed)s", Key="from-instance.txt", Body=b"hello from the instance")
out["read"] = s3.get_object(Bucket="%(allowed)s", Key="from-instance.txt")["Body"].read().decode()
try:
    s3.put_object(Bucket="%(other)s", Key="x", Body=b"no")
    out["other"] = "written"
except ClientError as error:
    out["other"] = error.response["Error"]["Code"]
session = boto3.Session()
out["key"] = session.get_credentials().access_key
out["method"] = session.get_credentials().method
out["region"] = session.region_name
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def role(iam: Any, cloud: Server) -> dict[str, str]:
    """A role EC2 may assume, allowed to read and write one bucket only, in a profile."""
    s3 = cloud.client("s3")
    names = {
        "role": f"app-{secrets.token_hex(3)}",
        "profile": f"app-{secrets.token_hex(3)}",
        "allowed": f"allowed-{secrets.token_hex(3)}",
        "other": f"other-{secrets.token_hex(3)}",
    }
    for bucket in (names["allowed"], names["other"]):
        s3.create_bucket(Bucket=bucket)
    iam.create_role(RoleName=names["role"], AssumeRolePolicyDocument=EC2_TRUST)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{names['allowed']}/*",
            }
        ],
    }
    iam.put_role_policy(
        RoleName=names["role"], PolicyName="bucket", PolicyDocument=json.dumps(policy)
    )
    made = iam.create_instance_profile(InstanceProfileName=names["profile"])["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=names["profile"], RoleName=names["role"])
    return names | {"profile_arn": made["Arn"]}


@pytest.fixture(scope="module")
def machine(ec2: Any, image_id: str, key: tuple[str, Path], role: dict[str, str]) -> Machine:
    m = launch(ec2, image_id, key, IamInstanceProfile={"Name": role["profile"]})
    install_boto3(m)
    return m


def test_the_instance_reports_its_profile(ec2: Any, machine: Machine, role: dict[str, str]) -> None:
    """DescribeInstances and DescribeIamInstanceProfileAssociations show the profile."""
    found = ec2.describe_instances(InstanceIds=[machine.instance_id])["Reservations"][0]
    assert found["Instances"][0]["IamInstanceProfile"]["Arn"] == role["profile_arn"]
    links = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [machine.instance_id]}]
    )["IamInstanceProfileAssociations"]
    assert [(a["State"], a["IamInstanceProfile"]["Arn"]) for a in links] == [
        ("associated", role["profile_arn"])
    ]


def test_metadata_hands_out_the_roles_credentials(machine: Machine, role: dict[str, str]) -> None:
    """IMDSv2: iam/info names the profile; security-credentials/ lists the role, whose
    credentials are an ASIA key, a token and an Expiration hours away, the same set on the
    next read."""
    token = machine.ssh(
        "curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "
        "http://169.254.169.254/latest/api/token"
    )
    header = f"-H 'X-aws-ec2-metadata-token: {token}'"
    info = json.loads(
        machine.ssh(f"curl -s {header} http://169.254.169.254/latest/meta-data/iam/info")
    )
    assert (info["Code"], info["InstanceProfileArn"]) == ("Success", role["profile_arn"])
    assert machine.ssh(f"curl -s {header} {CREDENTIALS}").split() == [role["role"]]
    first = json.loads(machine.ssh(f"curl -s {header} {CREDENTIALS}{role['role']}"))
    assert (first["Code"], first["Type"]) == ("Success", "AWS-HMAC")
    assert first["AccessKeyId"].startswith("ASIA")
    assert first["Token"]
    again = json.loads(machine.ssh(f"curl -s {CREDENTIALS}{role['role']}"))
    assert again["AccessKeyId"] == first["AccessKeyId"]


def test_boto3_on_the_instance_needs_no_configuration(
    machine: Machine, role: dict[str, str]
) -> None:
    """boto3 finds the endpoint, region and the role's credentials by itself; it acts as the
    assumed role (session named after the instance), may use its bucket and is refused
    another (AccessDenied)."""
    out = on_instance(machine, CALLS % role)
    assert out["identity"].endswith(f":assumed-role/{role['role']}/{machine.instance_id}")
    assert out["read"] == "hello from the instance"
    assert out["other"] == "AccessDenied"
    assert out["key"].startswith("ASIA")
    assert out["method"] == "iam-role"
    assert out["region"] == "us-east-1"


def test_pass_role_is_required(
    cloud: Server, iam: Any, image_id: str, key: tuple[str, Path], role: dict[str, str]
) -> None:
    """Launching with a profile passes its role: a user with EC2 rights but no iam:PassRole
    is refused (UnauthorizedOperation) and nothing is launched — also when the profile comes
    from a launch template."""
    name = f"ops-{secrets.token_hex(3)}"
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonEC2FullAccess")
    made = iam.create_access_key(UserName=name)["AccessKey"]
    ops = cloud.client("ec2", made["AccessKeyId"], made["SecretAccessKey"])
    with pytest.raises(ClientError) as refused:
        ops.run_instances(
            ImageId=image_id,
            MinCount=1,
            MaxCount=1,
            KeyName=key[0],
            IamInstanceProfile={"Arn": role["profile_arn"]},
        )
    assert refused.value.response["Error"]["Code"] == "UnauthorizedOperation"
    assert "iam:PassRole" in refused.value.response["Error"]["Message"]
    template = ops.create_launch_template(
        LaunchTemplateName=f"with-role-{secrets.token_hex(3)}",
        LaunchTemplateData={"ImageId": image_id, "IamInstanceProfile": {"Name": role["profile"]}},
    )["LaunchTemplate"]["LaunchTemplateId"]
    with pytest.raises(ClientError) as through_template:
        ops.run_instances(
            MinCount=1, MaxCount=1, KeyName=key[0], LaunchTemplate={"LaunchTemplateId": template}
        )
    assert "iam:PassRole" in through_template.value.response["Error"]["Message"]


def test_disassociate_and_replace(
    cloud: Server, iam: Any, ec2: Any, machine: Machine, role: dict[str, str]
) -> None:
    """Disassociating takes the credentials away (iam/ is gone); a profile whose role does
    not trust EC2 gives no credentials; a missing profile is InvalidParameterValue."""
    link = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [machine.instance_id]}]
    )["IamInstanceProfileAssociations"][0]
    untrusted = f"nt-{secrets.token_hex(3)}"
    account = cloud.client("sts").get_caller_identity()["Account"]
    users_only = trust({"AWS": f"arn:aws:iam::{account}:root"})
    iam.create_role(RoleName=untrusted, AssumeRolePolicyDocument=users_only)
    iam.create_instance_profile(InstanceProfileName=untrusted)
    iam.add_role_to_instance_profile(InstanceProfileName=untrusted, RoleName=untrusted)
    replaced = ec2.replace_iam_instance_profile_association(
        AssociationId=link["AssociationId"], IamInstanceProfile={"Name": untrusted}
    )["IamInstanceProfileAssociation"]
    answer = json.loads(machine.ssh(f"curl -s {CREDENTIALS}{untrusted}"))
    assert answer["Code"] == "AssumeRoleUnauthorizedAccess"
    assert "AccessKeyId" not in answer
    ec2.disassociate_iam_instance_profile(AssociationId=replaced["AssociationId"])
    status = machine.ssh(
        "curl -s -o /dev/null -w '%{http_code}' http://169.254.169.254/latest/meta-data/iam/info"
    )
    assert status == "404"
    with pytest.raises(ClientError) as refused:
        ec2.associate_iam_instance_profile(
            InstanceId=machine.instance_id, IamInstanceProfile={"Name": "no-such-profile"}
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
