"""The pocketcloud command: init writes a profile, up/status/down manage the daemon."""

from __future__ import annotations

import configparser
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pocketcloud.config import DEFAULT_HOME
from pocketcloud.host import daemon
from tests.plugin.clouds import BIN, free_port

pytestmark = pytest.mark.live


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp / "aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws" / "credentials"),
            "POCKETCLOUD_HOME": str(tmp / "state"),
        }
    )
    return env


def _own() -> list[str]:
    """A prefix and VPC of the test's own, so `down` never touches a developer's cloud."""
    return [
        "--prefix",
        "t" + secrets.token_hex(2),
        "--no-nat",
        "--vpc-cidr",
        f"10.{secrets.randbelow(150) + 100}.0.0/16",
        "--imds-port",
        str(free_port()),
    ]


def _run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pocketcloud"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


class TestInit:
    def test_profile_added_without_touching_others(self, tmp_path: Path) -> None:
        """init adds the pocketcloud profile and leaves other profiles as they were."""
        aws = tmp_path / "aws"
        aws.mkdir()
        (aws / "config").write_text("[profile work]\nregion = eu-west-1\n")
        (aws / "credentials").write_text(
            "[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = worksecret\n"
        )
        env = _env(tmp_path)
        _run(env, "init", *_own(), "--port", str(free_port()))
        config = configparser.RawConfigParser()
        config.read(aws / "config")
        assert config.get("profile work", "region") == "eu-west-1"
        assert config.get("profile pocketcloud", "endpoint_url").startswith("http://127.0.0.1:")
        creds = configparser.RawConfigParser()
        creds.read(aws / "credentials")
        assert creds.get("work", "aws_secret_access_key") == "worksecret"
        assert creds.get("pocketcloud", "aws_access_key_id").startswith("AKIA")
        assert (tmp_path / "state" / "pocketcloud.db").exists()

    def test_init_twice_keeps_the_account(self, tmp_path: Path) -> None:
        """A second init changes nothing and says so."""
        env = _env(tmp_path)
        _run(env, "init", *_own(), "--port", str(free_port()))
        before = (tmp_path / "aws" / "credentials").read_text()
        again = _run(env, "init")
        assert "already initialized" in again.stdout
        assert (tmp_path / "aws" / "credentials").read_text() == before


class TestDaemon:
    def test_up_status_down(self, tmp_path: Path) -> None:
        """up returns once the API answers; boto3 with the profile works; down stops it."""
        env = _env(tmp_path)
        state = str(tmp_path / "state")
        _run(env, "init", *_own(), "--state-dir", state, "--port", str(free_port()))
        try:
            up = _run(env, "up", "--state-dir", state)
            assert "is up" in up.stdout
            assert "running" in _run(env, "status", "--state-dir", state).stdout
            script = (
                "import boto3; s = boto3.Session(profile_name='pocketcloud'); "
                "print(s.client('sts').get_caller_identity()['Arn'])"
            )
            me = subprocess.run(
                [str(BIN / "python"), "-c", script],
                env=env,
                text=True,
                capture_output=True,
                timeout=60,
                check=True,
            )
            assert me.stdout.strip().endswith(":user/admin")
            assert "already running" in _run(env, "up", "--state-dir", state).stdout
        finally:
            down = _run(env, "down", "--state-dir", state)
        assert "stopped" in down.stdout
        stopped = _run(env, "status", "--state-dir", state, check=False)
        assert stopped.returncode == 3
        assert "stopped" in stopped.stdout

    def test_up_is_not_fooled_by_another_listener(self, tmp_path: Path) -> None:
        """A port that answers is not a server that is up: with the port held by another
        process (as a child of a server killed mid-fork holds its socket until it execs),
        up reports the failed start instead of "is up"."""
        env = _env(tmp_path)
        state = str(tmp_path / "state")
        port = free_port()
        _run(env, "init", *_own(), "--state-dir", state, "--port", str(port))
        with socket.socket() as other:
            other.bind(("127.0.0.1", port))
            other.listen()
            try:
                up = _run(env, "up", "--state-dir", state, check=False)
            finally:
                _run(env, "down", "--state-dir", state)
        assert up.returncode == 1, up.stdout
        assert "is up" not in up.stdout
        assert f"✗ API port 127.0.0.1:{port} is taken" in up.stdout  # said before it starts


