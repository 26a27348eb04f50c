"""The image store, with a real debootstrap build (root).

The debian-12 image is built once per session into ``$POCKETCLOUD_IMAGE_CACHE`` when it
is set (so runs can share one cache, and a valid image there is reused), else into a
temporary cache removed afterwards. Store mechanics (cleaning, locking, deleting) are
checked on small fake image directories made by the test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from pocketcloud.host import images
from pocketcloud.host.images import (
    DEFAULT_IMAGE,
    UID_COUNT,
    UID_SHIFT,
    Image,
    ImageError,
    Recipe,
    build_image,
    cache_dir,
    delete_image,
    find_image,
    list_images,
    namespaced_caps,
    shift_tree,
)
from pocketcloud.host.run import HostError

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

CAPS_XATTR = "security.capability"
#: cap_net_raw permitted+effective, as setcap writes it (revision 2, no root id)
NET_RAW_V2 = bytes.fromhex("0100000200200000000000000000000000000000")


@dataclass
class Built:
    """The session's real image and how it came to be."""

    cache: Path
    image: Image
    seconds: float


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    """A directory uid 100000 can traverse, as it must reach images (pytest's tmp is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="pocketcloud-test-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="session")
def built(scratch: Path) -> Iterator[Built]:
    """The debian-12 image, built (or found valid) once for the session."""
    shared = bool(os.environ.get("POCKETCLOUD_IMAGE_CACHE"))
    cache = cache_dir() if shared else scratch / "images"
    started = time.monotonic()
    image = build_image(cache, DEFAULT_IMAGE)
    yield Built(cache, image, time.monotonic() - started)
    if not shared:
        delete_image(cache, image.name)


def in_image(rootfs: Path, path: str, hops: int = 20) -> Path:
    """Where ``path`` inside the image really is, following its symlinks inside the image."""
    current = rootfs / path.lstrip("/")
    for _ in range(hops):
        if not current.is_symlink():
            return current
        target = os.readlink(current)
        current = rootfs / target.lstrip("/") if target.startswith("/") else current.parent / target
    raise AssertionError(f"symlink loop at {path}")


def fake_image(cache: Path, name: str) -> Path:
    """A cheap valid image directory (a manifest and a tiny rootfs), as a build leaves it."""
    recipe = Recipe(name, "bookworm", "fake", "admin", ("less",))
    directory = cache / name
    (directory / "rootfs" / "etc").mkdir(parents=True)
    images._write_manifest(directory / images.MANIFEST, recipe, 4096)
    return directory


def fake_build(work: Path, recipe: Recipe, progress: images.Progress) -> None:
    """Stands in for debootstrap in orchestration tests: a tiny tree and a real manifest."""
    progress("fake build")
    (work / "rootfs").mkdir(parents=True)
    images._write_manifest(work / images.MANIFEST, recipe, 1)


class TestBuiltImage:
    """The real debian-12 image."""

    def test_manifest(self, built: Built) -> None:
        """The manifest holds every Image field but rootfs, plus packages and the uid shift."""
        manifest = json.loads((built.image.rootfs.parent / "manifest.json").read_text())
        assert manifest["format"] == 1
        assert manifest["name"] == "debian-12"
        assert manifest["login_user"] == "admin"
        assert manifest["architecture"] == images.machine_architecture() in {"x86_64", "arm64"}
        assert manifest["uid_shift"] == UID_SHIFT == 100000
        assert manifest["uid_count"] == UID_COUNT == 65536
        assert "nginx" in manifest["packages"]
        assert manifest["run_dirs"] == ["/run/sshd"]
        assert "rootfs" not in manifest
        assert manifest["size_bytes"] == built.image.size_bytes > 100_000_000
        assert manifest["created"].endswith("Z")
        assert built.image.rootfs == built.cache / "debian-12" / "rootfs"

    def test_stable_id(self, built: Built) -> None:
        """The id is "ami-" and the first 17 hex digits of sha256 of the name."""
        expected = "ami-" + hashlib.sha256(b"debian-12").hexdigest()[:17]
        assert built.image.image_id == expected == images.image_id("debian-12")
        assert find_image(built.cache, expected) == built.image
        assert find_image(built.cache, "debian-12") == built.image

    def test_listed(self, built: Built) -> None:
        """list_images returns the built image."""
        assert built.image in list_images(built.cache)

    def test_sudo_keeps_setuid(self, built: Built) -> None:
        """/usr/bin/sudo stays mode 4755 after the shift, owned by uid and gid 100000."""
        info = os.lstat(built.image.rootfs / "usr/bin/sudo")
        assert stat.S_IMODE(info.st_mode) == 0o4755
        assert (info.st_uid, info.st_gid) == (100000, 100000)

    def test_every_file_is_shifted(self, built: Built) -> None:
        """Every file's owner and group lie in 100000..165535 on the host."""
        outside = []
        for directory, dirs, files in os.walk(built.image.rootfs):
            for name in (".", *dirs, *files):
                info = os.lstat(os.path.join(directory, name))
                for owner in (info.st_uid, info.st_gid):
                    if not UID_SHIFT <= owner < UID_SHIFT + UID_COUNT:
                        outside.append(os.path.join(directory, name))
        assert outside == []

    def test_login_user(self, built: Built) -> None:
        """admin is uid 1000 in the image (101000 on the host), in sudo, not locked."""
        rootfs = built.image.rootfs
        passwd = (rootfs / "etc/passwd").read_text()
        assert "admin:x:1000:1000::/home/admin:/bin/bash" in passwd.splitlines()
        assert any(
            line.startswith("sudo:") and "admin" in line.split(":")[3].split(",")
            for line in (rootfs / "etc/group").read_text().splitlines()
        )
        shadow = dict(
            line.split(":", 2)[:2] for line in (rootfs / "etc/shadow").read_text().split()
        )
        assert shadow["admin"] == "*"
        home = os.lstat(rootfs / "home/admin")
        assert (home.st_uid, home.st_gid) == (101000, 101000)
        ssh = os.lstat(rootfs / "home/admin/.ssh")
        assert (ssh.st_uid, stat.S_IMODE(ssh.st_mode)) == (101000, 0o700)

    def test_sudoers(self, built: Built) -> None:
        """admin has passwordless sudo from a 0440 sudoers.d file."""
        path = built.image.rootfs / "etc/sudoers.d/90-cloud-init-users"
        assert path.read_text() == "admin ALL=(ALL) NOPASSWD:ALL\n"
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o440

    def test_packages_installed(self, built: Built) -> None:
        """The binaries of the included packages are in the image."""
        for binary in (
            "/usr/sbin/sshd", "/usr/bin/python3", "/usr/sbin/nginx", "/usr/bin/rsync",
            "/usr/bin/curl", "/usr/bin/sudo", "/usr/bin/pip3", "/usr/sbin/ip", "/usr/bin/ping",
            "/usr/bin/nc", "/usr/bin/less", "/usr/bin/ps",
        ):  # fmt: skip
            path = in_image(built.image.rootfs, binary)
            assert path.is_file(), binary
            assert os.access(path, os.X_OK), binary
        venv = built.image.rootfs / "usr/lib/python3.11/venv/__init__.py"
        assert venv.is_file()

    def test_sshd(self, built: Built) -> None:
        """sshd takes keys only; the image holds no host key."""
        ssh = built.image.rootfs / "etc/ssh"
        config = (ssh / "sshd_config.d/pocketcloud.conf").read_text().splitlines()
        for line in (
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "HostKey /etc/ssh/ssh_host_ed25519_key",
        ):
            assert line in config
        assert list(ssh.glob("ssh_host_*")) == []
        assert "Include /etc/ssh/sshd_config.d/*.conf" in (ssh / "sshd_config").read_text()

    def test_identity_and_cleanup(self, built: Built) -> None:
        """Placeholder hostname, localhost hosts, empty resolv.conf; no apt lists or debs."""
        rootfs = built.image.rootfs
        assert (rootfs / "etc/hostname").read_text().strip()
        assert "127.0.0.1\tlocalhost" in (rootfs / "etc/hosts").read_text()
        assert (rootfs / "etc/resolv.conf").read_text() == ""
        assert not (rootfs / "usr/sbin/policy-rc.d").exists()
        lists = [p.name for p in (rootfs / "var/lib/apt/lists").iterdir() if p.is_file()]
        assert lists in ([], ["lock"])
        assert list((rootfs / "var/cache/apt/archives").glob("*.deb")) == []

    def test_ping_capability_is_for_namespace_root(self, built: Built) -> None:
        """ping's cap_net_raw survives the shift, as a v3 capability for root id 100000."""
        value = os.getxattr(built.image.rootfs / "usr/bin/ping", CAPS_XATTR)
        assert value[3] == 0x03
        assert int.from_bytes(value[20:24], "little") == 100000

    def test_build_is_idempotent(self, built: Built) -> None:
        """Building again returns the existing image at once, same creation time."""
        started = time.monotonic()
        again = build_image(built.cache, DEFAULT_IMAGE)
        assert time.monotonic() - started < 5
        assert again == built.image


