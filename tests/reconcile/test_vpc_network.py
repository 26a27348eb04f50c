"""VPCs enforced in the kernel: isolation between VPCs, outbound only through an internet
gateway route, each VPC's addresses kept on this machine. Real instances, real packets
between them; traffic for the outside is only ever looked up (``ip route get``), never sent.
"""

from __future__ import annotations

import ipaddress
import random
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pocketcloud.host import nat, network, runtime, vpc
from tests.plugin.clouds import Server, make_server, running
from tests.plugin.instances import SSH_OPTIONS, wait_for_banner

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
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
            f"import socket; print(socket.create_connection(('{ip}', {port}), 1).recv(4).decode())"
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
    # in random order: test clouds running side by side rarely pick the same one
    for second in random.sample(range(20, 100), 80):
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
    yield from running(srv)


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

    def test_nat_table_follows_vpcs_and_is_repaired(
        self, nat_cloud: Server, tmp_path: Path
    ) -> None:
        """CreateVpc adds its CIDR to the NAT table and DeleteVpc takes it out, within a
        second; a NAT table deleted behind the cloud's back is loaded again by the next
        thorough pass (every 5 s)."""
        ec2 = nat_cloud.client("ec2")
        cidr = free_cidr()
        vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        _until(lambda: nat.masqueraded(nat_cloud.prefix) == {nat_cloud.cidr, cidr})
        ec2.delete_vpc(VpcId=vpc_id)
        _until(lambda: nat.masqueraded(nat_cloud.prefix) == {nat_cloud.cidr})
        subprocess.run(["nft", "delete", "table", "ip", nat.table(nat_cloud.prefix)], check=True)
        _until(lambda: nat.masqueraded(nat_cloud.prefix) == {nat_cloud.cidr}, timeout=7)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The module's cloud (NAT off); once it stops, nothing of it or of its VPCs is left."""
    srv = make_server(tmp_path_factory.mktemp("vpcs"))
    try:
        srv.start()
        yield srv
        cidrs = [v["CidrBlock"] for v in srv.client("ec2").describe_vpcs()["Vpcs"]]
    finally:
        srv.remove()
    _nothing_left(srv, cidrs)


@pytest.fixture(scope="module")
def net(cloud: Server, tmp_path_factory: pytest.TempPathFactory) -> Net:
    """VPC building and launching in the module's cloud (NAT off)."""
    return _net(cloud, tmp_path_factory.mktemp("vpcnet"))


def _public_vpc(net: Net) -> tuple[str, str, str]:
    """A VPC as a tutorial makes it: subnet, internet gateway attached, a route table of
    its own routing 0.0.0.0/0 to the gateway, associated with the subnet. (vpc, subnet, table)"""
    vpc_id, subnet = net.vpc()
    igw = net.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    net.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    table = net.ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    net.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    net.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return vpc_id, subnet, table


class TestCustomVpc:
    def test_launch_into_subnet_and_ssh(self, net: Net) -> None:
        """An instance launched into a custom VPC's subnet gets an address of that subnet
        on its eth0 (with the subnet's prefix length), and answers SSH at it."""
        vpc_id, subnet, _ = _public_vpc(net)
        vm = net.launch(subnet, net.open_group(vpc_id))
        cidr = net.ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["CidrBlock"]
        assert ipaddress.ip_address(vm.ip) in ipaddress.ip_network(cidr)
        assert f"inet {vm.ip}/24" in vm.ssh("ip -4 addr show eth0")
        described = net.ec2.describe_instances(InstanceIds=[vm.instance_id])
        instance = described["Reservations"][0]["Instances"][0]
        assert (instance["SubnetId"], instance["VpcId"]) == (subnet, vpc_id)


class TestIsolation:
    def test_vpcs_cannot_reach_each_other(self, net: Net, cloud: Server) -> None:
        """With security groups that admit everything, two instances of one VPC connect
        over TCP, in the same subnet or not; an instance of another VPC (the default one
        included) can connect to neither, nor they to it; the host reaches them all."""
        vpc_a, subnet_a = net.vpc()
        second_a = net.ec2.create_subnet(
            VpcId=vpc_a,
            CidrBlock=net.ec2.describe_subnets(SubnetIds=[subnet_a])["Subnets"][0][
                "CidrBlock"
            ].replace(".1.0/24", ".2.0/24"),
        )["Subnet"]["SubnetId"]
        vpc_b, subnet_b = net.vpc()
        group_a, group_b = net.open_group(vpc_a), net.open_group(vpc_b)
        a1, a2 = net.launch(subnet_a, group_a), net.launch(second_a, group_a)
        b1 = net.launch(subnet_b, group_b)
        default = net.launch(group=net.open_group(net.default_vpc()))
        assert a1.reaches(a2.ip)
        assert a2.reaches(a1.ip)
        assert not a1.reaches(b1.ip)
        assert not b1.reaches(a1.ip)
        assert not b1.reaches(a2.ip)
        assert not default.reaches(a1.ip)
        assert not a2.reaches(default.ip)
        for vm in (a1, a2, b1, default):
            wait_for_banner(vm.ip, timeout=2)  # host → instance is untouched
        table = _run("nft", "list", "table", "inet", f"{cloud.prefix}_fw")
        for vpc_id in (vpc_a, vpc_b):
            name = "v_" + vpc_id.replace("-", "_")
            rule = f"iifname @{name} oifname @veths oifname != @{name} ct status ! dnat drop"
            assert rule in table


