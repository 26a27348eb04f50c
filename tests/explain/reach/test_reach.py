"""``explain reach`` on real instances of a test cloud: each broken setup named by the
layer that blocks it, with its fix; a healthy one passes every layer.

The module shares one cloud and a few instances: ``web`` runs Python's http.server on
8000 (every address) and 8002 (127.0.0.1 only); its group admits 8000 and 8002 from
anywhere, 8001 from 10.99.0.0/24 only, 8003 from anywhere (nothing listens there), 8443
from anywhere (a TLS server, openssl s_server).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pocketcloud.explain.reach import Report, explain
from tests.plugin.clouds import BIN, Server, cloud, ec2
from tests.plugin.instances import Machine, image_id, key, launch, listing, perm
from tests.plugin.instances import ssh_group as make_ssh_group
from tests.plugin.vpcs import cidr_within, new_vpc

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")
__all__ = ["cloud", "ec2", "image_id", "key"]


def group(ec2: Any, name: str, *perms: dict[str, Any], vpc: str | None = None) -> str:
    """A new security group with these ingress permissions."""
    extra = {"VpcId": vpc} if vpc else {}
    gid = str(ec2.create_security_group(GroupName=name, Description=name, **extra)["GroupId"])
    if perms:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=list(perms))
    return gid


def serve(m: Machine, port: int, bind: str = "0.0.0.0") -> None:  # noqa: S104
    """Python's http.server inside the instance, in the background, until it listens."""
    server = f"python3 -m http.server {port} --bind {bind}"
    m.ssh(f"cd /tmp; nohup {server} </dev/null >/dev/null 2>&1 &")
    m.ssh(f"for i in $(seq 50); do ss -Hltn | grep -q ':{port} ' && exit 0; sleep 0.1; done")


#: a stand-in for Django's manage.py: ``runserver PORT`` listens on 127.0.0.1 only, as
#: Django's does without ``0:``
MANAGE = """import http.server, sys
port = int(sys.argv[2])
server = http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def web_group(ec2: Any) -> str:
    """The web instance's group (8000, 8002, 8003 from anywhere; 8001 from 10.99.0.0/24)."""
    anywhere = [perm("tcp", port, cidr="0.0.0.0/0") for port in (8000, 8002, 8003, 8004, 8443)]
    return group(ec2, "web", *anywhere, perm("tcp", 8001, cidr="10.99.0.0/24"))


@pytest.fixture(scope="module")
def web(ec2: Any, image_id: str, key: tuple[str, Path], web_group: str) -> Machine:
    """The instance under test, serving 8000 (all addresses), 8001 and 8002 (loopback)."""
    m = launch(ec2, image_id, key, SecurityGroupIds=[web_group, make_ssh_group(ec2)])
    serve(m, 8000)
    serve(m, 8001)
    serve(m, 8002, "127.0.0.1")
    tls = ("openssl req -x509 -newkey rsa:2048 -nodes -keyout /tmp/k.pem -out /tmp/c.pem "
           "-days 1 -subj /CN=web 2>/dev/null; cd /tmp; nohup openssl s_server -accept 8443 "
           "-cert /tmp/c.pem -key /tmp/k.pem -www </dev/null >/dev/null 2>&1 &")  # fmt: skip
    m.ssh(tls)
    m.ssh("for i in $(seq 50); do ss -Hltn | grep -q ':8443 ' && exit 0; sleep 0.1; done")
    m.ssh(f"cat > /tmp/manage.py <<'EOF'\n{MANAGE}EOF")
    m.ssh("cd /tmp; nohup python3 manage.py runserver 8004 </dev/null >/dev/null 2>&1 &")
    m.ssh("for i in $(seq 50); do ss -Hltn | grep -q ':8004 ' && exit 0; sleep 0.1; done")
    return m


def changed(cloud: Server, action: Callable[[], object]) -> None:
    """Do ``action`` (a security group change), then wait until the kernel's table
    follows it."""
    before = listing(cloud.prefix)
    action()
    deadline = time.monotonic() + 10
    while listing(cloud.prefix) == before:
        assert time.monotonic() < deadline, "the firewall did not follow"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def client(ec2: Any, image_id: str, key: tuple[str, Path]) -> tuple[Machine, str]:
    """An instance in the web's VPC with a group of its own (SSH in, all out)."""
    gid = group(ec2, "client", perm("tcp", 22, cidr="0.0.0.0/0"))
    return launch(ec2, image_id, key, SecurityGroupIds=[gid]), gid


