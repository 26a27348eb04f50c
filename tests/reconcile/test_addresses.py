"""Network interfaces and Elastic IPs on real instances, real nft and real routes.

Each instance runs a TCP listener that answers with its hostname (``ip-10-…``), so a
connection through an Elastic IP proves which instance it reached.
"""

from __future__ import annotations

import errno
import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import Server
from tests.plugin.instances import Machine, launch, perm, ssh_group, wait_for_banner
from tests.plugin.vpcs import new_vpc

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
PORT = 8080
LISTENER = f"""
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", {PORT}))
server.listen(64)
name = socket.gethostname().encode()
while True:
    conn, _ = server.accept()
    conn.sendall(name)
    conn.close()
"""


def _serve_hostname(m: Machine) -> None:
    """Start the hostname listener inside the instance and wait until it answers."""
    m.ssh("cat > /tmp/hostname_server.py", stdin=LISTENER)
    m.ssh("nohup python3 /tmp/hostname_server.py </dev/null >/tmp/hs.log 2>&1 &")
    deadline = time.monotonic() + 10
    while _answer(m.ip) is None:
        assert time.monotonic() < deadline, m.ssh("cat /tmp/hs.log")
        time.sleep(0.05)


def _answer(ip: str, timeout: float = 0.5) -> str | None:
    """The hostname the listener at ip:PORT sends, or None if no connection is made."""
    try:
        with socket.create_connection((ip, PORT), timeout=timeout) as sock:
            return sock.recv(64).decode()
    except OSError:
        return None


def _connect_error(ip: str, timeout: float = 0.5) -> int | None:
    """The errno a connection to ip:PORT fails with (ETIMEDOUT for a timeout), or None."""
    try:
        with socket.create_connection((ip, PORT), timeout=timeout):
            return None
    except TimeoutError:
        return errno.ETIMEDOUT
    except OSError as error:
        return error.errno


def _hostname(ip: str) -> str:
    return "ip-" + ip.replace(".", "-")


def _until(check: Any, limit: float) -> float:
    """Seconds until ``check()`` is true; fails after ``limit`` seconds."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < limit, f"not within {limit}s"
        time.sleep(0.01)
    return time.monotonic() - start


def _eni(ec2: Any, instance_id: str) -> dict[str, Any]:
    found = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}]
    )["NetworkInterfaces"]
    return dict(found[0])


def _kernel(cmd: list[str]) -> Any:
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def _routes(pool: str) -> list[dict[str, Any]]:
    return list(_kernel(["ip", "-j", "route", "show", "root", pool, "proto", "99"]))


def _ifindex(veth: str) -> str | None:
    """The veth's ifindex, or None while it does not exist (or is being removed: sysfs
    then answers a read with EINVAL)."""
    try:
        return Path(f"/sys/class/net/{veth}/ifindex").read_text()
    except OSError:
        return None


def _route_map(pool: str) -> dict[str, str]:
    """The pool's routes: destination → device, or "unreachable"."""
    return {r["dst"]: r.get("dev", r.get("type")) for r in _routes(pool)}


@pytest.fixture(scope="module")
def web(ec2: Any) -> str:
    """A group admitting the listener's port from anywhere."""
    group = ec2.create_security_group(GroupName="eip-web", Description="web")
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"], IpPermissions=[perm("tcp", PORT, cidr="0.0.0.0/0")]
    )
    return str(group["GroupId"])


@pytest.fixture(scope="module")
def pair(ec2: Any, image_id: str, key: tuple[str, Path], web: str) -> tuple[Machine, Machine]:
    """Two instances admitting SSH and the listener's port, each serving its hostname."""
    machines = []
    for _ in range(2):
        m = launch(ec2, image_id, key, SecurityGroupIds=[ssh_group(ec2), web])
        _serve_hostname(m)
        machines.append(m)
    return machines[0], machines[1]


class TestInterface:
    def test_fields_are_the_kernels(
        self, cloud: Server, ec2: Any, pair: tuple[Machine, Machine]
    ) -> None:
        """The interface's MacAddress is eth0's MAC inside the instance's netns, and its
        PrivateIpAddress is eth0's address there."""
        for m in pair:
            eni = _eni(ec2, m.instance_id)
            netns = f"{cloud.prefix}-{m.instance_id[-8:]}"
            (link,) = _kernel(["ip", "-n", netns, "-j", "link", "show", "eth0"])
            assert link["address"] == eni["MacAddress"]
            (addr,) = _kernel(["ip", "-n", netns, "-j", "-4", "addr", "show", "eth0"])
            assert [a["local"] for a in addr["addr_info"]] == [eni["PrivateIpAddress"]]
            assert eni["PrivateIpAddress"] == m.ip

    def test_group_change_changes_what_connects(
        self, ec2: Any, pair: tuple[Machine, Machine], web: str
    ) -> None:
        """Dropping the web group through ModifyNetworkInterfaceAttribute blocks the port
        (the firewall follows at once); adding it back admits it again."""
        a = pair[0]
        eni_id = _eni(ec2, a.instance_id)["NetworkInterfaceId"]
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[ssh_group(ec2)])
        _until(lambda: _connect_error(a.ip, 0.2) == errno.ETIMEDOUT, 2)
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni_id, Groups=[ssh_group(ec2), web]
        )
        _until(lambda: _answer(a.ip, 0.2) == _hostname(a.ip), 2)


