"""Real instances through boto3 and OpenSSH: launch, ssh, copy, stop/start, reboot, terminate."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pocketcloud.host import runtime
from tests.plugin.clouds import Server
from tests.plugin.instances import SSH_OPTIONS, Machine, launch, wait_for_banner

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

USER_DATA = """#!/bin/sh
echo "user-data ran" >> /srv/user-data.log
echo "hello from user data"
"""


def _state(ec2: Any, instance_id: str) -> str:
    found = ec2.describe_instances(InstanceIds=[instance_id])
    return str(found["Reservations"][0]["Instances"][0]["State"]["Name"])


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def machine(ec2: Any, image_id: str, key: tuple[str, Path]) -> Machine:
    """One instance launched with user data, shared by the tests that only read it."""
    return launch(
        ec2,
        image_id,
        key,
        UserData=USER_DATA,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}],
    )


class TestLaunch:
    def test_ssh_as_admin_with_sudo(self, machine: Machine) -> None:
        """The key pair's private key logs in as admin, who has passwordless sudo."""
        assert machine.ssh("sudo id -u").strip() == "0"
        assert machine.ssh("whoami").strip() == "admin"

    def test_hostname(self, machine: Machine) -> None:
        """The hostname is EC2's ip-a-b-c-d form of the private address."""
        assert machine.ssh("hostname").strip() == "ip-" + machine.ip.replace(".", "-")

    def test_describe(self, ec2: Any, machine: Machine, cloud: Server) -> None:
        """DescribeInstances shows state, address, key, type and tags; filters find it."""
        found = ec2.describe_instances(
            Filters=[
                {"Name": "tag:Name", "Values": ["web"]},
                {"Name": "instance-state-name", "Values": ["running"]},
            ]
        )["Reservations"]
        instance = found[0]["Instances"][0]
        assert instance["InstanceId"] == machine.instance_id
        assert instance["KeyName"] == "test-key"
        assert instance["InstanceType"] == "t3.micro"
        assert instance["PrivateIpAddress"] == machine.ip
        assert machine.ip.startswith(cloud.cidr.split(".0.0/")[0])

    def test_user_data_ran_once_and_console_output(self, ec2: Any, machine: Machine) -> None:
        """User data ran as root at first boot; the console log (base64) shows the boot."""
        assert machine.ssh("cat /srv/user-data.log").count("user-data ran") == 1
        output = ec2.get_console_output(InstanceId=machine.instance_id)["Output"]
        assert "hello from user data" in output
        assert "sshd" in output

    def test_files_are_shifted_on_the_host(self, machine: Machine, cloud: Server) -> None:
        """A file root creates inside belongs to uid 100000 on the host, not to root."""
        machine.ssh("sudo touch /srv/owned-by-root")
        upper = cloud.state_dir / "instances" / machine.instance_id / "upper"
        assert (upper / "srv" / "owned-by-root").stat().st_uid == 100000

    def test_host_state_is_invisible(self, machine: Machine, cloud: Server) -> None:
        """The host's state directory and private files cannot be seen from inside."""
        result = machine.ssh(f"sudo ls {cloud.state_dir}", check=False)
        assert "pocketcloud.db" not in result
        assert "pocketcloud.db" not in machine.ssh(
            "sudo find / -name pocketcloud.db 2>/dev/null", check=False
        )