def reach(cloud: Server, target: str, port: int, source: str | None = None) -> Report:
    """explain() against the module's cloud."""
    return explain(cloud.state_dir, target, port, source)


def layer(report: Report, name: str) -> Any:
    """One layer of the report."""
    return next(found for found in report.layers if found.name == name)


class TestFromHost:
    """From this host (the gateway address 169.254.1.1 on every veth)."""

    def test_healthy(self, cloud: Server, web: Machine) -> None:
        """http.server on 0.0.0.0:8000 with a rule for it: nothing blocks; every layer
        passes and the answer is HTTP 200."""
        report = reach(cloud, web.instance_id, 8000)
        assert report.verdict.layer == "none", report.text()
        assert report.verdict.ok
        assert all(found.ok for found in report.layers), report.text()
        assert "200" in " ".join(layer(report, "answer").evidence)
        assert f"dev {cloud.prefix}" in " ".join(layer(report, "route").evidence)

    def test_security_group_rule_named(self, cloud: Server, web: Machine, ec2: Any) -> None:
        """The admitting rule is named by group id and security group rule id, the same
        ids DescribeSecurityGroupRules gives."""
        report = reach(cloud, web.instance_id, 8000)
        rules = ec2.describe_security_group_rules()["SecurityGroupRules"]
        rule = next(r for r in rules if r.get("FromPort") == 8000 and not r["IsEgress"])
        text = " ".join(layer(report, "security-group").evidence)
        assert rule["GroupId"] in text, text
        assert rule["SecurityGroupRuleId"] in text, text

    def test_missing_rule(self, cloud: Server, web: Machine, web_group: str) -> None:
        """No rule admits 9000: blocked at the security group, with the exact authorize
        command for the host's address."""
        report = reach(cloud, web.instance_id, 9000)
        assert report.verdict.layer == "security-group", report.text()
        assert report.verdict.fix == (
            f"aws --profile pocketcloud ec2 authorize-security-group-ingress --group-id "
            f"{web_group} --protocol tcp --port 9000 --cidr 169.254.1.1/32"
        )

    def test_rule_for_another_cidr(self, cloud: Server, web: Machine) -> None:
        """8001 is admitted from 10.99.0.0/24 only: from the host it is blocked at the
        security group; from 10.99.0.7 the rule admits it, and the route layer says that
        only this machine reaches instances."""
        report = reach(cloud, web.instance_id, 8001)
        assert report.verdict.layer == "security-group", report.text()
        assert "--port 8001 --cidr 169.254.1.1/32" in (report.verdict.fix or "")
        outside = reach(cloud, web.instance_id, 8001, "10.99.0.7/32")
        assert layer(outside, "security-group").ok, outside.text()
        assert "10.99.0.0/24" in " ".join(layer(outside, "security-group").evidence)
        assert layer(outside, "route").ok is None
        assert "only this machine" in " ".join(layer(outside, "route").evidence)

    def test_bound_to_loopback(self, cloud: Server, web: Machine) -> None:
        """A server on 127.0.0.1:8002 is unreachable from outside: blocked at the
        listener, naming the process and the address, fix: listen on 0 (0.0.0.0)."""
        report = reach(cloud, web.instance_id, 8002)
        assert report.verdict.layer == "listener", report.text()
        assert "127.0.0.1" in report.verdict.summary
        assert "python3" in report.verdict.summary
        assert "runserver 0:8002" in (report.verdict.fix or "")

    def test_runserver_without_zero(self, cloud: Server, web: Machine) -> None:
        """``manage.py runserver 8004`` (without 0:) listens on 127.0.0.1 only: blocked at
        the listener, naming runserver, fix ``./manage.py runserver 0:8004``."""
        report = reach(cloud, web.instance_id, 8004)
        assert report.verdict.layer == "listener", report.text()
        assert "runserver without 0" in report.verdict.summary
        assert "`./manage.py runserver 0:8004`" in (report.verdict.fix or "")
        assert "manage.py runserver 8004" in " ".join(layer(report, "listener").evidence)

    def test_nothing_listening(self, cloud: Server, web: Machine) -> None:
        """Wrong port: nothing listens on 8003; blocked at the listener, which lists the
        ports that do listen."""
        report = reach(cloud, web.instance_id, 8003)
        assert report.verdict.layer == "listener", report.text()
        assert "nothing listens on tcp/8003" in report.verdict.summary
        assert "8000" in (report.verdict.fix or "")
        assert "22 (sshd)" in (report.verdict.fix or "")

    def test_ssh_is_not_http(self, cloud: Server, web: Machine) -> None:
        """Port 22 answers with sshd's banner: ok, it is sshd, not HTTP."""
        report = reach(cloud, web.instance_id, 22)
        assert report.verdict.ok, report.text()
        assert "sshd" in report.verdict.summary

    def test_tls_on_a_plain_request(self, cloud: Server, web: Machine) -> None:
        """A TLS server (openssl s_server on 8443) asked in plain HTTP: blocked at the
        answer, fix: speak HTTPS."""
        report = reach(cloud, web.instance_id, 8443)
        assert report.verdict.layer == "answer", report.text()
        assert "TLS" in report.verdict.summary
        assert f"https://{web.ip}:8443/" in (report.verdict.fix or "")

    def test_by_address(self, cloud: Server, web: Machine) -> None:
        """The target may be the instance's address."""
        report = reach(cloud, web.ip, 8000)
        assert report.verdict.layer == "none", report.text()
        assert web.instance_id in " ".join(layer(report, "instance").evidence)

    def test_unknown_instance(self, cloud: Server) -> None:
        """An instance id the cloud never had: blocked at the instance layer."""
        report = reach(cloud, "i-0123456789abcdef0", 80)
        assert report.verdict.layer == "instance"
        assert "does not exist" in report.verdict.summary


