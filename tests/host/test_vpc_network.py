"""VPCs enforced in the kernel: isolation between VPCs, outbound only through an internet
gateway route, each VPC's addresses kept on this machine. Real instances, real packets
between them; traffic for the outside is only ever looked up (``ip route get``), never sent.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pocketcloud.host import nat, runtime, vpc
from tests.conftest import Server, make_server
from tests.host.conftest import SSH_OPTIONS, wait_for_banner

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")
OUTSIDE = "192.0.2.1"  # only ever looked up with `ip route get`, never sent to


@dataclass
class Vm:
    """A running instance reached over SSH at its private address."""

    instance_id: str
    ip: str
    veth: str
    key: Path

    def ssh(self, command: str) -> str:
        """Run a command inside as admin (runs ``ssh``)."""
        result = subprocess.run(
            ["ssh", "-i", str(self.key), *SSH_OPTIONS, f"admin@{self.ip}", command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        return result.stdout

    def reaches(self, ip: str, port: int = 22) -> bool:
        """Whether a TCP connection from inside to ip:port gets an SSH banner (real packets)."""
        code = (
            f"import socket; print(socket.create_connection(('{ip}', {port}), 2).recv(4).decode())"
        )
        probe = f'python3 -c "{code}" 2>/dev/null || echo closed'
        return self.ssh(probe).strip() == "SSH-"


def _until(check: Callable[[], bool], timeout: float = 1.0) -> float:
    """Seconds until ``check()`` holds; fails after ``timeout``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"not within {timeout} s"
        time.sleep(0.02)
    return time.monotonic() - start


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def free_cidr() -> str:
    """A /16 of 10.0.0.0/8 that no route of this host overlaps (test clouds use 10.100+)."""
    taken = [
        ipaddress.ip_network(line.split()[1] if line.startswith("unreachable") else line.split()[0])
        for line in _run("ip", "route", "show").splitlines()
        if not line.startswith("default")
    ]
    for second in range(20, 100):
        candidate = ipaddress.ip_network(f"10.{second}.0.0/16")
        if not any(candidate.overlaps(route) for route in taken):
            return str(candidate)
    raise AssertionError("no free 10.x.0.0/16 on this host")


class Net:
    """Builds VPCs through the API and launches into them."""

    def __init__(self, cloud: Server, key: Path) -> None:
        self.cloud = cloud
        self.ec2 = cloud.client("ec2")
        self.key = key
        self.image = self.ec2.describe_images()["Images"][0]["ImageId"]

    def vpc(self) -> tuple[str, str]:
        """A new VPC with one /24 subnet: (vpc id, subnet id)."""
        cidr = free_cidr()
        vpc_id = self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet_cidr = cidr.replace("0.0/16", "1.0/24")
        subnet = self.ec2.create_subnet(VpcId=vpc_id, CidrBlock=subnet_cidr)["Subnet"]["SubnetId"]
        return vpc_id, subnet

    def default_vpc(self) -> str:
        """The default VPC's id."""
        found = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
        return str(found["Vpcs"][0]["VpcId"])

    def open_group(self, vpc_id: str) -> str:
        """A security group of the VPC admitting everything from anywhere."""
        made = self.ec2.create_security_group(
            GroupName=f"open-{vpc_id}", Description="all", VpcId=vpc_id
        )
        self.ec2.authorize_security_group_ingress(
            GroupId=made["GroupId"],
            IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        return str(made["GroupId"])

    def launch(self, subnet: str | None = None, group: str | None = None) -> Vm:
        """An instance (in the subnet, with the group), running, its SSH banner up."""
        extra: dict[str, Any] = {"SubnetId": subnet} if subnet else {}
        if group:
            extra["SecurityGroupIds"] = [group]
        made = self.ec2.run_instances(
            ImageId=self.image, KeyName="k", MinCount=1, MaxCount=1, **extra
        )["Instances"][0]
        self.ec2.get_waiter("instance_running").wait(
            InstanceIds=[made["InstanceId"]], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        wait_for_banner(made["PrivateIpAddress"])
        veth = runtime.veth_name(self.cloud.prefix, made["InstanceId"])
        return Vm(made["InstanceId"], made["PrivateIpAddress"], veth, self.key)


def _net(cloud: Server, tmp: Path) -> Net:
    ec2 = cloud.client("ec2")
    pem = tmp / "k.pem"
    pem.write_text(ec2.create_key_pair(KeyName="k", KeyType="ed25519")["KeyMaterial"])
    pem.chmod(0o400)
    return Net(cloud, pem)


def _route_out(vm: Vm) -> subprocess.CompletedProcess[str]:
    """The route the kernel picks for the instance's packet to the outside (sends nothing)."""
    return subprocess.run(
        ["ip", "route", "get", OUTSIDE, "from", vm.ip, "iif", vm.veth],
        capture_output=True,
        text=True,
        check=False,
    )


def _host_device() -> str:
    """The device the host itself reaches OUTSIDE by."""
    words = _run("ip", "route", "get", OUTSIDE).split()
    return words[words.index("dev") + 1]


def _goes_out(vm: Vm) -> bool:
    """True when routed by the host's own route, False when unreachable."""
    result = _route_out(vm)
    if result.returncode == 0:
        assert f"dev {_host_device()}" in result.stdout, result.stdout
        return True
    assert "unreachable" in result.stderr.lower(), result.stderr
    return False


def _blocked(cidr: str) -> bool:
    return cidr in vpc.blocked()


def _nothing_left(cloud: Server, cidrs: list[str]) -> None:
    """No route, nft table or policy rule of the cloud remains."""
    routes = _run("ip", "route", "show")
    assert not [c for c in cidrs if c in routes], routes
    tables = _run("nft", "list", "tables")
    assert f"{cloud.prefix}_" not in tables, tables
    rules = _run("ip", "rule", "show")
    assert f"iif {cloud.prefix}" not in rules, rules
    assert runtime.host_objects(cloud.prefix).empty()


@pytest.fixture
def nat_cloud(tmp_path: Path) -> Iterator[Server]:
    """A cloud with outbound NAT on (only route look-ups are made through it)."""
    srv = make_server(tmp_path / "nat", nat=True)
    srv.start()
    yield srv
    srv.remove()


class TestDefaultVpc:
    def test_default_vpc_has_outbound_with_nat(self, nat_cloud: Server, tmp_path: Path) -> None:
        """The default VPC (its internet gateway attached, its main table routing 0.0.0.0/0
        to it) gives an instance the host's route out, as before VPCs were enforced; its
        CIDR is masqueraded and unreachable from the host where no instance holds it."""
        net = _net(nat_cloud, tmp_path)
        vm = net.launch(group=net.open_group(net.default_vpc()))
        assert _goes_out(vm)
        assert nat.masqueraded(nat_cloud.prefix) == {nat_cloud.cidr}
        assert _blocked(nat_cloud.cidr)