def subordinate_ids_for_root() -> bool:
    """Whether newuidmap exists and root may map 100000..165535 (/etc/subuid, /etc/subgid)."""
    if shutil.which("newuidmap") is None:
        return False
    for name in ("/etc/subuid", "/etc/subgid"):
        ranges = Path(name).read_text().split() if Path(name).exists() else []
        if not any(
            (fields := line.split(":"))[0] == "root"
            and int(fields[1]) <= UID_SHIFT
            and int(fields[1]) + int(fields[2]) >= UID_SHIFT + UID_COUNT
            for line in ranges
        ):
            return False
    return True


NAMESPACE_SCRIPT = r"""
set -e
lower="$1"; upper="$2"; work="$3"; root="$4"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work,userxattr" "$root"
mount -t tmpfs tmpfs "$root/dev"
for dev in null zero urandom random; do
    touch "$root/dev/$dev"; mount --bind "/dev/$dev" "$root/dev/$dev"
done
mount -t tmpfs tmpfs "$root/run"
hostname ip-10-9-8-7
chroot "$root" /bin/sh -c '
    set -e
    echo "127.0.1.1 ip-10-9-8-7" >> /etc/hosts
    mkdir -p /run/sshd
    ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
    /usr/sbin/sshd -t && echo sshd-config-ok
    echo "sudo-uid=$(su -s /bin/sh admin -c "sudo -n id -u")"
    touch /srv/made-by-root'
"""