class TestFromInstance:
    """From another instance: its egress rules, its VPC, a request from its namespace."""

    def test_from_instance_ok(self, cloud: Server, web: Machine, client: Any) -> None:
        """Same VPC, egress open: nothing blocks; the request was sent from the client's
        namespace (the security group saw its address). The source may be named by its
        address too."""
        machine, _ = client
        report = reach(cloud, web.instance_id, 8000, machine.instance_id)
        assert report.verdict.layer == "none", report.text()
        assert "same VPC" in " ".join(layer(report, "route").evidence)
        by_address = reach(cloud, web.instance_id, 8000, machine.ip)
        assert by_address.source == machine.instance_id, by_address.text()
        assert by_address.verdict.layer == "none", by_address.text()

    def test_group_source_rule(
        self, cloud: Server, ec2: Any, web: Machine, web_group: str, client: Any
    ) -> None:
        """A rule admitting 8001 from the client's group: the client is admitted by that
        rule (its id named); the host, not a member, is still refused."""
        machine, gid = client
        made: dict[str, Any] = {}

        def authorize() -> None:
            made.update(ec2.authorize_security_group_ingress(
                GroupId=web_group, IpPermissions=[perm("tcp", 8001, group=gid)]))  # fmt: skip

        changed(cloud, authorize)
        rule_id = made["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        report = reach(cloud, web.instance_id, 8001, machine.instance_id)
        assert report.verdict.layer == "none", report.text()
        assert rule_id in " ".join(layer(report, "security-group").evidence)
        assert reach(cloud, web.instance_id, 8001).verdict.layer == "security-group"

    def test_revoked_egress(self, cloud: Server, ec2: Any, web: Machine, client: Any) -> None:
        """The client's group lost its egress rule: blocked at egress, with the authorize
        command for the client's group and the web's address."""
        machine, gid = client
        revoke = [perm("-1", cidr="0.0.0.0/0")]
        changed(cloud, lambda: ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=revoke))
        report = reach(cloud, web.instance_id, 8000, machine.instance_id)
        assert report.verdict.layer == "egress", report.text()
        fix = report.verdict.fix or ""
        assert f"authorize-security-group-egress --group-id {gid}" in fix
        assert f"CidrIp={web.ip}/32" in fix or "CidrIp=" in fix

    def test_other_vpc(
        self, cloud: Server, ec2: Any, image_id: str, key: Any, web: Machine
    ) -> None:
        """An instance in another VPC: blocked at the route (VPCs are isolated)."""
        vpc = new_vpc(ec2)
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr_within(vpc, 26))["Subnet"]
        gid = group(ec2, "far", vpc=vpc["VpcId"])
        made = ec2.run_instances(
            ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1,
            SubnetId=subnet["SubnetId"], SecurityGroupIds=[gid],
        )  # fmt: skip
        far = made["Instances"][0]["InstanceId"]
        ec2.get_waiter("instance_running").wait(
            InstanceIds=[far], WaiterConfig={"Delay": 0.2, "MaxAttempts": 600}
        )
        report = reach(cloud, web.instance_id, 8000, far)
        assert report.verdict.layer == "route", report.text()
        assert "different VPCs" in report.verdict.summary
        eip = ec2.allocate_address(Domain="vpc")
        ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=web.instance_id)
        assert "Elastic IP" in (reach(cloud, web.instance_id, 8000, far).verdict.fix or "")
        deadline = time.monotonic() + 15  # the Elastic IP table follows within moments
        while (via := reach(cloud, eip["PublicIp"], 8000, far)).verdict.layer != "none":
            assert time.monotonic() < deadline, via.text()
            time.sleep(0.2)
        assert "allowed across VPCs" in " ".join(layer(via, "route").evidence)