class TestElasticIp:
    def test_follows_its_association(
        self, cloud: Server, ec2: Any, pair: tuple[Machine, Machine]
    ) -> None:
        """Associated with A, the address answers from A (from the host, from another
        instance and from A itself); re-associated with B, new connections reach B within a second;
        disassociated, a connection fails at once (unreachable), not after a timeout."""
        a, b = pair
        made = ec2.allocate_address(Domain="vpc")
        eip = made["PublicIp"]
        assert _connect_error(eip) == errno.EHOSTUNREACH  # the pool is unreachable
        ec2.associate_address(AllocationId=made["AllocationId"], InstanceId=a.instance_id)
        _until(lambda: _answer(eip) == _hostname(a.ip), 1.0)
        probe = (
            'python3 -c "import socket; '
            f"print(socket.create_connection(('{eip}', {PORT}), 2).recv(64).decode())\""
        )
        assert b.ssh(probe).strip() == _hostname(a.ip)
        assert a.ssh(probe).strip() == _hostname(a.ip)  # hairpin: itself through its address
        ec2.associate_address(AllocationId=made["AllocationId"], InstanceId=b.instance_id)
        moved = _until(lambda: _answer(eip) == _hostname(b.ip), 1.0)
        assert moved < 1.0
        wanted = {cloud.eip_pool: "unreachable", eip: f"{cloud.prefix}{b.instance_id[-8:]}h"}
        _until(lambda: _route_map(cloud.eip_pool) == wanted, 1.0)
        association = ec2.describe_addresses(AllocationIds=[made["AllocationId"]])["Addresses"][0]
        ec2.disassociate_address(AssociationId=association["AssociationId"])
        _until(lambda: _connect_error(eip) == errno.EHOSTUNREACH, 1.0)
        started = time.monotonic()
        assert _connect_error(eip, timeout=5) == errno.EHOSTUNREACH
        assert time.monotonic() - started < 0.5
        ec2.release_address(AllocationId=made["AllocationId"])

    def test_security_groups_apply_through_it(
        self, ec2: Any, pair: tuple[Machine, Machine], web: str
    ) -> None:
        """Without the web group the port is blocked through the Elastic IP too, while SSH
        (admitted) reaches the instance through it: the filter sees the private address."""
        a = pair[0]
        made = ec2.allocate_address(Domain="vpc")
        eip = made["PublicIp"]
        association = ec2.associate_address(
            AllocationId=made["AllocationId"], InstanceId=a.instance_id
        )["AssociationId"]
        _until(lambda: _answer(eip) == _hostname(a.ip), 1.0)
        eni_id = _eni(ec2, a.instance_id)["NetworkInterfaceId"]
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[ssh_group(ec2)])
        try:
            _until(lambda: _connect_error(eip, 0.3) == errno.ETIMEDOUT, 2)
            through = Machine(a.instance_id, eip, a.key)
            assert through.ssh("hostname").strip() == _hostname(a.ip)
        finally:
            ec2.modify_network_interface_attribute(
                NetworkInterfaceId=eni_id, Groups=[ssh_group(ec2), web]
            )
        _until(lambda: _answer(eip) == _hostname(a.ip), 2)
        ec2.disassociate_address(AssociationId=association)
        ec2.release_address(AllocationId=made["AllocationId"])

    def test_survives_stop_start_and_reboot(
        self, cloud: Server, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """The address stays associated while the instance is stopped (unreachable at
        once meanwhile) and answers again as soon as the instance does after a start or
        a reboot (its veth, and the route on it, are made again)."""
        m = launch(ec2, image_id, key)
        made = ec2.allocate_address(Domain="vpc")
        eip = made["PublicIp"]
        ec2.associate_address(AllocationId=made["AllocationId"], InstanceId=m.instance_id)
        wait_for_banner(eip, timeout=2)
        ec2.stop_instances(InstanceIds=[m.instance_id])
        ec2.get_waiter("instance_stopped").wait(
            InstanceIds=[m.instance_id], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
        )
        _until(lambda: _connect_error(eip) == errno.EHOSTUNREACH, 1.0)
        (address,) = ec2.describe_addresses(AllocationIds=[made["AllocationId"]])["Addresses"]
        assert address["InstanceId"] == m.instance_id
        ec2.start_instances(InstanceIds=[m.instance_id])
        wait_for_banner(m.ip)
        assert wait_for_banner(eip, timeout=1.0) < 1.0
        veth = f"{cloud.prefix}{m.instance_id[-8:]}h"
        before = _ifindex(veth)
        ec2.reboot_instances(InstanceIds=[m.instance_id])
        _until(lambda: _ifindex(veth) not in (before, None), 10)  # the veth was made again
        wait_for_banner(m.ip)
        assert wait_for_banner(eip, timeout=1.0) < 1.0
        ec2.terminate_instances(InstanceIds=[m.instance_id])
        ec2.release_address(AllocationId=made["AllocationId"])

    def test_reachable_from_another_vpc(
        self, ec2: Any, image_id: str, key: tuple[str, Path], pair: tuple[Machine, Machine]
    ) -> None:
        """An Elastic IP is a public address: an instance of another VPC (both VPCs with
        an internet gateway) reaches it, as on EC2; its private address stays isolated."""
        vpc = new_vpc(ec2)
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=vpc["CidrBlock"])["Subnet"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
            "RouteTables"
        ]
        ec2.create_route(
            RouteTableId=tables[0]["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw
        )
        group = ec2.create_security_group(
            GroupName="eip-other", Description="web", VpcId=vpc["VpcId"]
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=group, IpPermissions=[perm("tcp", PORT, cidr="0.0.0.0/0")]
        )
        made = ec2.run_instances(
            ImageId=image_id,
            MinCount=1,
            MaxCount=1,
            KeyName=key[0],
            SubnetId=subnet["SubnetId"],
            SecurityGroupIds=[group],
        )
        other = made["Instances"][0]
        ec2.get_waiter("instance_running").wait(
            InstanceIds=[other["InstanceId"]], WaiterConfig={"Delay": 0.2, "MaxAttempts": 600}
        )
        address = ec2.allocate_address(Domain="vpc")
        ec2.associate_address(AllocationId=address["AllocationId"], InstanceId=other["InstanceId"])
        try:
            m = Machine(other["InstanceId"], other["PrivateIpAddress"], key[1])
            _until(lambda: _connect_error(m.ip) == errno.ECONNREFUSED, 10)  # up, no listener
            a = pair[0]
            probe = (
                'python3 -c "import socket; socket.create_connection'
                f"(('{{}}', {PORT}), 1)\" 2>&1 | tail -1"
            )
            assert "timed out" in a.ssh(probe.format(m.ip), check=False)  # isolated
            assert "refused" in a.ssh(probe.format(address["PublicIp"]), check=False)
        finally:
            ec2.terminate_instances(InstanceIds=[other["InstanceId"]])

    def test_terminate_disassociates(
        self, cloud: Server, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """Terminating the instance disassociates its address (which stays allocated)
        and its route goes; the address is unreachable again."""
        m = launch(ec2, image_id, key)
        made = ec2.allocate_address(Domain="vpc")
        ec2.associate_address(AllocationId=made["AllocationId"], InstanceId=m.instance_id)
        _until(lambda: any(r["dst"] == made["PublicIp"] for r in _routes(cloud.eip_pool)), 1.0)
        ec2.terminate_instances(InstanceIds=[m.instance_id])
        (address,) = ec2.describe_addresses(AllocationIds=[made["AllocationId"]])["Addresses"]
        assert "InstanceId" not in address
        _until(lambda: len(_routes(cloud.eip_pool)) == 1, 2.0)
        ec2.release_address(AllocationId=made["AllocationId"])


class TestTeardown:
    def test_nothing_left(self, cloud: Server, ec2: Any, pair: tuple[Machine, Machine]) -> None:
        """Stopping the cloud removes its Elastic IP table and every route in its pool,
        an associated address's included. (Runs last: it stops the module's cloud.)"""
        made = ec2.allocate_address(Domain="vpc")
        ec2.associate_address(AllocationId=made["AllocationId"], InstanceId=pair[0].instance_id)
        _until(lambda: len(_routes(cloud.eip_pool)) == 2, 1.0)
        cloud.stop()
        listed = subprocess.run(
            ["nft", "list", "table", "ip", f"{cloud.prefix}_eip"], capture_output=True, check=False
        )
        assert listed.returncode != 0
        assert _routes(cloud.eip_pool) == []
