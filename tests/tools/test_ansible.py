"""Ansible's amazon.aws collection, unmodified, drives the cloud as it drives EC2.

Each playbook in ``playbooks/`` runs with ``ansible-playbook`` (installed by ``make``
as a dev dependency) against a test cloud of its own; the collection's modules call
EC2 through boto3 with the cloud's endpoint and keys, exactly as they would on AWS.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import BIN, Server

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

PLAYBOOKS = Path(__file__).parent / "playbooks"


def _free_cidr(server: Server) -> ipaddress.IPv4Network:
    """A /16 in 10.0.0.0/8 that is neither the cloud's default VPC nor routed on the host."""
    routes = subprocess.run(
        ["ip", "-j", "route", "show"], capture_output=True, text=True, check=False
    )
    taken = [server.cidr]
    for route in json.loads(routes.stdout or "[]"):
        if route.get("dst", "default") != "default":
            taken.append(route["dst"] if "/" in route["dst"] else route["dst"] + "/32")
    while True:
        net = ipaddress.ip_network(f"10.{secrets.randbelow(100) + 20}.0.0/16")
        if not any(net.overlaps(ipaddress.ip_network(t)) for t in taken):
            return net


def play(server: Server, tmp: Path, playbook: str, **extra: Any) -> str:
    """Run one playbook against ``server``; its output (asserted to succeed)."""
    ec2 = server.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    variables = {
        "endpoint": server.endpoint,
        "key": server.access_key_id,
        "secret": server.secret,
        "image": image,
        "ansible_python_interpreter": sys.executable,
        **extra,
    }
    (tmp / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_HOME=str(tmp / "ansible"), ANSIBLE_NOCOLOR="1")
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            *("-i", "localhost,", "-c", "local"),
            *("-e", f"@{tmp / 'vars.json'}", str(PLAYBOOKS / playbook)),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result.stdout


def test_default_vpc_launch(cloud: Server, tmp_path: Path) -> None:
    """ec2_key, ec2_security_group and ec2_instance (t1.micro, waiting for running) launch
    into the default VPC — the collection looks it up with the filter ``isDefault`` and reads
    the instance's NetworkInterfaces —, ec2_instance_info finds it by tag and state, and the
    same modules with ``state: absent`` remove it all."""
    out = play(cloud, tmp_path, "default_vpc.yml")
    assert "failed=0" in out
    left = cloud.client("ec2").describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["running", "pending"]}]
    )
    assert left["Reservations"] == []


def test_custom_vpc_template_and_elastic_ip(cloud: Server, tmp_path: Path) -> None:
    """A custom VPC, subnet, internet gateway and route table, a security group in it, a
    launch template whose instance type the task overrides, an Elastic IP on the instance,
    the instance's volume and interface found by ``attachment.instance-id``; then the
    whole teardown in the order a user writes it — each step succeeds, as on AWS."""
    vpc = _free_cidr(cloud)
    subnet = next(vpc.subnets(new_prefix=24))
    out = play(cloud, tmp_path, "custom_vpc.yml", vpc_cidr=str(vpc), subnet_cidr=str(subnet))
    assert "failed=0" in out
    ec2 = cloud.client("ec2")
    assert [v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]] == [cloud.cidr]
    assert ec2.describe_addresses()["Addresses"] == []
