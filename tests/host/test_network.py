"""Instance networking on the host: where instance traffic may go, checked without sending."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketcloud.host import nat, runtime
from tests.conftest import Server, make_server

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")
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
