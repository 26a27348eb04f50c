"""pocketcloud doctor: each missing prerequisite is one line naming it and its fix.

A machine without a tool is simulated by PATH: a directory of symlinks to every tool
pocketcloud needs except the one under test; a bad state directory by its mode and owner.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import botocore.exceptions
import pytest

from pocketcloud.cli.main import expected_failure
from pocketcloud.doctor import checks
from pocketcloud.doctor.checks import TOOLS
from pocketcloud.errors import ClientError
from pocketcloud.host.cgroups import CONTROLLERS
from pocketcloud.host.run import HostError, run
from tests.plugin.clouds import BIN, Server, make_server

NEEDED = [tool.name for tool in TOOLS] + ["debootstrap"]
PACKAGES = {tool.name: tool.package for tool in TOOLS} | {"debootstrap": "debootstrap"}


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Server]:
    """An initialized test cloud of the test's own, not started."""
    server = make_server(tmp_path)
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:  # not server.remove(): a server never started has no log to keep
            shutil.rmtree(server.state_dir.parent, ignore_errors=True)


def _path_without(missing: str | None, where: Path) -> str:
    """A PATH holding every needed tool (as a symlink) except ``missing``."""
    where.mkdir(exist_ok=True)
    for name in NEEDED:
        found = shutil.which(name)
        assert found, f"this machine lacks {name}"
        if name != missing:
            (where / name).symlink_to(found)
    return str(where)


