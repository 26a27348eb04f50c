"""The pure parts of the instance runtime: host object names, init.json, the spawn command
and the cgroup limit files."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest

from pocketcloud.guest import init
from pocketcloud.host import cgroups, runtime
from pocketcloud.host.runtime import InstanceSpec, init_config, names, spawn_command

SPEC = InstanceSpec(
    instance_id="i-0123456789abcdef0",
    prefix="pct5a1",
    workdir=Path("/var/lib/pocketcloud/instances/i-0123456789abcdef0"),
    rootfs=Path("/var/lib/pocketcloud/images/debian-12/rootfs"),
    private_ip="10.199.0.10",
    prefix_len=20,
    hostname="ip-10-199-0-10",
    login_user="admin",
    authorized_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB key\n",
    user_data=b"#!/bin/sh\necho hi\n",
    memory_bytes=1 << 30,
    cpus=2.0,
    pids_max=4096,
)


class TestNames:
    def test_names_carry_prefix_and_id_suffix(self) -> None:
        """netns <prefix>-<8hex>, veth <prefix><8hex>h, cgroup pocketcloud/<prefix>/<id>."""
        got = names(SPEC)
        assert got.netns == "pct5a1-9abcdef0"
        assert got.veth == "pct5a19abcdef0h"
        assert got.cgroup == "pocketcloud/pct5a1/i-0123456789abcdef0"

    @pytest.mark.parametrize("prefix", ["p", "pc", "pct5a1"])
    def test_interface_names_fit_ifnamsiz(self, prefix: str) -> None:
        """Every interface name stays within 15 characters for prefixes up to 6 chars."""
        got = names(replace(SPEC, prefix=prefix))
        assert len(got.veth) <= 15
        assert got.veth.startswith(prefix)

    def test_short_prefix_names_do_not_match_a_longer_prefix(self) -> None:
        """A veth of prefix "pc" and one of "pc5a1" differ in length, so listing by an exact
        pattern never mixes two clouds."""
        short = names(replace(SPEC, prefix="pc")).veth
        longer = names(replace(SPEC, prefix="pc5a1")).veth
        assert len(short) == 11
        assert len(longer) == 14

    @pytest.mark.parametrize("prefix", ["", "toolong7", "Pc", "p-c", "1pc"])
    def test_bad_prefix_is_refused(self, prefix: str) -> None:
        """Prefixes must be 1-6 lowercase letters or digits, starting with a letter."""
        with pytest.raises(ValueError, match="prefix"):
            names(replace(SPEC, prefix=prefix))

    @pytest.mark.parametrize("instance_id", ["i-xyz", "vol-0123456789abcdef0", "i-0123"])
    def test_bad_instance_id_is_refused(self, instance_id: str) -> None:
        """Only i-<hex> ids name host objects."""
        with pytest.raises(ValueError, match="instance id"):
            names(replace(SPEC, instance_id=instance_id))


class TestInitConfig:
    def test_content(self) -> None:
        """init.json holds what init needs; user-data is base64; the key is stripped."""
        config = init_config(SPEC)
        assert config == {
            "instance_id": "i-0123456789abcdef0",
            "prefix": "pct5a1",
            "hostname": "ip-10-199-0-10",
            "private_ip": "10.199.0.10",
            "login_user": "admin",
            "workdir": str(SPEC.workdir),
            "rootfs": str(SPEC.rootfs),
            "user_data": base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
            "authorized_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB key",
            "shutdown_grace": 5.0,
            "aws_env": {},
        }
        assert json.loads(json.dumps(config)) == config

    def test_no_user_data(self) -> None:
        """Without user-data the field is null."""
        assert init_config(replace(SPEC, user_data=None))["user_data"] is None

    @pytest.mark.parametrize("path", ["relative/dir", "/a,b", "/a:b"])
    def test_paths_unsafe_for_overlay_options_are_refused(self, path: str) -> None:
        """Workdir and rootfs go into overlay's option string: absolute, no ',' or ':'."""
        with pytest.raises(ValueError, match="path"):
            init_config(replace(SPEC, rootfs=Path(path)))

    def test_bad_address_is_refused(self) -> None:
        """The private address and prefix length must form an IPv4 interface."""
        with pytest.raises(ValueError, match=r"10\.199\.0\.300"):
            init_config(replace(SPEC, private_ip="10.199.0.300"))


class TestSpawnCommand:
    def test_namespaces_and_id_map(self) -> None:
        """The init runs in the instance netns, with a user namespace mapping 0 → 100000,
        and new mount, PID, UTS and IPC namespaces."""
        argv = spawn_command(SPEC, "/usr/bin/python3")
        assert argv[:4] == ["ip", "netns", "exec", "pct5a1-9abcdef0"]
        for flag in ("--user", "--mount", "--pid", "--uts", "--ipc", "--fork", "--kill-child"):
            assert flag in argv
        assert "--map-users=100000,0,65536" in argv
        assert "--map-groups=100000,0,65536" in argv
        assert argv[-6:] == [
            "/usr/bin/python3",
            "-s",
            "-B",
            "-m",
            "pocketcloud.guest.init",
            str(SPEC.workdir / "init.json"),
        ]


class TestLimitFiles:
    def test_values_and_order(self) -> None:
        """Memory before memsw (memsw may never be below it), CFS quota from fractional CPUs."""
        files = cgroups.limit_files(cgroups.Limits(memory_bytes=512 << 20, cpus=0.25, pids_max=64))
        assert files == [
            ("memory", "memory.limit_in_bytes", str(512 << 20)),
            ("memory", "memory.memsw.limit_in_bytes", str(512 << 20)),
            ("cpu", "cpu.cfs_period_us", "100000"),
            ("cpu", "cpu.cfs_quota_us", "25000"),
            ("pids", "pids.max", "64"),
        ]

    def test_tiny_cpu_share_has_a_floor(self) -> None:
        """The kernel refuses a quota under 1 ms; tiny CPU counts get 1000 µs."""
        limits = cgroups.Limits(1, 0.001, 1)
        files = {name: value for _, name, value in cgroups.limit_files(limits)}
        assert files["cpu.cfs_quota_us"] == "1000"


class TestInitStaging:
    def test_stage_copies_a_runnable_package(self, tmp_path: Path) -> None:
        """stage_guest() writes pocketcloud/guest/init.py (identical to the module) and empty
        package markers, all world-readable."""
        boot = tmp_path / "boot"
        runtime.stage_guest(boot)
        copied = boot / "pocketcloud" / "guest" / "init.py"
        assert copied.read_bytes() == Path(init.__file__).read_bytes()
        assert (boot / "pocketcloud" / "__init__.py").read_text() == ""
        assert not (boot / "__init__.py").exists()
        assert copied.stat().st_mode & 0o004

    def test_reachable(self, tmp_path: Path) -> None:
        """A directory closed to others (0700) is not reachable for another uid."""
        closed = tmp_path / "closed"
        (closed / "inner").mkdir(parents=True)
        closed.chmod(0o700)
        tmp_path.chmod(0o755)
        assert not cgroups.reachable(closed / "inner", 100000)
        closed.chmod(0o711)
        assert cgroups.reachable(closed / "inner", 100000) == cgroups.reachable(tmp_path, 100000)
