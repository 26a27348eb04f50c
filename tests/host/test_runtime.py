"""Real instances started by ``pocketcloud.host.runtime``: SSH, user-data, disks, isolation,
networking, limits, stopping and crash cleanup. Root only.

The image is the machine's debian-12 (the ``debian_image`` fixture), or the tree named by
``POCKETCLOUD_TEST_ROOTFS``: a Debian bookworm tree whose files are
owned by uid/gid + 100000, with sshd, python3, sudo and a login user ``admin`` (passwordless
sudo, password field ``*``) and no ssh host keys. Objects carry the prefix ``pcrt``;
addresses are in 10.250.0.0/24. Each test's teardown destroys what it started and fails if
any host object of the prefix is left.

One way to build such a tree (root; ``apt-get install debootstrap uidmap``; MIRROR is the
``URIs:`` of /etc/apt/sources.list.d/debian.sources)::

    debootstrap --variant=minbase --include=openssh-server,sudo,python3,iproute2,procps \
        bookworm /tmp/rt-image "$MIRROR"
    chroot /tmp/rt-image useradd -m -u 1000 -s /bin/bash admin
    chroot /tmp/rt-image usermod -p '*' admin    # not '!': sshd (UsePAM no) refuses locked users
    echo 'admin ALL=(ALL) NOPASSWD:ALL' > /tmp/rt-image/etc/sudoers.d/90-admin
    rm /tmp/rt-image/etc/ssh/ssh_host_*
    # sshd_config.d: UsePAM no, PasswordAuthentication no; then every file's uid/gid += 100000
    # (lchown, then chmod again: chown clears setuid bits)
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from pocketcloud.host import cgroups, runtime
from pocketcloud.host.images import Image
from pocketcloud.host.run import HostError, output
from pocketcloud.host.run import run as host_run
from pocketcloud.host.runtime import InstanceSpec
from tests.plugin.instances import wait_for_banner

PREFIX = "pcrt"
pytestmark = [pytest.mark.live, pytest.mark.needs_root]


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a no-argument callable until it returns true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@dataclass
class Lab:
    """Instances of one test: specs in a private base directory, SSH with a pinned host key."""

    base: Path
    key: Path
    rootfs: Path
    specs: list[InstanceSpec] = field(default_factory=list)

    def spec(self, n: int, **changes: object) -> InstanceSpec:
        """The n-th instance's spec (10.250.0.10+n); remembered for teardown."""
        instance_id = f"i-0{n:016x}"
        address = f"10.250.0.{10 + n}"
        spec = InstanceSpec(
            instance_id=instance_id,
            prefix=PREFIX,
            workdir=self.base / "instances" / instance_id,
            rootfs=self.rootfs,
            private_ip=address,
            prefix_len=24,
            hostname="ip-" + address.replace(".", "-"),
            login_user="admin",
            authorized_key=self.key.with_suffix(".pub").read_text(),
            user_data=None,
            memory_bytes=256 << 20,
            cpus=1.0,
            pids_max=256,
        )
        spec = replace(spec, **changes)  # type: ignore[arg-type]
        self.specs.append(spec)
        return spec

    def ssh(self, spec: InstanceSpec, command: str, check: bool = True) -> str:
        """Run a command as admin over OpenSSH, the host key pinned to the instance's own."""
        known = self.base / f"known_hosts-{spec.instance_id}"
        known.write_text(f"{spec.private_ip} {runtime.host_public_key(spec)}\n")
        options = ["BatchMode=yes", "ConnectTimeout=5", "LogLevel=ERROR"]
        options += ["StrictHostKeyChecking=yes", f"UserKnownHostsFile={known}"]
        flags = [arg for option in options for arg in ("-o", option)]
        result = subprocess.run(
            ["ssh", "-i", str(self.key), *flags, f"admin@{spec.private_ip}", command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check:
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        return result.stdout + result.stderr if not check else result.stdout


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ed25519 key pair made with ssh-keygen for this module."""
    key = tmp_path_factory.mktemp("keys") / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30
    )
    return key


@pytest.fixture(scope="module")
def rootfs(debian_image: Image) -> Path:
    """The tree instances boot: ``$POCKETCLOUD_TEST_ROOTFS`` if set, else debian-12's."""
    return Path(os.environ.get("POCKETCLOUD_TEST_ROOTFS") or debian_image.rootfs)


@pytest.fixture
def lab(ssh_key: Path, rootfs: Path) -> Iterator[Lab]:
    """A base directory uid 100000 can traverse; teardown destroys every instance and
    asserts that nothing of the prefix is left on the host."""
    base = Path(tempfile.mkdtemp(prefix="pcrt-"))
    base.chmod(0o711)
    made = Lab(base, ssh_key, rootfs)
    yield made
    for spec in made.specs:
        runtime.destroy(spec)
    left = runtime.host_objects(PREFIX)
    if not left.empty():
        runtime.remove_host_objects(PREFIX, set())
    shutil.rmtree(base, ignore_errors=True)
    assert left.empty(), left.describe()


def report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    """Print a measurement to the terminal even when output is captured."""
    with capsys.disabled():
        sys.stdout.write(f"\n[runtime] {text}\n")


class TestStart:
    def test_ssh_banner_within_two_seconds(
        self, lab: Lab, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """From the start call to an SSH banner on private_ip:22 takes under 2 s (10 starts)."""
        spec = lab.spec(1)
        times = []
        for _ in range(10):
            begin = time.monotonic()
            runtime.start(spec)
            wait_for_banner(spec.private_ip, timeout=5)
            times.append(time.monotonic() - begin)
            runtime.stop(spec)
        report(capsys, f"start→banner p50 {statistics.median(times):.3f} s, max {max(times):.3f} s")
        assert max(times) < 2.0

    def test_sudo_id_is_root(self, lab: Lab) -> None:
        """The login user logs in with the key and sudo gives uid 0."""
        spec = lab.spec(1)
        runtime.start(spec)
        assert "uid=0(root)" in lab.ssh(spec, "sudo id")
        assert lab.ssh(spec, "id -un").strip() == "admin"

    def test_hostname(self, lab: Lab) -> None:
        """The hostname is ip-a-b-c-d and /etc/hosts resolves it (sudo needs that)."""
        spec = lab.spec(2)
        runtime.start(spec)
        assert lab.ssh(spec, "hostname").strip() == "ip-10-250-0-12"
        assert "10.250.0.12 ip-10-250-0-12" in lab.ssh(spec, "cat /etc/hosts")

    def test_console_log_reads_like_a_boot_log(self, lab: Lab) -> None:
        """console.log has init's boot lines, sshd's own output and the host key block."""
        spec = lab.spec(1)
        runtime.start(spec)
        wait_for_banner(spec.private_ip)
        text = runtime.console_output(spec.workdir).decode()
        for line in ("pocketcloud-init: mounted root", "pivot_root done", "sshd started"):
            assert line in text
        assert f"BEGIN SSH HOST KEY KEYS-----\n{runtime.host_public_key(spec)}" in text
        wait_for(
            lambda: (
                "Server listening on 0.0.0.0 port 22"
                in runtime.console_output(spec.workdir).decode()
            )
        )

    def test_idle_footprint(self, lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
        """An idle instance is three processes (unshare, init, sshd) using little memory."""
        spec = lab.spec(1)
        runtime.start(spec)
        wait_for_banner(spec.private_ip)
        time.sleep(0.5)
        pids = cgroups.procs(runtime.names(spec).cgroup)
        rss = sum(_rss_kib(pid) for pid in pids)
        usage = int(
            Path(
                cgroups.ROOT, "memory", runtime.names(spec).cgroup, "memory.usage_in_bytes"
            ).read_text()
        )
        report(
            capsys,
            f"idle: {len(pids)} processes, RSS {rss / 1024:.1f} MiB, memcg {usage / 2**20:.1f} MiB",
        )
        assert len(pids) == 3
        assert rss < 64 * 1024

    def test_start_twice_is_refused(self, lab: Lab) -> None:
        """Starting a running instance raises HostError and leaves it running."""
        spec = lab.spec(1)
        runtime.start(spec)
        with pytest.raises(HostError, match="already running"):
            runtime.start(spec)
        assert runtime.is_running(spec)

    def test_boot_failure_is_reported_and_cleaned_up(self, lab: Lab) -> None:
        """A boot that fails inside (unknown login user) raises HostError with the console
        tail, and leaves no host object behind."""
        spec = lab.spec(1, login_user="nobody-here")
        with pytest.raises(HostError, match="nobody-here"):
            runtime.start(spec)
        assert not runtime.is_running(spec)
        assert runtime.host_objects(PREFIX).empty()

    def test_host_key_cut_short_by_a_crash_is_made_again(self, lab: Lab) -> None:
        """A control plane killed while writing the ssh host key (the private key file
        created, still empty and host-owned, no .pub yet) does not leave the instance
        without sshd: the next start makes a whole key pair and SSH works."""
        spec = lab.spec(1)
        ssh = spec.workdir / "upper" / "etc" / "ssh"
        ssh.mkdir(parents=True)
        for directory in (ssh.parent, ssh):
            os.chown(directory, runtime.SHIFT, runtime.SHIFT)
        (ssh / "ssh_host_ed25519_key").touch(mode=0o600)
        runtime.start(spec)
        assert runtime.host_public_key(spec)
        assert lab.ssh(spec, "echo up") == "up\n"

    def test_subordinate_ids_are_configured(self, lab: Lab) -> None:
        """After a start, /etc/subuid and /etc/subgid give root 100000:65536."""
        runtime.start(lab.spec(1))
        for path in ("/etc/subuid", "/etc/subgid"):
            assert "root:100000:65536" in Path(path).read_text().splitlines()


class TestUserData:
    def test_runs_once_across_restarts(self, lab: Lab) -> None:
        """A shebang user-data script runs as root at first boot, and not after stop/start."""
        script = b"#!/bin/sh\nid -u >> /srv/user-data-runs\necho user-data says hi\n"
        spec = lab.spec(1, user_data=script)
        runtime.start(spec)

        def console() -> str:
            return runtime.console_output(spec.workdir).decode()

        wait_for(lambda: "user-data exit 0" in console())
        assert "user-data says hi" in console()
        runtime.stop(spec)
        runtime.start(spec)
        wait_for_banner(spec.private_ip)
        assert lab.ssh(spec, "cat /srv/user-data-runs") == "0\n"
        assert "user-data: already ran" in console()

    def test_script_without_shebang_runs_with_sh(self, lab: Lab) -> None:
        """User-data without ``#!`` is run by /bin/sh."""
        spec = lab.spec(1, user_data=b"echo plain > /srv/plain\n")
        runtime.start(spec)
        wait_for(lambda: b"user-data exit 0" in runtime.console_output(spec.workdir))
        assert lab.ssh(spec, "cat /srv/plain") == "plain\n"


class TestDisk:
    def test_srv_survives_stop_start_and_not_destroy(self, lab: Lab) -> None:
        """A file written in /srv survives stop/start (as uid 100000 in the upper layer) and
        is gone after destroy."""
        spec = lab.spec(1)
        runtime.start(spec)
        lab.ssh(spec, "echo kept | sudo tee /srv/kept")
        runtime.stop(spec)
        assert (spec.workdir / "upper" / "srv" / "kept").stat().st_uid == 100000
        runtime.start(spec)
        assert lab.ssh(spec, "cat /srv/kept") == "kept\n"
        runtime.destroy(spec)
        assert not spec.workdir.exists()
        runtime.start(spec)
        assert "No such file" in lab.ssh(spec, "cat /srv/kept", check=False)


class TestIsolation:
    def test_host_paths_are_not_visible(self, lab: Lab) -> None:
        """Root inside sees neither the workdir's parent nor a writable /sys."""
        spec = lab.spec(1)
        runtime.start(spec)
        assert "No such file" in lab.ssh(spec, f"sudo ls {lab.base}", check=False)
        assert "Read-only" in lab.ssh(spec, "sudo touch /sys/kernel/pcrt", check=False)
        assert not (lab.base / "pcrt").exists()

    def test_root_inside_is_uid_100000_outside(self, lab: Lab) -> None:
        """Inside, uid 0 maps to host uid 100000 and creating device nodes is refused."""
        spec = lab.spec(1)
        runtime.start(spec)
        assert lab.ssh(spec, "cat /proc/self/uid_map").split() == ["0", "100000", "65536"]
        assert "Operation not permitted" in lab.ssh(spec, "sudo mknod /tmp/mem c 1 1", check=False)


class TestNetwork:
    def test_two_instances_reach_each_other(self, lab: Lab) -> None:
        """One instance reaches the other's sshd by private IP (through the host's routes)."""
        first, second = lab.spec(1), lab.spec(2)
        runtime.start(first)
        runtime.start(second)
        probe = (
            "python3 -c 'import socket,sys; s=socket.create_connection((sys.argv[1], 22), 3);"
            " print(s.recv(64).decode().strip())' "
        )
        assert lab.ssh(first, probe + second.private_ip).startswith("SSH-2.0-")
        assert lab.ssh(second, probe + first.private_ip).startswith("SSH-2.0-")

    def test_instance_traffic_cannot_leave_the_host(self, lab: Lab) -> None:
        """The host routes an instance's packets to other instances only: a route lookup
        (no packet sent) for an outside address from its veth is unreachable."""
        first, second = lab.spec(1), lab.spec(2)
        runtime.start(first)
        runtime.start(second)
        veth = runtime.names(first).veth
        lookup = ["ip", "route", "get", second.private_ip, "from", first.private_ip, "iif", veth]
        assert runtime.names(second).veth in output(lookup)
        with pytest.raises(HostError, match="unreachable"):
            host_run(["ip", "route", "get", "198.51.100.7", "from", first.private_ip, "iif", veth])


class TestLimits:
    def test_cgroup_limits_are_written(self, lab: Lab) -> None:
        """Memory, CPU quota and pids.max land in the v1 controllers."""
        spec = lab.spec(1, memory_bytes=200 << 20, cpus=0.5, pids_max=99)
        runtime.start(spec)
        rel = runtime.names(spec).cgroup

        def read(ctrl: str, name: str) -> str:
            return Path(cgroups.ROOT, ctrl, rel, name).read_text().strip()

        assert read("memory", "memory.limit_in_bytes") == str(200 << 20)
        assert read("cpu", "cpu.cfs_quota_us") == "50000"
        assert read("pids", "pids.max") == "99"

    def test_memory_hog_is_oom_killed_and_sshd_survives(self, lab: Lab) -> None:
        """A process allocating past the limit is OOM-killed inside; sshd keeps answering."""
        spec = lab.spec(1, memory_bytes=160 << 20)
        runtime.start(spec)
        hog = "python3 -c 'b = []\nwhile True: b.append(bytearray(8 << 20))'; echo exit=$?"
        assert "exit=137" in lab.ssh(spec, hog, check=False)
        assert cgroups.oom_kills(runtime.names(spec).cgroup) >= 1
        assert lab.ssh(spec, "echo alive") == "alive\n"


class TestStop:
    def test_stop_is_graceful(self, lab: Lab) -> None:
        """stop() lets init terminate sshd and sync; the instance's objects are gone."""
        spec = lab.spec(1)
        runtime.start(spec)
        runtime.stop(spec)
        text = runtime.console_output(spec.workdir).decode()
        assert "shutting down" in text
        assert "pocketcloud-init: stopped" in text
        assert not runtime.is_running(spec)
        assert runtime.host_objects(PREFIX).empty()

    def test_stop_kills_an_init_that_does_not_stop(self, lab: Lab) -> None:
        """An init that ignores SIGTERM (here: stopped with SIGSTOP) is SIGKILLed after the
        timeout, and everything is still cleaned up."""
        spec = lab.spec(1)
        pid = runtime.start(spec)
        os.kill(pid, signal.SIGSTOP)
        begin = time.monotonic()
        runtime.stop(spec, timeout=0.5)
        assert 0.5 <= time.monotonic() - begin < 5
        assert not runtime.is_running(spec)
        assert runtime.host_objects(PREFIX).empty()

    def test_sshd_is_restarted_when_it_dies(self, lab: Lab) -> None:
        """Killing sshd from the host: init starts a new one and SSH answers again."""
        spec = lab.spec(1)
        runtime.start(spec)
        wait_for_banner(spec.private_ip)
        sshd = [  # the listener, not a per-connection child left by the banner check
            p
            for p in cgroups.procs(runtime.names(spec).cgroup)
            if "[listener]" in " ".join(cgroups.cmdline(p))  # sshd's own title for it
        ]
        assert len(sshd) == 1, sshd
        os.kill(sshd[0], signal.SIGKILL)
        wait_for_banner(spec.private_ip, timeout=5)
        wait_for(lambda: "restarting" in runtime.console_output(spec.workdir).decode(), 5)
        assert lab.ssh(spec, "echo back") == "back\n"


class TestRemoveHostObjects:
    def test_cleans_up_after_a_killed_init(self, lab: Lab) -> None:
        """After SIGKILL to init (a crash), netns, veth, rules and cgroups remain until
        remove_host_objects removes them all."""
        spec = lab.spec(1)
        pid = runtime.start(spec)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not cgroups.alive(pid))
        left = runtime.host_objects(PREFIX)
        assert left.netns == (runtime.names(spec).netns,)
        assert left.instance_ids() == {spec.instance_id}
        removed = runtime.remove_host_objects(PREFIX, set())
        assert f"netns {runtime.names(spec).netns}" in removed
        assert runtime.host_objects(PREFIX).empty()

    def test_keeps_the_instances_it_is_told_to(self, lab: Lab) -> None:
        """Only instances outside ``keep`` lose their processes and objects."""
        kept, dropped = lab.spec(1), lab.spec(2)
        runtime.start(kept)
        runtime.start(dropped)
        removed = runtime.remove_host_objects(PREFIX, {kept.instance_id})
        assert any(runtime.names(dropped).netns in line for line in removed)
        assert not runtime.is_running(dropped)
        assert runtime.host_objects(PREFIX).instance_ids() == {kept.instance_id}
        assert lab.ssh(kept, "echo still") == "still\n"


def _rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