class TestStates:
    """An instance that is not running."""

    def test_stopped_then_terminated(
        self, cloud: Server, ec2: Any, image_id: str, key: Any
    ) -> None:
        """Stopped: blocked at the instance, fix start-instances; terminated: blocked at
        the instance, it cannot be started."""
        m = launch(ec2, image_id, key)
        ec2.stop_instances(InstanceIds=[m.instance_id])
        waiter = {"Delay": 0.2, "MaxAttempts": 600}
        ec2.get_waiter("instance_stopped").wait(InstanceIds=[m.instance_id], WaiterConfig=waiter)
        report = reach(cloud, m.instance_id, 22)
        assert report.verdict.layer == "instance"
        assert report.verdict.fix == (
            f"aws --profile pocketcloud ec2 start-instances --instance-ids {m.instance_id}"
        )
        ec2.terminate_instances(InstanceIds=[m.instance_id])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[m.instance_id], WaiterConfig=waiter)
        gone = reach(cloud, m.instance_id, 22)
        assert gone.verdict.layer == "instance"
        assert "terminated" in gone.verdict.summary


class TestCommand:
    """The CLI: text, --json, and nothing changed."""

    def test_json_shape(self, cloud: Server, web: Machine) -> None:
        """--json gives the verdict (layer, ok, summary, fix) and each layer's name, ok
        and evidence; exit 1 when a layer blocks."""
        done = subprocess.run(
            [str(BIN / "pocketcloud"), "explain", "reach", web.instance_id, "8003", "--json",
             "--state-dir", str(cloud.state_dir)],
            capture_output=True, text=True, check=False, env=cloud.env,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        data = json.loads(done.stdout)
        assert set(data["verdict"]) == {"layer", "ok", "summary", "fix"}
        assert data["verdict"]["layer"] == "listener"
        assert [x["name"] for x in data["layers"]] == [
            "instance", "route", "security-group", "egress", "listener", "answer"
        ]  # fmt: skip
        assert all(set(x) == {"name", "ok", "evidence"} for x in data["layers"])

    def test_text_and_nothing_changed(self, cloud: Server, web: Machine) -> None:
        """The text starts with the verdict line and its fix; explaining changes nothing
        (the kernel's table lists the same before and after)."""
        before = listing(cloud.prefix)
        done = subprocess.run(
            [str(BIN / "pocketcloud"), "explain", "reach", web.instance_id, "9000",
             "--state-dir", str(cloud.state_dir)],
            capture_output=True, text=True, check=False, env=cloud.env,
        )  # fmt: skip
        lines = done.stdout.splitlines()
        assert lines[0].startswith("BLOCKED [security-group]"), done.stdout
        assert lines[1].startswith("  fix: aws --profile pocketcloud ec2 authorize-")
        reach(cloud, web.instance_id, 8000)
        assert listing(cloud.prefix) == before
