"""Instance networking on the host: where instance traffic may go, checked without sending."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketcloud.host import nat, runtime
from tests.plugin.clouds import Server, make_server
from tests.plugin.instances import launch, ssh_group

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
OUTSIDE = "198.51.100.7"  # TEST-NET-2: only ever used in route look-ups, never sent to


def _cloud(tmp: Path, with_nat: bool) -> Server:
    srv = make_server(tmp, nat=with_nat)
    srv.start()
    return srv


@pytest.fixture
def clouds(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two clouds side by side: one with outbound NAT, one without."""
    with_nat = _cloud(tmp_path / "nat", True)
    without = _cloud(tmp_path / "plain", False)
    yield with_nat, without
    for srv in (with_nat, without):
        srv.remove()
        assert runtime.host_objects(srv.prefix).empty()
    assert (
        subprocess.run(
            ["nft", "list", "table", "ip", nat.table(with_nat.prefix)],
            capture_output=True,
            check=False,
        ).returncode
        != 0
    )


def _launch(srv: Server) -> tuple[str, str]:
    ec2 = srv.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    made = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[made["InstanceId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    veth = f"{srv.prefix}{made['InstanceId'][-8:]}h"
    return made["PrivateIpAddress"], veth


def _route(ip: str, veth: str, destination: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "route", "get", destination, "from", ip, "iif", veth],
        capture_output=True,
        text=True,
        check=False,
    )


class TestOutbound:
    def test_nat_and_isolation(self, clouds: tuple[Server, Server]) -> None:
        """With NAT an instance's packets for the outside follow the host's routes and are
        masqueraded; without it they are unreachable. Both reach their VPC's neighbours."""
        with_nat, without = clouds
        ip, veth = _launch(with_nat)
        table = subprocess.run(
            ["nft", "list", "table", "ip", nat.table(with_nat.prefix)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"ip saddr {with_nat.cidr}" in table
        assert "masquerade" in table
        host_routes_it = (
            subprocess.run(
                ["ip", "route", "get", OUTSIDE], capture_output=True, check=False
            ).returncode
            == 0
        )
        assert (_route(ip, veth, OUTSIDE).returncode == 0) == host_routes_it
        plain_ip, plain_veth = _launch(without)
        blocked = _route(plain_ip, plain_veth, OUTSIDE)
        assert blocked.returncode != 0
        assert "unreachable" in blocked.stderr.lower() or "prohibited" in blocked.stderr.lower()

    def test_vpc_addresses_without_instance_never_leave(
        self, clouds: tuple[Server, Server]
    ) -> None:
        """From the host, a VPC address no instance holds is unreachable, not routed out."""
        for srv in clouds:
            spare = srv.cidr.replace("0.0/16", "200.200")
            result = subprocess.run(
                ["ip", "route", "get", spare], capture_output=True, text=True, check=False
            )
            assert result.returncode != 0


OUTSIDE_NET = "203.0.113"  # TEST-NET-3, routed to a netns on this machine by the fixture


@pytest.fixture
def outside() -> Iterator[str]:
    """A stand-in for the internet on this machine: a netns behind a veth that holds
    203.0.113.2 and accepts TCP on 8080. Checked to be routed there before any use."""
    tag = secrets.token_hex(3)
    # not a cloud's prefix ("pc", "t…"): no reconciler may take them for its orphans
    netns, veth = f"xout{tag}", f"xo{tag}h"
    inside = ["ip", "netns", "exec", netns]
    for cmd in (
        ["ip", "netns", "add", netns],
        ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns],
        ["ip", "addr", "add", f"{OUTSIDE_NET}.1/24", "dev", veth],
        ["ip", "link", "set", veth, "up"],
        [*inside, "ip", "addr", "add", f"{OUTSIDE_NET}.2/24", "dev", "eth0"],
        [*inside, "ip", "link", "set", "eth0", "up"],
        [*inside, "ip", "route", "add", "default", "via", f"{OUTSIDE_NET}.1"],
    ):
        subprocess.run(cmd, check=True, capture_output=True)
    server = subprocess.Popen(
        [*inside, sys.executable, "-c", LISTENER, f"{OUTSIDE_NET}.2"],
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == b"ready\n"
        route = subprocess.run(
            ["ip", "route", "get", f"{OUTSIDE_NET}.2"], capture_output=True, text=True, check=True
        )
        assert f"dev {veth}" in route.stdout, route.stdout  # never the default route
        yield f"{OUTSIDE_NET}.2"
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
        subprocess.run(["ip", "netns", "del", netns], check=False)


LISTENER = """
import socket, sys
server = socket.create_server((sys.argv[1], 8080))
print("ready", flush=True)
while True:
    server.accept()[0].close()
"""


class TestEgressThroughNat:
    def test_egress_rules_limit_the_outside(self, tmp_path: Path, outside: str) -> None:
        """With NAT, an instance reaches the (stand-in) outside under the default
        all-outbound rule, and no longer once its group's egress rule is revoked."""
        srv = _cloud(tmp_path / "nat", True)
        try:
            ec2 = srv.client("ec2")
            pem = tmp_path / "k.pem"
            pem.write_text(ec2.create_key_pair(KeyName="k", KeyType="ed25519")["KeyMaterial"])
            pem.chmod(0o400)
            image = ec2.describe_images()["Images"][0]["ImageId"]
            group = ssh_group(ec2)
            m = launch(ec2, image, ("k", pem), SecurityGroupIds=[group])
            probe = (
                f"python3 -c \"import socket; socket.create_connection(('{outside}', 8080), 2)\" "
                "&& echo reached || echo blocked"
            )
            assert m.ssh(probe).strip() == "reached"
            ec2.revoke_security_group_egress(
                GroupId=group,
                IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            )
            deadline = time.monotonic() + 5
            while m.ssh(probe).strip() != "blocked":
                assert time.monotonic() < deadline, "egress revoke did not stop outbound"
        finally:
            srv.remove()