class TestCopy:
    def test_scp_and_rsync_to_srv_app(self, machine: Machine, tmp_path: Path) -> None:
        """scp -r and rsync copy a project to /srv/app after chown, as in the seed."""
        project = tmp_path / "django_app"
        (project / "app").mkdir(parents=True)
        (project / "manage.py").write_text("print('manage')\n")
        (project / "app" / "settings.py").write_text("DEBUG = False\n")
        machine.ssh("sudo mkdir -p /srv/app && sudo chown -R admin:admin /srv/")
        ssh = ["-i", str(machine.key), *SSH_OPTIONS]
        subprocess.run(
            ["scp", "-r", *ssh, str(project), f"admin@{machine.ip}:/srv/app/"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert "DEBUG = False" in machine.ssh("cat /srv/app/django_app/app/settings.py")
        (project / "manage.py").write_text("print('changed')\n")
        subprocess.run(
            [
                "rsync",
                "-a",
                "-e",
                " ".join(["ssh", *ssh]),
                f"{project}/",
                f"admin@{machine.ip}:/srv/app/synced/",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert "changed" in machine.ssh("cat /srv/app/synced/manage.py")
        assert machine.ssh("stat -c %U /srv/app/synced/manage.py").strip() == "admin"


class TestLifecycle:
    def test_stop_start_keeps_disk(self, ec2: Any, image_id: str, key: tuple[str, Path]) -> None:
        """A file in /srv survives stop and start; user data does not run again."""
        m = launch(ec2, image_id, key, UserData=USER_DATA)
        m.ssh("echo kept | sudo tee /srv/kept.txt")
        ec2.stop_instances(InstanceIds=[m.instance_id])
        ec2.get_waiter("instance_stopped").wait(
            InstanceIds=[m.instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        with pytest.raises(AssertionError, match="no SSH banner"):
            wait_for_banner(m.ip, timeout=1)
        ec2.modify_instance_attribute(InstanceId=m.instance_id, InstanceType={"Value": "t3.small"})
        ec2.start_instances(InstanceIds=[m.instance_id])
        ec2.get_waiter("instance_running").wait(
            InstanceIds=[m.instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        wait_for_banner(m.ip)
        assert m.ssh("cat /srv/kept.txt").strip() == "kept"
        assert m.ssh("cat /srv/user-data.log").count("user-data ran") == 1
        attribute = ec2.describe_instance_attribute(
            InstanceId=m.instance_id, Attribute="instanceType"
        )
        assert attribute["InstanceType"]["Value"] == "t3.small"

    def test_reboot(self, ec2: Any, machine: Machine) -> None:
        """RebootInstances restarts the machine: new boot, same disk, same address."""
        machine.ssh("echo before | sudo tee /srv/reboot.txt")
        booted = machine.ssh("cat /proc/1/stat").split()[21]
        ec2.reboot_instances(InstanceIds=[machine.instance_id])
        deadline_ok = False
        for _ in range(100):
            out = machine.ssh("cat /proc/1/stat", check=False).split()
            if out and out[21] != booted:
                deadline_ok = True
                break
            subprocess.run(["sleep", "0.2"], check=True)
        assert deadline_ok, "the instance did not reboot"
        assert machine.ssh("cat /srv/reboot.txt").strip() == "before"

    def test_terminate_leaves_nothing(
        self, ec2: Any, image_id: str, key: tuple[str, Path], cloud: Server
    ) -> None:
        """After termination no host object of the instance remains; it stays visible."""
        m = launch(ec2, image_id, key)
        ec2.terminate_instances(InstanceIds=[m.instance_id])
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=[m.instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        objects = runtime.host_objects(cloud.prefix)
        assert m.instance_id[-8:] not in " ".join(objects.describe())
        assert not (cloud.state_dir / "instances" / m.instance_id).exists()
        assert _state(ec2, m.instance_id) == "terminated"

    def test_wrong_state_errors(self, ec2: Any, image_id: str, key: tuple[str, Path]) -> None:
        """Starting a terminated instance, or changing a running one's type, is refused."""
        m = launch(ec2, image_id, key)
        with pytest.raises(ClientError) as info:
            ec2.modify_instance_attribute(
                InstanceId=m.instance_id, InstanceType={"Value": "t3.small"}
            )
        assert _code(info) == "IncorrectInstanceState"
        ec2.terminate_instances(InstanceIds=[m.instance_id])
        with pytest.raises(ClientError) as info:
            ec2.start_instances(InstanceIds=[m.instance_id])
        assert _code(info) == "IncorrectInstanceState"
        with pytest.raises(ClientError) as info:
            ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
        assert _code(info) == "InvalidInstanceID.NotFound"

    def test_bad_launch_parameters(self, ec2: Any, image_id: str) -> None:
        """Unknown images, types and key pairs get EC2's codes and launch nothing."""
        before = len(ec2.describe_instances()["Reservations"])
        cases = [
            ({"ImageId": "ami-00000000000000000"}, "InvalidAMIID.NotFound"),
            ({"ImageId": image_id, "InstanceType": "z9.huge"}, "InvalidParameterValue"),
            ({"ImageId": image_id, "KeyName": "nope"}, "InvalidKeyPair.NotFound"),
        ]
        for params, code in cases:
            with pytest.raises(ClientError) as info:
                ec2.run_instances(MinCount=1, MaxCount=1, **params)
            assert _code(info) == code
        assert len(ec2.describe_instances()["Reservations"]) == before

    def test_client_token_is_idempotent(self, ec2: Any, image_id: str) -> None:
        """The same ClientToken returns the same reservation instead of launching again."""
        first = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="once")
        again = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="once")
        assert first["ReservationId"] == again["ReservationId"]
        ids = [i["InstanceId"] for i in first["Instances"]]
        ec2.terminate_instances(InstanceIds=ids)


class TestLimits:
    def test_memory_hog_is_killed_inside(
        self, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """Past the type's memory a process is killed inside; the instance keeps answering."""
        m = launch(ec2, image_id, key, InstanceType="t3.nano")
        hog = m.ssh(
            "python3 -c 'x = bytearray(900 * 1024 * 1024); print(len(x))'; echo rc=$?", check=False
        )
        assert "rc=137" in hog or "MemoryError" in hog, hog
        assert m.ssh("echo alive").strip() == "alive"
        ec2.terminate_instances(InstanceIds=[m.instance_id])


class TestInstanceApi:
    def test_filters_pagination_and_status(
        self, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """Filters select by type, key, address and tag; MaxResults pages by instance."""
        made = ec2.run_instances(
            ImageId=image_id,
            InstanceType="t3.nano",
            KeyName=key[0],
            MinCount=6,
            MaxCount=6,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "batch", "Value": "six"}]}
            ],
        )["Instances"]
        ids = sorted(i["InstanceId"] for i in made)
        ec2.get_waiter("instance_running").wait(
            InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        tagged = [{"Name": "tag:batch", "Values": ["six"]}]
        found = ec2.describe_instances(
            Filters=[*tagged, {"Name": "instance-type", "Values": ["t3.nano"]}]
        )
        assert sorted(i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]) == ids
        one = made[0]
        by_ip = ec2.describe_instances(
            Filters=[{"Name": "private-ip-address", "Values": [one["PrivateIpAddress"]]}]
        )
        assert [i["InstanceId"] for r in by_ip["Reservations"] for i in r["Instances"]] == [
            one["InstanceId"]
        ]
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=tagged, PaginationConfig={"PageSize": 5}
        )
        seen = [i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]]
        assert sorted(seen) == ids
        status = ec2.describe_instance_status(InstanceIds=ids)["InstanceStatuses"]
        assert {s["InstanceStatus"]["Status"] for s in status} == {"ok"}
        ec2.terminate_instances(InstanceIds=ids)

    def test_instance_types(self, ec2: Any) -> None:
        """DescribeInstanceTypes shows each type's vCPUs and memory."""
        found = ec2.describe_instance_types(InstanceTypes=["t3.micro", "t2.micro"])
        sizes = {
            t["InstanceType"]: (t["VCpuInfo"]["DefaultVCpus"], t["MemoryInfo"]["SizeInMiB"])
            for t in found["InstanceTypes"]
        }
        assert sizes == {"t3.micro": (2, 1024), "t2.micro": (1, 1024)}

    def test_groups_and_attributes(self, ec2: Any, machine: Machine, image_id: str) -> None:
        """ModifyInstanceAttribute changes the groups of a running instance; more than
        five groups on one instance are refused, changing and launching nothing."""
        gid = ec2.create_security_group(GroupName="swap-in", Description="s")["GroupId"]
        ec2.modify_instance_attribute(InstanceId=machine.instance_id, Groups=[gid])
        groups = ec2.describe_instance_attribute(
            InstanceId=machine.instance_id, Attribute="groupSet"
        )["Groups"]
        assert [g["GroupId"] for g in groups] == [gid]
        data = ec2.describe_instance_attribute(
            InstanceId=machine.instance_id, Attribute="userData"
        )["UserData"]["Value"]
        assert "user-data ran" in base64.b64decode(data).decode()
        with pytest.raises(ClientError) as info:
            ec2.delete_security_group(GroupId=gid)
        assert _code(info) == "DependencyViolation"
        six = [gid] + [
            ec2.create_security_group(GroupName=f"many-{n}", Description="m")["GroupId"]
            for n in range(5)
        ]
        with pytest.raises(ClientError) as info:
            ec2.modify_instance_attribute(InstanceId=machine.instance_id, Groups=six)
        assert _code(info) == "SecurityGroupsPerInterfaceLimitExceeded"
        groups = ec2.describe_instance_attribute(
            InstanceId=machine.instance_id, Attribute="groupSet"
        )["Groups"]
        assert [g["GroupId"] for g in groups] == [gid]  # unchanged
        before = len(ec2.describe_instances()["Reservations"])
        with pytest.raises(ClientError) as info:
            ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, SecurityGroupIds=six)
        assert _code(info) == "SecurityGroupsPerInterfaceLimitExceeded"
        assert len(ec2.describe_instances()["Reservations"]) == before

    def test_iam_on_instances(
        self, cloud: Server, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """Instance calls are authorized against instance ARNs and their tags."""
        iam = cloud.client("iam")
        made = ec2.run_instances(ImageId=image_id, MinCount=2, MaxCount=2)["Instances"]
        blue, red = made[0]["InstanceId"], made[1]["InstanceId"]
        ec2.create_tags(Resources=[blue], Tags=[{"Key": "team", "Value": "blue"}])
        iam.create_user(UserName="blue-operator")
        iam.put_user_policy(
            UserName="blue-operator",
            PolicyName="p",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "ec2:StopInstances",
                            "Resource": "arn:aws:ec2:*:*:instance/*",
                            "Condition": {"StringEquals": {"ec2:ResourceTag/team": "blue"}},
                        }
                    ],
                }
            ),
        )
        access = iam.create_access_key(UserName="blue-operator")["AccessKey"]
        operator = cloud.client("ec2", access["AccessKeyId"], access["SecretAccessKey"])
        operator.stop_instances(InstanceIds=[blue])
        with pytest.raises(ClientError) as info:
            operator.stop_instances(InstanceIds=[red])
        assert _code(info) == "UnauthorizedOperation"
        ec2.terminate_instances(InstanceIds=[blue, red])
