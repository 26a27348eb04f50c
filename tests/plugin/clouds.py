"""Test clouds: a live ``pocketcloud serve`` with its own state, driven by real clients.

Fixtures: ``server`` (one cloud for the session), ``cloud`` (a cloud of the module's own,
or ``server`` in a module marked ``shared_cloud``), and its admin clients ``ec2``, ``iam``
and ``sts``. Every test that uses ``server`` or ``cloud`` is ``live``.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from pocketcloud.host import routes
from pocketcloud.host.daemon import answers, listening

BIN = Path(sys.executable).parent
PROFILE = "pocketcloud-test"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``pocketcloud serve`` with its own state directory and AWS config files."""

    state_dir: Path
    port: int
    env: dict[str, str]
    prefix: str = "pc"
    cidr: str = "172.31.0.0/16"
    eip_pool: str = "198.18.0.0/24"
    access_key_id: str = ""
    secret: str = ""
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(default_factory=Path)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it answers (starts a process).

        The answer must come from this process: right after ``stop(kill=True)``, a child the
        killed server was forking can still hold its listening socket for a few ms.
        """
        self.log = self.state_dir / "test-server.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(BIN / "pocketcloud"), "serve", "--state-dir", str(self.state_dir)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            if listening(self.process.pid, self.port) and answers("127.0.0.1", self.port, 0.2):
                return
            time.sleep(0.05)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def remove(self) -> None:
        """Stop the server and delete its state directory."""
        try:
            self.stop()
        finally:
            if self.log.is_file():  # kept for a post-mortem of the last test cloud
                shutil.copy(self.log, Path(tempfile.gettempdir()) / "pocketcloud-last-server.log")
            shutil.rmtree(self.state_dir.parent, ignore_errors=True)

    def stop(self, kill: bool = False) -> None:
        """Stop the server (SIGKILL when ``kill``); a server that died shows its log."""
        if self.process is None:
            return
        if self.process.poll() is not None:
            tail = self.log.read_text()[-4000:] if self.log.exists() else ""
            self.process = None
            raise AssertionError(f"the server had died; its log ends:\n{tail}")
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=20)
        self.process = None

    def client(
        self, service: str, key: str | None = None, secret: str | None = None, **config: Any
    ) -> Any:
        """A boto3 client for this server, as the admin unless other keys are given."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key or self.access_key_id,
            aws_secret_access_key=secret or self.secret,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def aws(self, *args: str, check: bool = True) -> Any:
        """Run the AWS CLI with the test profile; JSON output parsed (runs a process)."""
        result = subprocess.run(
            [str(BIN / "aws"), "--profile", PROFILE, "--output", "json", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout) if result.stdout.strip() else None
        return result


def _draw() -> tuple[str, str, str]:
    """A random prefix, VPC CIDR and Elastic IP pool for a test cloud."""
    prefix = "t" + secrets.token_hex(2)
    cidr = f"10.{secrets.randbelow(150) + 100}.0.0/16"
    # a /24 of its own inside 198.18.0.0/15, never the default pool (198.18.0.0/24)
    block = secrets.randbelow(511) + 1
    return prefix, cidr, f"198.{18 + block // 256}.{block % 256}.0/24"


def taken(prefix: str, cidr: str, eip_pool: str) -> str:
    """What of this host a new cloud would share, or "" (runs ``ip route`` and ``nft list
    tables``): a route overlapping its VPC or pool (another cloud's VPC, pool or instance,
    or the host's own network), or a table of its prefix. Two clouds with one CIDR both
    route their first instance's address to their own veth, and the later launch wins."""
    mine = [ipaddress.ip_network(cidr), ipaddress.ip_network(eip_pool)]
    for route in routes.main_routes():
        network = ipaddress.ip_network(route.destination, strict=False)
        if any(network.overlaps(block) for block in mine):
            return f"route {route.destination} overlaps {cidr} or {eip_pool}"
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False)
    if f" {prefix}_" in tables.stdout:
        return f"prefix {prefix} is in use"
    return ""


def _clear_draw(tries: int = 20) -> tuple[str, str, str]:
    """A draw clear of every route and nft table on this host now."""
    why = ""
    for _ in range(tries):
        drawn = _draw()
        why = taken(*drawn)
        if not why:
            return drawn
    raise RuntimeError(f"no test cloud clear of this host's in {tries} draws; the last: {why}")


def make_server(tmp: Path, *, nat: bool = False) -> Server:
    """Initialize a cloud in ``tmp`` (runs ``pocketcloud init``); not yet started.

    Each test cloud has its own port, host-object prefix, VPC CIDR and Elastic IP pool,
    drawn clear of every route and nft table on the host, so it can run beside a
    developer's cloud and beside other test clouds. Outbound NAT is off unless
    asked for: no test traffic may leave this machine.
    """
    port = free_port()
    # instances' root (host uid 100000) must traverse to the state directory: pytest's
    # temporary directories are private, so the state lives under /var/tmp
    state = Path(tempfile.mkdtemp(prefix="pocketcloud-test-", dir="/var/tmp")) / "state"
    state.parent.chmod(0o711)
    prefix, cidr, eip_pool = _clear_draw()
    env = dict(os.environ)
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp / "aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws" / "credentials"),
            "POCKETCLOUD_HOME": str(state),
            "HOME": str(tmp),
        }
    )
    for name in (
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
    ):
        env.pop(name, None)
    subprocess.run(
        [
            str(BIN / "pocketcloud"),
            "init",
            "--port",
            str(port),
            "--profile",
            PROFILE,
            "--imds-port",
            str(free_port()),
            "--vpc-cidr",
            cidr,
            "--prefix",
            prefix,
            "--nat" if nat else "--no-nat",
            "--eip-pool",
            eip_pool,
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    creds = configparser.RawConfigParser()
    creds.read(tmp / "aws" / "credentials")
    server = Server(state, port, env, prefix=prefix, cidr=cidr, eip_pool=eip_pool)
    server.access_key_id = creds.get(PROFILE, "aws_access_key_id")
    server.secret = creds.get(PROFILE, "aws_secret_access_key")
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One live server for the whole session."""
    srv = make_server(tmp_path_factory.mktemp("cloud"))
    yield from running(srv)


def running(srv: Server) -> Iterator[Server]:
    """``srv`` started for the fixture's life, then removed — also when it fails to start
    (its state directory, in /var/tmp, would outlive the session)."""
    try:
        srv.start()
        yield srv
    finally:
        srv.remove()


@pytest.fixture(scope="module")
def cloud(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The module's cloud: its own (its own prefix, subnet and state, so what the module counts
    and changes is its own); the session's ``server`` if the module is marked ``shared_cloud``."""
    if request.node.get_closest_marker("shared_cloud") is not None:
        yield request.getfixturevalue("server")
        return
    srv = make_server(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    yield from running(srv)


@pytest.fixture(scope="module")
def ec2(cloud: Server) -> Any:
    """An admin EC2 client of the module's cloud."""
    return cloud.client("ec2")


@pytest.fixture(scope="module")
def iam(cloud: Server) -> Any:
    """An admin IAM client of the module's cloud."""
    return cloud.client("iam")


@pytest.fixture(scope="module")
def sts(cloud: Server) -> Any:
    """An admin STS client of the module's cloud."""
    return cloud.client("sts")
