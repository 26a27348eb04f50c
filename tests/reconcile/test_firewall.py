"""Security groups enforced by nftables on real packets (the core of EC2's semantics)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.instances import Machine, launch, listing, perm, ssh_group

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
PORT = 8080


def _tcp(port: int, cidr: str = "0.0.0.0/0") -> dict[str, Any]:
    return perm("tcp", port, cidr=cidr)


def _listen(m: Machine, port: int = PORT) -> None:
    """Start a TCP server inside the instance over SSH."""
    m.ssh(f"nohup python3 -m http.server {port} >/dev/null 2>&1 &")
    deadline = time.monotonic() + 10
    while "LISTEN" not in m.ssh(f"ss -ltn 'sport = :{port}' | tail -n +2 | sed 's/^/LISTEN /'"):
        assert time.monotonic() < deadline, "the listener did not start"
        time.sleep(0.1)


def _from_host(ip: str, port: int = PORT, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False


def _source_address(ip: str) -> str:
    """The address the host sends from to reach ``ip`` (the kernel's choice; nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((ip, PORT))
        return str(probe.getsockname()[0])


def _chain(cloud: Any, name: str) -> str:
    """One chain of the cloud's firewall table as loaded in the kernel ("" if absent)."""
    return subprocess.run(
        ["nft", "list", "chain", "inet", f"{cloud.prefix}_fw", name],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def _until(condition: Callable[[], bool], failure: str = "", timeout: float = 5) -> None:
    """Poll ``condition`` until it holds; fail with ``failure`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure or "the condition did not hold in time"
        time.sleep(0.1)


def _from(m: Machine, ip: str, port: int = PORT) -> bool:
    probe = (
        f"python3 -c \"import socket; socket.create_connection(('{ip}', {port}), 1)\" "
        "&& echo open || echo closed"
    )
    return m.ssh(probe).strip() == "open"


@pytest.fixture(scope="module")
def web(ec2: Any, image_id: str, key: tuple[str, Path]) -> tuple[Machine, str]:
    """An instance in its own group (SSH only at first), listening on 8080."""
    gid = ec2.create_security_group(GroupName="fw-web", Description="web")["GroupId"]
    m = launch(ec2, image_id, key, SecurityGroupIds=[ssh_group(ec2), gid])
    _listen(m)
    return m, gid


class TestIngress:
    def test_default_deny_then_authorize_then_revoke(
        self, ec2: Any, web: tuple[Machine, str]
    ) -> None:
        """A port no rule names is closed; authorizing opens it live; revoking closes it
        for new connections while a tracked connection keeps working."""
        m, gid = web
        assert not _from_host(m.ip)
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[_tcp(PORT)])
        deadline = time.monotonic() + 2
        while not _from_host(m.ip, timeout=0.2):
            assert time.monotonic() < deadline, "the new rule did not take effect"
        tracked = socket.create_connection((m.ip, PORT), timeout=2)
        try:
            ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[_tcp(PORT)])
            time.sleep(0.5)
            assert not _from_host(m.ip)
            tracked.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert tracked.recv(12).startswith(b"HTTP/1.0")
        finally:
            tracked.close()

    def test_cidr_rules(self, cloud: Any, ec2: Any, web: tuple[Machine, str]) -> None:
        """A CIDR rule admits exactly its sources: one that does not hold the host's address
        is loaded into the instance's chain and leaves the port closed to the host; one
        that holds it (the host's /32) opens the port to the host."""
        m, gid = web
        elsewhere = _tcp(PORT, "203.0.113.0/24")
        here = _tcp(PORT, f"{_source_address(m.ip)}/32")
        chain = "in_" + m.instance_id.replace("-", "_")
        assert not _from_host(m.ip)
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[elsewhere])
        try:
            _until(lambda: f"ip saddr 203.0.113.0/24 tcp dport {PORT}" in _chain(cloud, chain))
            assert not _from_host(m.ip)
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[here])
            try:
                _until(lambda: _from_host(m.ip, timeout=0.2), "the matching rule did not open")
            finally:
                ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[here])
        finally:
            ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[elsewhere])

    def test_source_group(
        self, ec2: Any, image_id: str, key: tuple[str, Path], web: tuple[Machine, str]
    ) -> None:
        """A rule naming a group admits exactly that group's members."""
        m, gid = web
        clients = ec2.create_security_group(GroupName="fw-clients", Description="c")["GroupId"]
        member = launch(ec2, image_id, key, SecurityGroupIds=[ssh_group(ec2), clients])
        stranger = launch(ec2, image_id, key)
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[perm("tcp", PORT, group=clients)],
        )
        time.sleep(0.5)
        assert _from(member, m.ip)
        assert not _from(stranger, m.ip)
        assert not _from_host(m.ip)


