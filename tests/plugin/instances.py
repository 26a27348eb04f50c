"""Real instances: the debian-12 image, a key pair on disk, launching, OpenSSH, probes.

Fixtures: ``debian_image`` (built once into the machine's cache if missing; root),
``image_id`` and ``key`` (in the module's cloud). Helpers: ``launch`` (RunInstances, then
wait for an SSH banner), ``Machine.ssh``, ``perm`` and ``ssh_group`` for security groups,
``start_listeners`` (the probe script's listeners inside an instance), ``listing`` (the
cloud's nft table as loaded).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pocketcloud.host import images as host_images
from tests.plugin import probe

SSH_OPTIONS = [
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=5",
    "-o",
    "BatchMode=yes",
]


@dataclass
class Machine:
    """A running instance and how to reach it."""

    instance_id: str
    ip: str
    key: Path

    def ssh(
        self, command: str, *, check: bool = True, timeout: float = 60, stdin: str | None = None
    ) -> str:
        """Run a command over OpenSSH as admin (runs a process)."""
        result = subprocess.run(
            ["ssh", "-i", str(self.key), *SSH_OPTIONS, f"admin@{self.ip}", command],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        return result.stdout


def wait_for_banner(ip: str, timeout: float = 30) -> float:
    """Seconds until ip:22 sends an SSH banner."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with socket.create_connection((ip, 22), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.005)
    raise AssertionError(f"no SSH banner from {ip} within {timeout}s")


SCRIPT = Path(probe.__file__).read_text()


def install_probe(m: Machine) -> None:
    """Copy the probe script into the instance."""
    m.ssh("cat > /tmp/probe.py", stdin=SCRIPT)


def start_listeners(m: Machine, specs: Sequence[str]) -> None:
    """Run the probe script's listeners inside the instance (in the background)."""
    install_probe(m)
    m.ssh(f"nohup python3 /tmp/probe.py serve {' '.join(specs)} </dev/null >/tmp/serve.log 2>&1 &")
    deadline = time.monotonic() + 10
    while "ready" not in m.ssh("cat /tmp/serve.log"):
        assert time.monotonic() < deadline, m.ssh("cat /tmp/serve.log")
        time.sleep(0.1)


def listing(prefix: str) -> str:
    """The cloud's firewall table as loaded in the kernel."""
    return subprocess.run(
        ["nft", "list", "table", "inet", f"{prefix}_fw"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


@pytest.fixture(scope="session")
def debian_image() -> host_images.Image:
    """The debian-12 image in the machine's cache (``$POCKETCLOUD_IMAGE_CACHE``), built once
    first if it is missing (debootstrap: root, and minutes)."""
    return host_images.build_image(host_images.cache_dir())


@pytest.fixture(scope="module")
def image_id(ec2: Any, debian_image: host_images.Image) -> str:
    """The debian-12 image's id, as the module's cloud describes it."""
    found = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-12"]}])["Images"]
    assert found[0]["ImageId"] == debian_image.image_id
    return str(found[0]["ImageId"])


@pytest.fixture(scope="module")
def key(ec2: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A key pair created through the API, its private key saved with chmod 400."""
    made = ec2.create_key_pair(KeyName="test-key", KeyType="ed25519")
    pem = tmp_path_factory.mktemp("keys") / "test-key.pem"
    pem.write_text(made["KeyMaterial"])
    pem.chmod(0o400)
    return "test-key", pem


def perm(
    protocol: str, low: int = -1, high: int | None = None, *, cidr: str = "", group: str = ""
) -> dict[str, Any]:
    """One IpPermission: a protocol, a port range (ICMP: type and code) and a CIDR or a
    source group."""
    out: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        out |= {"FromPort": low, "ToPort": low if high is None else high}
    if cidr:
        out["IpRanges"] = [{"CidrIp": cidr}]
    if group:
        out["UserIdGroupPairs"] = [{"GroupId": group}]
    return out


def ssh_group(ec2: Any) -> str:
    """A security group admitting SSH from anywhere (created once per cloud)."""
    try:
        found = ec2.describe_security_groups(GroupNames=["ssh"])["SecurityGroups"]
        return str(found[0]["GroupId"])
    except ClientError:
        pass
    group_id = str(ec2.create_security_group(GroupName="ssh", Description="ssh")["GroupId"])
    ec2.authorize_security_group_ingress(
        GroupId=group_id, IpPermissions=[perm("tcp", 22, cidr="0.0.0.0/0")]
    )
    return group_id


def launch(ec2: Any, image_id: str, key: tuple[str, Path], **extra: Any) -> Machine:
    """RunInstances (with SSH admitted unless groups are given), wait for running and an
    SSH banner; the instance as a Machine."""
    extra.setdefault("SecurityGroupIds", [ssh_group(ec2)])
    made = ec2.run_instances(
        ImageId=image_id,
        InstanceType=extra.pop("InstanceType", "t3.micro"),
        KeyName=key[0],
        MinCount=1,
        MaxCount=1,
        **extra,
    )
    instance_id = made["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 600}
    )
    ip = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
        "PublicIpAddress"
    ]
    wait_for_banner(ip)
    return Machine(instance_id, ip, key[1])