class TestInUserNamespace:
    """The image used the way instances use it: overlayfs inside a user namespace."""

    @pytest.mark.skipif(not subordinate_ids_for_root(), reason="needs uidmap and root subids")
    def test_sudo_and_sshd_work(self, built: Built, scratch: Path) -> None:
        """Inside, admin's sudo gives uid 0, sshd accepts its config, root's files are 100000."""
        here = Path(tempfile.mkdtemp(dir=scratch))
        here.chmod(0o755)
        layers = [here / name for name in ("upper", "work", "root")]
        for layer in layers:
            layer.mkdir()
            os.chown(layer, UID_SHIFT, UID_SHIFT)
        mapping = f"{UID_SHIFT},0,{UID_COUNT}"
        done = subprocess.run(
            ["unshare", "--user", f"--map-users={mapping}", f"--map-groups={mapping}",
             "--setuid", "0", "--setgid", "0", "--mount", "--pid", "--uts", "--ipc", "--fork",
             "sh", "-c", NAMESPACE_SCRIPT, "sh", str(built.image.rootfs), *map(str, layers)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "sshd-config-ok" in done.stdout
        assert "sudo-uid=0" in done.stdout
        assert os.lstat(here / "upper/srv/made-by-root").st_uid == 100000


class TestStore:
    """Listing, finding and deleting, on fake image directories."""

    def test_cache_dir(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """The cache is $POCKETCLOUD_IMAGE_CACHE, else /var/cache/pocketcloud/images."""
        monkeypatch.setenv("POCKETCLOUD_IMAGE_CACHE", str(tmp_path))
        assert cache_dir() == tmp_path
        monkeypatch.delenv("POCKETCLOUD_IMAGE_CACHE")
        assert cache_dir() == Path("/var/cache/pocketcloud/images")

    def test_missing_cache_is_empty(self, tmp_path: Path) -> None:
        """A cache directory that does not exist holds no images."""
        assert list_images(tmp_path / "nothing") == []
        assert find_image(tmp_path / "nothing", "debian-12") is None

    def test_half_built_and_manifestless_dirs_are_ignored_and_cleaned(self, tmp_path: Path) -> None:
        """list_images skips a crashed build and an image dir without manifest, and removes
        both; a directory that is no buildable image's is left alone."""
        fake_image(tmp_path, "tiny-1")
        (tmp_path / ".build-debian-12-999999" / "rootfs" / "etc").mkdir(parents=True)
        (tmp_path / "debian-12" / "rootfs" / "etc").mkdir(parents=True)
        (tmp_path / "notes").mkdir()
        assert find_image(tmp_path, "debian-12") is None
        assert [image.name for image in list_images(tmp_path)] == ["tiny-1"]
        assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["notes", "tiny-1"]

    def test_invalid_manifests_are_ignored(self, tmp_path: Path) -> None:
        """A manifest that is not JSON, has the wrong id, or lacks a field is no image."""
        for name, old, new in [
            ("broken", "}", ""),
            ("wrong-id", images.image_id("wrong-id"), "ami-0"),
            ("no-size", '"size_bytes"', '"size"'),
        ]:
            manifest = fake_image(tmp_path, name) / "manifest.json"
            manifest.write_text(manifest.read_text().replace(old, new))
            assert find_image(tmp_path, name) is None
        assert list_images(tmp_path) == []

    def test_a_running_build_is_left_alone(self, tmp_path: Path) -> None:
        """A .build dir whose name's lock is held (a build in progress) is not removed."""
        building = tmp_path / ".build-debian-12-1"
        building.mkdir()
        with images._lock(tmp_path, "debian-12", wait=True):
            assert list_images(tmp_path) == []
            assert building.exists()
        list_images(tmp_path)
        assert not building.exists()

    def test_cleaning_never_crosses_into_mounts(self, tmp_path: Path) -> None:
        """A crashed build with a mount inside is unmounted, and the mounted files survive."""
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "precious").write_text("keep me")
        mountpoint = tmp_path / "cache" / ".build-debian-12-999999" / "rootfs" / "dev"
        mountpoint.mkdir(parents=True)
        subprocess.run(["mount", "--bind", str(outside), str(mountpoint)], check=True)
        try:
            list_images(tmp_path / "cache")
        finally:
            subprocess.run(["umount", str(mountpoint)], capture_output=True, check=False)
        assert (outside / "precious").read_text() == "keep me"
        assert list((tmp_path / "cache").iterdir()) == [tmp_path / "cache" / ".lock-debian-12"]

    def test_delete(self, tmp_path: Path) -> None:
        """delete_image removes an image by id or name, and says False for unknown ones."""
        fake_image(tmp_path, "tiny-1")
        fake_image(tmp_path, "tiny-2")
        assert delete_image(tmp_path, images.image_id("tiny-1"))
        assert delete_image(tmp_path, "tiny-2")
        assert not (tmp_path / "tiny-1").exists()
        assert not (tmp_path / "tiny-2").exists()
        assert not delete_image(tmp_path, "tiny-1")
        assert list_images(tmp_path) == []


class TestBuildOrchestration:
    """build_image's publishing, locking and recovery, with debootstrap stood in for."""

    @pytest.fixture(autouse=True)
    def _no_debootstrap(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Replace the real tree-building with fake_build."""
        monkeypatch.setattr(images, "_build_into", fake_build)

    def test_invalid_dir_and_stale_build_are_replaced(self, tmp_path: Path) -> None:
        """An image dir without manifest is rebuilt; a crashed build dir is removed."""
        (tmp_path / "debian-12" / "rootfs").mkdir(parents=True)
        (tmp_path / ".build-debian-12-999999").mkdir()
        image = build_image(tmp_path, "debian-12")
        assert image.rootfs == tmp_path / "debian-12" / "rootfs"
        assert sorted(p.name for p in tmp_path.iterdir()) == [".lock-debian-12", "debian-12"]

    def test_failed_build_leaves_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A build that fails removes its half-built tree and publishes nothing."""

        def failing(work: Path, recipe: Recipe, progress: images.Progress) -> None:
            (work / "rootfs").mkdir(parents=True)
            raise HostError(["debootstrap"], 1, "E: no network")

        monkeypatch.setattr(images, "_build_into", failing)
        with pytest.raises(HostError, match="no network"):
            build_image(tmp_path, "debian-12")
        assert [p.name for p in tmp_path.iterdir()] == [".lock-debian-12"]

    def test_concurrent_builders_build_once(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Builders racing for one name wait on its lock; one builds, all get its image."""
        calls = []

        def slow(work: Path, recipe: Recipe, progress: images.Progress) -> None:
            calls.append(work)
            time.sleep(0.5)
            fake_build(work, recipe, progress)

        monkeypatch.setattr(images, "_build_into", slow)
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: build_image(tmp_path, "debian-12"), range(4)))
        assert len(calls) == 1
        assert all(result == results[0] for result in results)

    def test_unknown_name(self, tmp_path: Path) -> None:
        """Only names with a recipe can be built."""
        with pytest.raises(ImageError, match="debian-12"):
            build_image(tmp_path, "windows-11")

    def test_crash_leaves_only_a_build_dir(self, tmp_path: Path) -> None:
        """A builder killed mid-build leaves a .build dir, which the next list removes."""
        script = (
            "import sys, time\nfrom pathlib import Path\nfrom pocketcloud.host import images\n"
            "def hang(work, recipe, progress):\n"
            "    (work / 'rootfs').mkdir(parents=True)\n    print('building', flush=True)\n"
            "    time.sleep(120)\n"
            "images._build_into = hang\nimages.build_image(Path(sys.argv[1]))\n"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "building\n"
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [
            f".build-debian-12-{child.pid}"
        ]
        assert list_images(tmp_path) == []
        assert [p.name for p in tmp_path.iterdir()] == [".lock-debian-12"]


class TestProgress:
    """A build's progress, on real commands: every time, whether or not an image is cached."""

    def test_each_line_arrives_while_the_command_runs(self, tmp_path: Path) -> None:
        """Each output line (stdout and stderr) reaches the progress callback while the
        command still runs: the command writes its next line only once the callback has
        seen the first, so lines held back until it exits would time it out."""
        seen = tmp_path / "seen"
        script = f"echo one; while [ ! -e '{seen}' ]; do sleep 0.01; done; echo two; echo three >&2"
        lines: list[str] = []

        def progress(line: str) -> None:
            lines.append(line)
            seen.touch()

        images._stream(["sh", "-c", script], progress, timeout=10)
        assert lines == ["one", "two", "three"]

    def test_a_build_reports_its_stage_then_debootstrap(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A real build into a cache of its own names the stage and the mirror first, then
        hands on each of debootstrap's own lines, prefixed with ``debootstrap:`` (here the
        mirror is missing: debootstrap stops at its Release file, nothing is downloaded)."""
        mirror = f"file://{tmp_path}/no-mirror"
        monkeypatch.setenv("POCKETCLOUD_DEBIAN_MIRROR", mirror)
        messages: list[str] = []
        with pytest.raises(HostError):
            build_image(tmp_path / "cache", DEFAULT_IMAGE, messages.append)
        assert messages[0] == f"debootstrap bookworm from {mirror}"
        assert messages[1].startswith("debootstrap: I: ")
        assert messages[-1] == f"debootstrap: E: Failed getting release file {mirror}" + (
            "/dists/bookworm/Release"
        )
        assert all(m.startswith("debootstrap: ") for m in messages[1:])


class TestBuildFailure:
    """A real build that cannot succeed."""

    def test_debootstrap_failure(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A failing debootstrap (here: no such mirror) raises HostError with its messages
        and leaves no tree behind."""
        monkeypatch.setenv("POCKETCLOUD_DEBIAN_MIRROR", f"file://{tmp_path}/no-mirror")
        messages: list[str] = []
        with pytest.raises(HostError, match="Failed getting release file") as failure:
            build_image(tmp_path, "debian-12", messages.append)
        assert failure.value.cmd[0] == "debootstrap"
        assert any(m.startswith("debootstrap: E: ") for m in messages)
        assert [p.name for p in tmp_path.iterdir()] == [".lock-debian-12"]


class TestShiftTree:
    """Shifting ownership of a small tree made by the test."""

    def test_shift(self, tmp_path: Path) -> None:
        """Owners move by the shift; setuid/setgid modes stay; symlinks are not followed."""
        root = tmp_path / "root"
        (root / "bin").mkdir(parents=True)
        sudo = root / "bin" / "sudo"
        sudo.write_text("#!/bin/sh\n")
        os.chmod(sudo, 0o4755)  # noqa: S103 (the setuid bit is what the test is about)
        (root / "shared").mkdir(mode=0o2775)
        os.chmod(root / "shared", 0o2775)  # noqa: S103 (so is the setgid bit)
        os.chown(root / "shared", 1000, 50)
        os.link(sudo, root / "bin" / "sudo-again")
        (root / "escape").symlink_to("/etc/passwd")
        shift_tree(root, UID_SHIFT)
        assert stat.S_IMODE(os.lstat(sudo).st_mode) == 0o4755
        assert (os.lstat(sudo).st_uid, os.lstat(sudo).st_gid) == (100000, 100000)
        shared = os.lstat(root / "shared")
        assert (shared.st_uid, shared.st_gid, stat.S_IMODE(shared.st_mode)) == (
            101000, 100050, 0o2775,
        )  # fmt: skip
        assert os.lstat(root / "escape").st_uid == 100000
        assert os.lstat("/etc/passwd").st_uid == 0
        assert os.lstat(root).st_uid == 100000

    def test_capability_is_rewritten(self, tmp_path: Path) -> None:
        """A file capability cleared by chown is put back for the namespace's root."""
        ping = tmp_path / "ping"
        ping.write_bytes(b"\x7fELF")
        os.setxattr(ping, CAPS_XATTR, NET_RAW_V2)
        shift_tree(tmp_path, UID_SHIFT)
        assert os.getxattr(ping, CAPS_XATTR) == namespaced_caps(NET_RAW_V2, UID_SHIFT)

    def test_namespaced_caps(self) -> None:
        """v2 and v3 values become v3 naming the root id; other values are left alone."""
        v3 = namespaced_caps(NET_RAW_V2, 100000)
        assert v3 == bytes.fromhex("01000003") + NET_RAW_V2[4:] + (100000).to_bytes(4, "little")
        assert namespaced_caps(v3[:20] + (7).to_bytes(4, "little"), 100000) == v3
        assert namespaced_caps(b"\x00\x00\x00\x01abcd", 100000) == b"\x00\x00\x00\x01abcd"

    def test_put_refuses_to_leave_the_tree(self, tmp_path: Path) -> None:
        """Writing a config file through a symlink that leads out of the image is refused."""
        (tmp_path / "etc").symlink_to(tmp_path.parent)
        with pytest.raises(ImageError, match="outside"):
            images._put(tmp_path, "etc/hostname", "x\n", 0o644)
        assert not (tmp_path.parent / "hostname").exists()
