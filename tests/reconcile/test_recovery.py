"""Surviving faults: kill -9 of the control plane mid-launch, and a host 'reboot'."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pocketcloud.host import runtime
from tests.plugin.clouds import Server, make_server
from tests.plugin.instances import Machine, ssh_group, wait_for_banner

pytestmark = [pytest.mark.live, pytest.mark.needs_root]


@pytest.fixture
def own_cloud(tmp_path: Path) -> Iterator[Server]:
    """A cloud this test may kill."""
    srv = make_server(tmp_path)
    try:
        srv.start()
        yield srv
    finally:
        srv.remove()
    assert runtime.host_objects(srv.prefix).empty(), "teardown left host objects"


def _setup(cloud: Server) -> tuple[Any, str, Path]:
    ec2 = cloud.client("ec2")
    made = ec2.create_key_pair(KeyName="k", KeyType="ed25519")
    pem = cloud.state_dir.parent / "k.pem"
    pem.write_text(made["KeyMaterial"])
    pem.chmod(0o400)
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-12"]}])["Images"]
    return ec2, str(image[0]["ImageId"]), pem


def _wait_settled(ec2: Any, timeout: float = 120) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
        if all(i["State"]["Name"] in ("running", "terminated") for i in found):
            return found
        time.sleep(0.5)
    raise AssertionError("instances did not settle")


class TestCrash:
    def test_kill_9_during_20_launches(self, own_cloud: Server) -> None:
        """kill -9 amid 20 concurrent launches, restart: every instance is running or
        terminated, each running one answers SSH, and nothing is orphaned."""
        ec2, image_id, _pem = _setup(own_cloud)
        group = ssh_group(ec2)

        def one(_: int) -> None:
            with contextlib.suppress(Exception):  # the server dies under some of these
                ec2.run_instances(
                    ImageId=image_id, KeyName="k", MinCount=1, MaxCount=1, SecurityGroupIds=[group]
                )

        with ThreadPoolExecutor(max_workers=20) as pool:
            futures = [pool.submit(one, i) for i in range(20)]
            time.sleep(0.3)
            own_cloud.stop(kill=True)
            for future in futures:
                future.result()
        own_cloud.start()
        ec2 = own_cloud.client("ec2")
        found = _wait_settled(ec2)
        assert found, "no launch was acknowledged before the kill"
        running = [i for i in found if i["State"]["Name"] == "running"]
        for instance in running:
            wait_for_banner(instance["PrivateIpAddress"])
        objects = runtime.host_objects(own_cloud.prefix)
        live = {i["InstanceId"] for i in running}
        assert objects.instance_ids() == live

    def test_host_reboot(self, own_cloud: Server) -> None:
        """Every instance process killed and host objects gone (a reboot), then the control
        plane restarts: the instances run again with the same ids, addresses, keys and disks."""
        ec2, image_id, pem = _setup(own_cloud)
        made = ec2.run_instances(
            ImageId=image_id, KeyName="k", MinCount=2, MaxCount=2, SecurityGroupIds=[ssh_group(ec2)]
        )
        ids = [i["InstanceId"] for i in made["Instances"]]
        ec2.get_waiter("instance_running").wait(
            InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        before = {i["InstanceId"]: i["PrivateIpAddress"] for i in _wait_settled(ec2)}
        for instance_id, ip in before.items():
            wait_for_banner(ip)
            Machine(instance_id, ip, pem).ssh(f"echo {instance_id} | sudo tee /srv/who")
        own_cloud.stop(kill=True)
        runtime.remove_host_objects(own_cloud.prefix, keep=set())  # the machine "reboots"
        assert runtime.host_objects(own_cloud.prefix).empty()
        own_cloud.start()
        ec2 = own_cloud.client("ec2")
        after = {i["InstanceId"]: i["PrivateIpAddress"] for i in _wait_settled(ec2)}
        assert after == before
        for instance_id, ip in after.items():
            wait_for_banner(ip)
            assert Machine(instance_id, ip, pem).ssh("cat /srv/who").strip() == instance_id


class TestTerminatedExpiry:
    def test_terminated_instances_disappear(self, tmp_path: Path) -> None:
        """Terminated instances stay visible for the configured time, then disappear."""
        srv = make_server(tmp_path)
        config = srv.state_dir / "config.json"
        settings = json.loads(config.read_text())
        settings["terminated_ttl_seconds"] = 1
        config.write_text(json.dumps(settings))
        srv.start()
        try:
            ec2, image_id, _pem = _setup(srv)
            made = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]
            ec2.terminate_instances(InstanceIds=[made["InstanceId"]])
            ec2.get_waiter("instance_terminated").wait(
                InstanceIds=[made["InstanceId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30}
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if not ec2.describe_instances()["Reservations"]:
                    break
                time.sleep(1)
            assert ec2.describe_instances()["Reservations"] == []
        finally:
            srv.remove()