class TestVpcRoutes:
    def test_unreachable_route_follows_the_vpc(self, net: Net) -> None:
        """CreateVpc adds the unreachable route for its CIDR (the host's packets to an
        address no instance holds fail at once); DeleteVpc removes it; both within a second."""
        cidr = free_cidr()
        vpc_id = net.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        _until(lambda: _blocked(cidr))
        spare = cidr.replace("0.0/16", "9.9")
        looked_up = subprocess.run(
            ["ip", "route", "get", spare], capture_output=True, text=True, check=False
        )
        assert looked_up.returncode != 0, looked_up.stdout
        net.ec2.delete_vpc(VpcId=vpc_id)
        _until(lambda: not _blocked(cidr))


class TestRepair:
    def test_rules_and_routes_put_back(self, net: Net, cloud: Server) -> None:
        """An isolated instance's policy rules and a VPC's unreachable route, deleted
        behind the cloud's back, are back after the next thorough pass (every 5 s)."""
        vpc_id, subnet = net.vpc()
        cidr = net.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"]
        vm = net.launch(subnet, net.open_group(vpc_id))
        pattern = f"{cloud.prefix}[0-9a-f]{{8}}h"
        assert network.outbound_states(pattern).get(vm.veth) is False
        network.delete_rules(vm.veth)
        vpc.unblock(cidr)
        _until(lambda: network.outbound_states(pattern).get(vm.veth) is False, timeout=7)
        _until(lambda: _blocked(cidr), timeout=7)


def _ifindex(veth: str) -> str:
    return _run("ip", "-o", "link", "show", veth).split(":", 1)[0]


def _main_table(ec2: Any, vpc_id: str) -> str:
    found = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )
    return str(found["RouteTables"][0]["RouteTableId"])


class TestOutbound:
    def test_outbound_follows_routes_on_a_running_instance(
        self, nat_cloud: Server, tmp_path: Path
    ) -> None:
        """In a cloud with NAT on, an instance of a new VPC stays on the machine (no route
        to a gateway); adding 0.0.0.0/0 → an attached internet gateway to its main table
        routes it by the host's own route, deleting the route, detaching the gateway or
        associating its subnet with a table without that route makes it unreachable again,
        each within a second and without restarting the instance. The NAT table
        masquerades every VPC CIDR; after the cloud stops nothing of it is left."""
        net = _net(nat_cloud, tmp_path)
        vpc_id, subnet = net.vpc()
        cidr = net.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"]
        vm = net.launch(subnet, net.open_group(vpc_id))
        ifindex = _ifindex(vm.veth)
        assert not _goes_out(vm)
        assert nat.masqueraded(nat_cloud.prefix) == {nat_cloud.cidr, cidr}
        ec2, main = net.ec2, _main_table(net.ec2, vpc_id)
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        assert not _goes_out(vm)  # attached, but nothing routes to it yet

        def default_route(present: bool) -> None:
            if present:
                ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
            else:
                ec2.delete_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0")

        default_route(True)
        _until(lambda: _goes_out(vm))
        default_route(False)
        _until(lambda: not _goes_out(vm))
        default_route(True)
        _until(lambda: _goes_out(vm))
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        _until(lambda: not _goes_out(vm))
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        _until(lambda: _goes_out(vm))
        private = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        association = ec2.associate_route_table(RouteTableId=private, SubnetId=subnet)
        _until(lambda: not _goes_out(vm))
        ec2.disassociate_route_table(AssociationId=association["AssociationId"])
        _until(lambda: _goes_out(vm))
        assert _ifindex(vm.veth) == ifindex  # the same veth: the instance never restarted
        vm.ssh("true")
        nat_cloud.remove()
        _nothing_left(nat_cloud, [nat_cloud.cidr, cidr])