class TestEgressAndIsolation:
    def test_egress_restriction_keeps_metadata(
        self, ec2: Any, image_id: str, key: tuple[str, Path]
    ) -> None:
        """Once all-egress is revoked outbound connections fail, but SSH replies and the
        metadata service still work."""
        open_gid = ec2.create_security_group(GroupName="fw-open", Description="o")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=open_gid, IpPermissions=[_tcp(PORT)])
        server = launch(ec2, image_id, key, SecurityGroupIds=[ssh_group(ec2), open_gid])
        _listen(server)
        gid = ec2.create_security_group(GroupName="fw-locked", Description="l")["GroupId"]
        client = launch(ec2, image_id, key, SecurityGroupIds=[ssh_group(ec2), gid])
        time.sleep(0.5)
        assert _from(client, server.ip)
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[perm("-1", cidr="0.0.0.0/0")])
        # the ssh group still allows all egress: make the client's only group the locked one
        ec2.modify_instance_attribute(InstanceId=client.instance_id, Groups=[gid])
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[_tcp(22)])
        time.sleep(0.5)
        assert not _from(client, server.ip)
        metadata = client.ssh("curl -s -m 3 http://169.254.169.254/latest/meta-data/instance-id")
        assert metadata == client.instance_id

    def test_root_inside_cannot_touch_the_firewall(
        self, cloud: Any, web: tuple[Machine, str]
    ) -> None:
        """The rules live on the host, outside the instance's namespaces. Root inside
        (uid 0 of the instance's user namespace, in its netns; nft itself taken from the
        host, as the image has none) can neither list nor flush nftables there, nor change
        its network over SSH with sudo; the port stays closed."""
        m, _ = web
        pid = (cloud.state_dir / "instances" / m.instance_id / "pid").read_text().strip()
        as_root_inside = ["nsenter", "-t", pid, "--user", "--net"]
        assert _run([*as_root_inside, "id", "-u"]).strip() == "0"
        for command in (["nft", "list", "ruleset"], ["nft", "flush", "ruleset"]):
            assert "Operation not permitted" in _run([*as_root_inside, *command])
        changed = m.ssh("sudo ip link add probe0 type dummy 2>&1; echo rc=$?", check=False)
        assert "Operation not permitted" in changed
        assert not _from_host(m.ip)


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


class TestRepair:
    def test_deleted_table_is_restored(self, cloud: Any, web: tuple[Machine, str]) -> None:
        """If the cloud's table is deleted behind its back, the reconciler loads it again."""
        m, _ = web
        subprocess.run(["nft", "delete", "table", "inet", f"{cloud.prefix}_fw"], check=True)
        deadline = time.monotonic() + 15
        while not listing(cloud.prefix):
            assert time.monotonic() < deadline, "the firewall was not restored"
            time.sleep(0.2)
        assert not _from_host(m.ip)

    def test_flushed_chain_is_restored(self, cloud: Any, web: tuple[Machine, str]) -> None:
        """Emptying one instance's ingress chain (which opens every port) is noticed
        and undone by the next thorough pass."""
        m, _ = web
        time.sleep(0.5)  # let the table settle, as a table nobody changes does
        chain = "in_" + m.instance_id.replace("-", "_")
        subprocess.run(["nft", "flush", "chain", "inet", f"{cloud.prefix}_fw", chain], check=True)
        assert _from_host(m.ip)  # open while flushed: the chain alone guarded it
        deadline = time.monotonic() + 15
        while _from_host(m.ip, timeout=0.3):
            assert time.monotonic() < deadline, "the chain was not restored"
            time.sleep(0.5)