def _killed(state: str) -> int:
    """SIGKILL the running server of ``state``; its pid, once it is dead (a zombie or gone)."""
    pid = int((Path(state) / "pocketcloud.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while daemon.liveness(Path(state) / "pocketcloud.pid").running:
        assert time.monotonic() < deadline, "the killed server still looks alive"
        time.sleep(0.02)
    return pid


class TestAfterKill:
    def test_status_after_kill_9_says_stopped(self, tmp_path: Path) -> None:
        """After `kill -9` of the server (its pidfile left behind, the process a zombie
        nobody reaps), status says stopped, names the dead pid and exits 3."""
        env = _env(tmp_path)
        state = str(tmp_path / "state")
        _run(env, "init", *_own(), "--state-dir", state, "--port", str(free_port()))
        try:
            _run(env, "up", "--state-dir", state)
            pid = _killed(state)
            status = _run(env, "status", "--state-dir", state, check=False)
            assert status.returncode == 3, status.stdout
            assert "pocketcloud is stopped" in status.stdout
            assert f"the last server is gone (pid {pid}" in status.stdout
        finally:
            down = _run(env, "down", "--state-dir", state)
        assert f"pocketcloud is not running (the last server is gone: pid {pid}" in down.stdout
        after = _run(env, "status", "--state-dir", state, check=False)
        assert after.returncode == 3
        assert "gone" not in after.stdout  # down forgot the stale pidfile

    def test_up_after_kill_9_starts_a_new_server(self, tmp_path: Path) -> None:
        """`up` right after `kill -9` of the server says the old one is gone and starts a
        new one that answers, instead of "already running"."""
        env = _env(tmp_path)
        state = str(tmp_path / "state")
        port = free_port()
        _run(env, "init", *_own(), "--state-dir", state, "--port", str(port))
        try:
            _run(env, "up", "--state-dir", state)
            old = _killed(state)
            up = _run(env, "up", "--state-dir", state)
            assert "already running" not in up.stdout
            assert f"the last server is gone (pid {old}" in up.stdout
            new = int((Path(state) / "pocketcloud.pid").read_text())
            assert new != old
            assert f"is up (pid {new})" in up.stdout
            assert daemon.answers("127.0.0.1", port)
            status = _run(env, "status", "--state-dir", state)
            assert f"running (pid {new})" in status.stdout
        finally:
            _run(env, "down", "--state-dir", state)


class TestLiveness:
    """daemon.judge: the pure decision whether a recorded pid is this cloud's server."""

    ROOT = Path("/var/lib/pc-test")
    SERVE = ("/venv/bin/python", "/venv/bin/pocketcloud", "serve", "--state-dir", str(ROOT))

    def test_running_server(self) -> None:
        """A sleeping `pocketcloud serve --state-dir ROOT` is ROOT's running server."""
        assert daemon.judge(7, "S", self.SERVE, None, "/", self.ROOT).running

    def test_zombie_and_dead(self) -> None:
        """A zombie or dead process is no server, though `kill -0` still finds a zombie."""
        for state, reason in (("Z", "pid 7 died, a zombie now"), ("X", "pid 7 died")):
            judged = daemon.judge(7, state, self.SERVE, None, "/", self.ROOT)
            assert not judged.running
            assert judged.reason == reason

    def test_gone(self) -> None:
        """No /proc entry: gone."""
        assert daemon.judge(7, None, [], None, "/", self.ROOT).reason == "pid 7 is gone"

    def test_reused_pid(self) -> None:
        """The pid now names another program: not the server."""
        judged = daemon.judge(7, "S", ["/usr/sbin/sshd", "-D"], None, "/", self.ROOT)
        assert not judged.running
        assert "not a pocketcloud server" in judged.reason

    def test_other_state_dir(self) -> None:
        """A server of another cloud is not this cloud's server."""
        other = [*self.SERVE[:-1], "/var/lib/other"]
        judged = daemon.judge(7, "R", other, None, "/", self.ROOT)
        assert not judged.running
        assert judged.reason == "pid 7 serves another state directory"

    def test_state_dir_from_environment_or_default(self) -> None:
        """Without --state-dir the server's POCKETCLOUD_HOME counts, else the default; a
        relative --state-dir is taken from the server's working directory; `-m` works."""
        module = ["python3", "-m", "pocketcloud", "serve"]
        assert daemon.judge(7, "S", module, str(self.ROOT), "/", self.ROOT).running
        assert daemon.judge(7, "S", module, None, "/", DEFAULT_HOME).running
        assert not daemon.judge(7, "S", module, None, "/", self.ROOT).running
        relative = [*module, "--state-dir=pc-test"]
        assert daemon.judge(7, "S", relative, None, "/var/lib", self.ROOT).running