def _pocketcloud(
    server: Server, *args: str, path: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the pocketcloud command against the test cloud (its state dir by the env)."""
    full = dict(server.env, **env)
    if path is not None:
        full["PATH"] = path
    return subprocess.run(
        [str(BIN / "pocketcloud"), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The doctor's failure and warning lines."""
    return [line for line in result.stdout.splitlines() if line.startswith(("✗", "!"))]


class TestDoctor:
    def test_all_green_on_this_machine(self, cloud: Server) -> None:
        """On this machine, with a test cloud's state directory, every check passes: exit 0."""
        result = _pocketcloud(cloud, "doctor")
        assert result.returncode == 0, result.stdout + result.stderr
        assert _failures(result) == []
        assert "ready for pocketcloud" in result.stdout
        assert "✓ nft" in result.stdout
        assert f"{cloud.state_dir} has mode 0711" in result.stdout

    @pytest.mark.parametrize("tool", [tool.name for tool in TOOLS])
    def test_missing_tool(self, cloud: Server, tool: str, tmp_path: Path) -> None:
        """Without one tool on the PATH, doctor prints one line naming it, why it matters
        and its fix, and exits non-zero. The tool is in fact installed on this machine, so
        the fix puts its folder on the PATH first, then names the package."""
        result = _pocketcloud(cloud, "doctor", path=_path_without(tool, tmp_path / "bin"))
        assert result.returncode == 1, result.stdout
        folder = Path(shutil.which(tool) or "").parent
        assert _failures(result) == [
            f"✗ {tool} not found on the PATH — {_why(tool)}. Fix: "
            f'export PATH="$PATH:{folder}" ({folder / tool} is installed, off the PATH; '
            f"`su -` sets a full PATH) — else apt-get install {PACKAGES[tool]}"
        ]
        assert "Traceback" not in result.stdout + result.stderr

    def test_debootstrap_where_the_image_build_looks(self, cloud: Server, tmp_path: Path) -> None:
        """debootstrap off the PATH is still found where the image build looks for it
        (/usr/sbin): no failure, as no image build would fail (the case of a machine
        without it at all: TestChecks)."""
        path = _path_without("debootstrap", tmp_path / "bin")
        empty_cache = tmp_path / "images"
        empty_cache.mkdir()
        result = _pocketcloud(cloud, "doctor", path=path, POCKETCLOUD_IMAGE_CACHE=str(empty_cache))
        assert result.returncode == 0, result.stdout
        assert f"✓ debootstrap ({shutil.which('debootstrap')})" in result.stdout

    def test_state_dir_mode(self, cloud: Server) -> None:
        """A state directory of mode 0700 is one line with the chmod that fixes it."""
        cloud.state_dir.chmod(0o700)
        result = _pocketcloud(cloud, "doctor")
        assert result.returncode == 1
        (line,) = _failures(result)
        assert line.startswith(f"✗ {cloud.state_dir} has mode 0700, 0711 needed")
        assert line.endswith(f"Fix: chmod 711 {cloud.state_dir}")

    def test_state_dir_owner(self, cloud: Server) -> None:
        """A state directory owned by another user is one line with the chown that fixes it."""
        os.chown(cloud.state_dir, 1000, 1000)
        result = _pocketcloud(cloud, "doctor")
        assert result.returncode == 1
        (line,) = _failures(result)
        assert line.startswith(f"✗ {cloud.state_dir} is owned by uid 1000, not root")
        assert line.endswith(f"Fix: chown root:root {cloud.state_dir}")

    def test_state_dir_unreachable(self, cloud: Server) -> None:
        """A parent directory uid 100000 cannot traverse is named, with its chmod."""
        parent = cloud.state_dir.parent
        parent.chmod(0o700)
        result = _pocketcloud(cloud, "doctor")
        assert result.returncode == 1
        (line,) = _failures(result)
        assert line.startswith(f"✗ {parent} (mode 0700) keeps uid 100000 from reaching")
        assert f"Fix: chmod o+x {parent}" in line

    def test_port_taken(self, cloud: Server) -> None:
        """The API port held by another process is one line naming the port and how to
        find its holder."""
        with socket.socket() as other:
            other.bind(("127.0.0.1", cloud.port))
            other.listen()
            result = _pocketcloud(cloud, "doctor")
        assert result.returncode == 1
        (line,) = _failures(result)
        assert line.startswith(f"✗ API port 127.0.0.1:{cloud.port} is taken (Address already in")
        assert f"ss -ltnp 'sport = :{cloud.port}'" in line

    def test_ports_held_by_this_cloud(self, cloud: Server) -> None:
        """While the cloud runs, its own ports are fine: held by this cloud's server."""
        cloud.start()
        assert cloud.process is not None
        result = _pocketcloud(cloud, "doctor")
        assert result.returncode == 0, result.stdout
        assert f"this cloud (pid {cloud.process.pid})" in result.stdout


class TestBeforeStart:
    def test_up_without_nft(self, cloud: Server, tmp_path: Path) -> None:
        """`up` on a machine without nft prints the finding, starts nothing, no traceback."""
        result = _pocketcloud(cloud, "up", path=_path_without("nft", tmp_path / "bin"))
        assert result.returncode == 1
        (line,) = _failures(result)
        assert line.startswith(f"✗ nft not found on the PATH — {_why('nft')}. Fix: ")
        assert line.endswith("apt-get install nftables")
        assert "Traceback" not in result.stdout + result.stderr
        assert not (cloud.state_dir / "pocketcloud.pid").exists()

    def test_serve_without_nft(self, cloud: Server, tmp_path: Path) -> None:
        """`serve` checks too: the same one line, exit 1."""
        result = _pocketcloud(cloud, "serve", path=_path_without("nft", tmp_path / "bin"))
        assert result.returncode == 1
        assert "✗ nft not found on the PATH" in result.stdout
        assert "apt-get install nftables" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr

    def test_up_warns_but_starts_without_rsync(self, cloud: Server, tmp_path: Path) -> None:
        """A tool only clients need (rsync) is a warning at `up`; the server starts."""
        path = _path_without("rsync", tmp_path / "bin")
        result = _pocketcloud(cloud, "up", path=path)
        try:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "! rsync not found on the PATH" in result.stdout
            assert "is up" in result.stdout
        finally:
            _pocketcloud(cloud, "down", path=path)


class TestNoTraceback:
    def test_host_command_missing(self, cloud: Server, tmp_path: Path) -> None:
        """`down` on a machine without nft: one line naming nft and its package, exit 1."""
        result = _pocketcloud(cloud, "down", path=_path_without("nft", tmp_path / "bin"))
        assert result.returncode == 1
        assert "Traceback" not in result.stdout + result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith('nft not found on the PATH: export PATH="$PATH:/usr/sbin"')
        assert line.endswith("else apt-get install nftables")

    def test_debug_shows_the_traceback(self, cloud: Server, tmp_path: Path) -> None:
        """--debug (or POCKETCLOUD_DEBUG=1) shows the traceback of the same failure."""
        path = _path_without("nft", tmp_path / "bin")
        for args, env in ((["--debug", "down"], {}), (["down"], {"POCKETCLOUD_DEBUG": "1"})):
            result = _pocketcloud(cloud, *args, path=path, **env)
            assert result.returncode == 1
            assert "Traceback" in result.stderr
            assert "No such file or directory: 'nft'" in result.stderr

    def test_aws_client_errors(self, cloud: Server) -> None:
        """An API-client command with an unknown profile, or with the cloud down: one line."""
        unknown = _pocketcloud(cloud, "quickstart", "--profile", "nosuch")
        assert unknown.returncode == 1
        assert "Traceback" not in unknown.stdout + unknown.stderr
        assert "nosuch" in unknown.stderr
        down = _pocketcloud(cloud, "quickstart", "--profile", "pocketcloud-test")
        assert down.returncode == 1
        assert "Traceback" not in down.stdout + down.stderr
        assert "is the cloud running? `pocketcloud status` tells" in down.stderr


def _why(tool: str) -> str:
    """The reason doctor gives for ``tool`` (no image cached)."""
    if tool == "debootstrap":
        return "it builds the instance image (debian-12) at the first launch"
    return next(t.why for t in TOOLS if t.name == tool)


def _facts(**changes: object) -> checks.HostFacts:
    """The facts of a machine where everything is in place, with ``changes``."""
    fine = checks.HostFacts(
        euid=0,
        tools={name: f"/usr/bin/{name}" for name in NEEDED},
        filesystems=frozenset({"ext4", "overlay"}),
        kernel="6.1.0-18-amd64",
        max_user_namespaces=15000,
        subuid="root:100000:65536\n",
        subgid="root:100000:65536\n",
        cgroup_controllers=frozenset(CONTROLLERS),
        cgroup2_only=False,
        state=checks.StateDir(Path("/var/lib/pocketcloud"), True, 0o40711, 0),
        image_cached=True,
    )
    return replace(fine, **changes)  # type: ignore[arg-type]


def _lines(facts: checks.HostFacts) -> list[str]:
    return [f.line() for f in checks.diagnose(facts) if not f.ok]


class TestChecks:
    """The pure checks: each machine state gives exactly one line with its fix."""

    def test_everything_in_place(self) -> None:
        """No failure, nothing blocks."""
        assert _lines(_facts()) == []
        assert checks.blocking(checks.diagnose(_facts())) == []

    def test_not_root(self) -> None:
        """Not root: one line saying to run it as root."""
        (line,) = _lines(_facts(euid=1000))
        assert line.startswith("✗ not running as root (uid 1000)")
        assert line.endswith("Fix: run it as root: sudo pocketcloud …")

    def test_overlay_missing_and_old_kernel(self) -> None:
        """No overlay filesystem: modprobe overlay; a kernel before 5.11: a newer kernel."""
        assert _lines(_facts(filesystems=frozenset({"ext4"})))[0].endswith("Fix: modprobe overlay")
        (old,) = _lines(_facts(kernel="5.10.0-28-amd64"))
        assert old.startswith("✗ kernel 5.10.0-28-amd64 is older than 5.11")

    def test_user_namespaces(self) -> None:
        """max_user_namespaces 0: the sysctl that enables them; no such file: a kernel."""
        (off,) = _lines(_facts(max_user_namespaces=0))
        assert off.endswith("Fix: sysctl -w user.max_user_namespaces=15000")
        (none,) = _lines(_facts(max_user_namespaces=None))
        assert "CONFIG_USER_NS=y" in none

    def test_subordinate_ids_are_added_by_pocketcloud(self) -> None:
        """Missing root:100000:65536 is no failure: pocketcloud appends it at first launch."""
        found = checks.check_subids(_facts(subuid="", subgid="admin:100000:65536\n"))
        assert found.ok
        assert "/etc/subuid and /etc/subgid lack root:100000:65536" in found.what

    def test_cgroups(self) -> None:
        """A missing v1 controller: the mount that adds it; a v2-only host: the boot option."""
        (one,) = _lines(_facts(cgroup_controllers=frozenset({"cpu", "memory"})))
        assert one.endswith("Fix: mkdir -p /sys/fs/cgroup/pids && "
                            "mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids")  # fmt: skip
        (v2,) = _lines(_facts(cgroup_controllers=frozenset(), cgroup2_only=True))
        assert "systemd.unified_cgroup_hierarchy=0" in v2

    def test_what_blocks_a_server(self) -> None:
        """up/serve stop for nft, not for rsync or a state directory mode serve fixes."""
        tools = _facts().tools | dict.fromkeys(("nft", "rsync"))
        state = checks.StateDir(Path("/s"), True, 0o40700, 0)
        found = checks.diagnose(_facts(tools=tools, state=state))
        assert [f.check for f in checks.blocking(found)] == ["nft", "rsync", "state-mode"]
        assert [f.check for f in checks.blocking(found, serving=True)] == ["nft"]

    def test_tool_not_installed_at_all(self) -> None:
        """A tool nowhere on the machine: the apt-get line of its package; one installed
        off the PATH: the PATH that has it."""
        (line,) = _lines(_facts(tools=_facts().tools | {"nft": None}))
        assert line == (
            "✗ nft not found on the PATH — security groups are nftables rules on this host. "
            "Fix: apt-get install nftables"
        )
        (off,) = _lines(
            _facts(tools=_facts().tools | {"nft": None}, elsewhere={"nft": "/usr/sbin/nft"})
        )
        assert 'Fix: export PATH="$PATH:/usr/sbin" (/usr/sbin/nft is installed' in off

    def test_debootstrap(self) -> None:
        """No debootstrap and no image built: it blocks doctor (not a server: images are
        built at the first launch); with the image built: a warning."""
        tools = _facts().tools | {"debootstrap": None}
        (line,) = _lines(_facts(tools=tools, image_cached=False))
        assert line == (
            "✗ debootstrap not found on the PATH — it builds the instance image (debian-12) "
            "at the first launch. Fix: apt-get install debootstrap"
        )
        found = checks.diagnose(_facts(tools=tools, image_cached=False))
        assert [f.check for f in checks.blocking(found)] == ["debootstrap"]
        assert checks.blocking(found, serving=True) == []
        (warning,) = _lines(_facts(tools=tools))
        assert warning.startswith("! debootstrap not found on the PATH")

    def test_port_of_this_cloud(self) -> None:
        """A taken port is fine when this cloud's own server holds it."""
        ours = checks.PortProbe("API", "127.0.0.1", 4747, "Address already in use", 42)
        assert checks.check_port(ours, Path("/c")).ok


class TestExpectedFailure:
    """main.expected_failure: the one line for each expected failure; None for a bug."""

    def test_missing_tool_behind_a_host_error(self) -> None:
        """A HostError caused by exec of a missing tool names the tool and its package."""
        with pytest.raises(HostError) as raised:
            run(["nft-of-nowhere", "list", "ruleset"])
        assert expected_failure(raised.value) == (
            "nft-of-nowhere not found on the PATH: `pocketcloud doctor` checks every prerequisite"
        )
        missing = FileNotFoundError(2, "No such file or directory", "rsync")
        line = expected_failure(missing)
        assert line is not None
        assert line.startswith("rsync not found on the PATH: ")
        assert line.endswith("apt-get install rsync")

    def test_cloud_and_aws_errors(self) -> None:
        """A CloudError shows its AWS code; botocore's errors their message and a hint."""
        assert expected_failure(ClientError("InvalidGroup.NotFound", "no sg-1")) == (
            "InvalidGroup.NotFound: no sg-1"
        )
        line = expected_failure(botocore.exceptions.NoCredentialsError())
        assert (
            line
            == "Unable to locate credentials: `pocketcloud init` writes the pocketcloud profile"
        )

    def test_a_command_the_cli_ran(self) -> None:
        """A failed or hung subprocess: the command and its last stderr line."""
        failed = subprocess.CalledProcessError(255, ["ssh", "admin@10.0.0.5"], b"", b"x\nrefused\n")
        assert expected_failure(failed) == "`ssh admin@10.0.0.5` exited with 255: refused"
        hung = subprocess.TimeoutExpired(["ssh", "h"], 60)
        assert expected_failure(hung) == "`ssh h` did not finish within 60 s"

    def test_a_bug_is_not_expected(self) -> None:
        """Anything else (a bug) keeps its traceback: None."""
        assert expected_failure(KeyError("x")) is None
