"""The instance image store: read-only root filesystems built with debootstrap.

One cache serves every cloud on the machine. ``<name>/rootfs`` is the tree, uid/gid
shifted by UID_SHIFT for the instances' user namespace; ``<name>/manifest.json``, written
last, makes it an image. A build fills ``.build-<name>-<pid>``, published by one rename;
whoever builds, cleans or deletes a name holds the flock ``.lock-<name>``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pocketcloud.host.aptsource import debian_mirror
from pocketcloud.host.run import HostError, output, run

UID_SHIFT = 100000
UID_COUNT = 65536
DEFAULT_IMAGE = "debian-12"
DEFAULT_CACHE = Path("/var/cache/pocketcloud/images")
MANIFEST = "manifest.json"
FORMAT = 1
#: directories an instance's init must create at boot (``/run`` is a fresh tmpfs there)
RUN_DIRS = ("/run/sshd",)

_MANIFEST_FIELDS = {"image_id": str, "name": str, "description": str, "login_user": str,
                    "architecture": str, "created": str, "size_bytes": int}  # fmt: skip
_BUILD_DIR = re.compile(r"\.build-(.+)-[0-9]+")  # .build-<name>-<pid>
_CAPS_XATTR = "security.capability"
_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root",
        "DEBIAN_FRONTEND": "noninteractive"}  # fmt: skip
_SSHD_CONFIG = """\
# Written by pocketcloud: key-only logins; each instance makes its own host key at boot.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
HostKey /etc/ssh/ssh_host_ed25519_key
"""
_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
_NO_SERVICES = "#!/bin/sh\n# pocketcloud image build: start no services\nexit 101\n"

Progress = Callable[[str], None]


class ImageError(RuntimeError):
    """An image cannot be built as asked (unknown name, a path leading out of the tree)."""


@dataclass(frozen=True)
class Recipe:
    """How one named image is bootstrapped."""

    name: str
    suite: str
    description: str
    login_user: str
    packages: tuple[str, ...]


#: what every image holds: an SSH login, Python with venv and pip, nginx, and the tools a
#: deploy and a learner use
PACKAGES = ("openssh-server", "sudo", "python3", "python3-venv", "python3-pip", "rsync", "curl",
            "ca-certificates", "iproute2", "procps", "nginx", "iputils-ping", "netcat-openbsd",
            "less")  # fmt: skip
#: what ``pyenv install`` builds CPython with (the seed's step), and git to fetch pyenv
BUILD_PACKAGES = ("gcc", "make", "libc6-dev", "pkg-config", "libssl-dev", "zlib1g-dev",
                  "libffi-dev", "libsqlite3-dev", "libbz2-dev", "liblzma-dev", "libreadline-dev",
                  "libncurses-dev", "xz-utils", "patch", "git")  # fmt: skip
RECIPES = {recipe.name: recipe for recipe in [
    Recipe("debian-12", "bookworm", "Debian 12 (bookworm) with sshd, sudo, python3, nginx",
           "admin", PACKAGES),
    Recipe("debian-12-build", "bookworm",
           "Debian 12 (bookworm) with sshd, sudo, python3, nginx and a compiler and the headers "
           "pyenv builds Python with", "admin", PACKAGES + BUILD_PACKAGES),
    Recipe("debian-13", "trixie",
           "Debian 13 (trixie) with sshd, sudo, python3 (3.13), nginx", "admin", PACKAGES),
]}  # fmt: skip


@dataclass(frozen=True)
class Image:
    """A complete image in the cache (read from its manifest)."""

    image_id: str
    name: str
    description: str
    rootfs: Path
    login_user: str
    architecture: str
    created: str
    size_bytes: int


def image_id(name: str) -> str:
    """The image's id: the same for a name on every machine and after every rebuild (pure)."""
    return "ami-" + hashlib.sha256(name.encode()).hexdigest()[:17]


def machine_architecture() -> str:
    """This machine's architecture in EC2's spelling (``x86_64``, ``arm64``)."""
    return {"aarch64": "arm64"}.get(platform.machine(), platform.machine())


def cache_dir() -> Path:
    """The image cache: ``$POCKETCLOUD_IMAGE_CACHE`` or /var/cache/pocketcloud/images."""
    return Path(os.environ.get("POCKETCLOUD_IMAGE_CACHE") or DEFAULT_CACHE)


def list_images(cache: Path) -> list[Image]:
    """The complete, valid images in ``cache``, by name (side effect: ``_clean``)."""
    _clean(cache)
    return _valid(cache)


def find_image(cache: Path, name_or_id: str) -> Image | None:
    """The valid image with that name or id, else None (reads files only)."""
    return next((i for i in _valid(cache) if name_or_id in (i.name, i.image_id)), None)


def delete_image(cache: Path, name_or_id: str) -> bool:
    """Delete the image with that name or id, False if there is none (removes its directory,
    manifest first; root for a built image). The caller makes sure no instance uses it."""
    if (image := find_image(cache, name_or_id)) is None:
        return False
    with _lock(cache, image.name, wait=True):
        (cache / image.name / MANIFEST).unlink(missing_ok=True)
        _remove_tree(cache / image.name)
    return True


def _entries(cache: Path) -> list[Path]:
    """The cache's directories, by name (none if it does not exist)."""
    return sorted(entry for entry in cache.iterdir() if entry.is_dir()) if cache.is_dir() else []


def _valid(cache: Path) -> list[Image]:
    """The valid images in ``cache``, by name."""
    loaded = [_load(entry) for entry in _entries(cache) if not entry.name.startswith(".")]
    return [image for image in loaded if image is not None]


def _load(directory: Path) -> Image | None:
    """The image in ``directory`` if its manifest is complete and consistent, else None."""
    try:
        data: Any = json.loads((directory / MANIFEST).read_text())
        fields = {key: data[key] for key in _MANIFEST_FIELDS}
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if data.get("format") != FORMAT or fields["name"] != directory.name:
        return None
    typed = all(isinstance(fields[key], kind) for key, kind in _MANIFEST_FIELDS.items())
    if not typed or fields["image_id"] != image_id(directory.name):
        return None
    return Image(rootfs=directory / "rootfs", **fields) if (directory / "rootfs").is_dir() else None


@contextlib.contextmanager
def _lock(cache: Path, name: str, *, wait: bool) -> Iterator[bool]:
    """Hold ``<cache>/.lock-<name>``; yields False if ``wait`` is off and it is taken."""
    fd = os.open(cache / f".lock-{name}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)  # releases the lock


def _clean(cache: Path) -> None:
    """Remove crashed builds and invalid dirs named after a recipe, unless being built.

    Other directories stay, in case the cache was pointed at a directory in use."""
    entries = _entries(cache)
    stale = {m[1] for entry in entries if (m := _BUILD_DIR.fullmatch(entry.name))}
    stale |= {e.name for e in entries if e.name in RECIPES and _load(e) is None}
    for name in sorted(stale):
        with contextlib.suppress(OSError, HostError), _lock(cache, name, wait=False) as held:
            if held:
                _remove_stale(cache, name)


def _remove_stale(cache: Path, name: str) -> None:
    """Remove ``name``'s crashed builds and its image dir if invalid (caller holds the lock)."""
    for entry in _entries(cache):
        if (match := _BUILD_DIR.fullmatch(entry.name)) and match[1] == name:
            _remove_tree(entry)
    if (cache / name).exists() and _load(cache / name) is None:
        _remove_tree(cache / name)


def _remove_tree(path: Path) -> None:
    """Unmount what a killed debootstrap left mounted under ``path`` (/proc, /sys, device
    binds), then delete it without crossing into any other filesystem (root)."""
    prefix = os.path.realpath(path) + "/"
    octal = re.compile(r"\\([0-7]{3})")  # mountinfo writes a space in a path as \040
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    points = [octal.sub(lambda m: chr(int(m[1], 8)), line.split()[4]) for line in lines]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        run(["umount", "--lazy", point], check=False)
    run(["rm", "-rf", "--one-file-system", "--", str(path)])


def _quiet(_message: str) -> None:
    """Progress that goes nowhere."""


def build_image(cache: Path, name: str = DEFAULT_IMAGE, progress: Progress = _quiet) -> Image:
    """The valid image ``name`` in ``cache``, built first if there is none.

    Side effects: runs debootstrap from the host's Debian mirror (or
    ``$POCKETCLOUD_DEBIAN_MIRROR``), chroot and chown; apt-get installs debootstrap if
    missing. Needs root; writes nothing else outside ``cache``. Concurrent builders of a
    name wait for the first. HostError if a command fails (the half-built tree is removed).
    """
    recipe = RECIPES.get(name)
    if recipe is None:
        raise ImageError(f"no recipe for image {name!r}; known: {', '.join(sorted(RECIPES))}")
    cache.mkdir(parents=True, exist_ok=True)
    with _lock(cache, name, wait=True):
        if (image := _load(cache / name)) is not None:
            return image
        _remove_stale(cache, name)
        work = cache / f".build-{name}-{os.getpid()}"
        try:
            _build_into(work, recipe, progress)
            os.rename(work, cache / name)
        except BaseException:
            with contextlib.suppress(OSError, HostError):
                _remove_tree(work)
            raise
        if (image := _load(cache / name)) is None:
            raise ImageError(f"the image published at {cache / name} does not load")
        return image


def _build_into(work: Path, recipe: Recipe, progress: Progress) -> None:
    """Bootstrap, configure and shift ``work/rootfs``, then write ``work/manifest.json``."""
    started = time.monotonic()
    rootfs = work / "rootfs"
    rootfs.mkdir(parents=True)
    _debootstrap(rootfs, recipe, progress)
    _configure(rootfs, recipe, progress)
    progress(f"shifting ownership by {UID_SHIFT} for the user namespace")
    shift_tree(rootfs, UID_SHIFT)
    size = int(output(["du", "--summarize", "--bytes", str(rootfs)]).split()[0])
    _write_manifest(work / MANIFEST, recipe, size)
    os.sync()  # all of it on disk before the rename publishes it
    progress(f"built {recipe.name}: {size / 1e6:.0f} MB in {time.monotonic() - started:.0f} s")


def _debootstrap(rootfs: Path, recipe: Recipe, progress: Progress) -> None:
    """Run debootstrap into ``rootfs``, streaming its lines (installs it first if missing)."""
    if not shutil.which("debootstrap", path=_ENV["PATH"]):
        progress("installing debootstrap with apt-get")
        run(["apt-get", "install", "-y", "--no-install-recommends", "debootstrap"], env=_ENV)
    mirror = os.environ.get("POCKETCLOUD_DEBIAN_MIRROR") or debian_mirror()
    progress(f"debootstrap {recipe.suite} from {mirror}")
    include = "--include=" + ",".join(recipe.packages)
    cmd = ["debootstrap", "--variant=minbase", include, recipe.suite, str(rootfs), mirror]
    try:
        _stream(cmd, lambda line: progress(f"debootstrap: {line}"))
    except HostError as exc:
        log = rootfs / "debootstrap" / "debootstrap.log"
        lines = log.read_text(errors="replace").splitlines()[-20:] if log.is_file() else []
        raise HostError(exc.cmd, exc.exit_code, "\n".join([exc.stderr, *lines])) from exc


def _stream(cmd: Sequence[str], each_line: Progress, timeout: float = 1800) -> None:
    """Run ``cmd``, passing each output line on; HostError with the tail if it fails."""
    tail: deque[str] = deque(maxlen=40)
    try:
        proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=_ENV, text=True, errors="replace")  # fmt: skip
    except OSError as exc:
        raise HostError(cmd, -1, str(exc)) from exc
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    with proc:  # closes the pipe and reaps the process
        try:
            for line in proc.stdout or ():
                tail.append(line.rstrip())
                each_line(tail[-1])
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:  # each_line raised: stop it (_remove_tree unmounts after)
                proc.kill()
    if proc.returncode != 0:
        raise HostError(cmd, proc.returncode, "\n".join(tail))


def _put(rootfs: Path, relative: str, text: str, mode: int) -> None:
    """Create ``rootfs/relative`` afresh with ``text`` and ``mode``, never through a symlink."""
    path = rootfs / relative
    if not path.parent.resolve().is_relative_to(rootfs.resolve()):
        raise ImageError(f"{path} leads outside the image")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, mode)


def _configure(rootfs: Path, recipe: Recipe, progress: Progress) -> None:
    """Make the bootstrapped tree an instance image (writes inside ``rootfs``; root)."""
    policy = "usr/sbin/policy-rc.d"
    _put(rootfs, policy, _NO_SERVICES, 0o755)
    progress(f"configuring: login user {recipe.login_user} with passwordless sudo")
    _add_login_user(rootfs, recipe.login_user)
    progress("configuring: sshd (keys only, no host keys in the image)")
    _put(rootfs, "etc/ssh/sshd_config.d/pocketcloud.conf", _SSHD_CONFIG, 0o644)
    for key in (rootfs / "etc" / "ssh").glob("ssh_host_*"):
        key.unlink()
    progress("configuring: hostname, hosts, resolv.conf, machine-id")
    for relative, text in [("hostname", "localhost\n"), ("hosts", _HOSTS), ("resolv.conf", "")]:
        _put(rootfs, f"etc/{relative}", text, 0o644)
    if (rootfs / "etc" / "machine-id").exists():
        _put(rootfs, "etc/machine-id", "", 0o444)
    progress("configuring: apt-get clean, no package lists")
    run(["chroot", str(rootfs), "apt-get", "clean"], env=_ENV)
    for entry in (rootfs / "var" / "lib" / "apt" / "lists").iterdir():
        if not entry.is_dir() and entry.name != "lock":
            entry.unlink()
    (rootfs / policy).unlink()


def _add_login_user(rootfs: Path, user: str) -> None:
    """Add the login user (uid/gid 1000, sudo group, no password but not locked)."""
    chroot = ["chroot", str(rootfs)]
    run([*chroot, "groupadd", "--gid", "1000", user], env=_ENV)
    # "*" rather than useradd's "!": with UsePAM no, sshd refuses keys for a locked account
    run([*chroot, "useradd", "--uid", "1000", "--gid", "1000", "--groups", "sudo",
         "--create-home", "--home-dir", f"/home/{user}", "--shell", "/bin/bash",
         "--password", "*", user], env=_ENV)  # fmt: skip
    _put(rootfs, "etc/sudoers.d/90-cloud-init-users", f"{user} ALL=(ALL) NOPASSWD:ALL\n", 0o440)
    (rootfs / "home" / user / ".ssh").mkdir(mode=0o700)
    os.lchown(rootfs / "home" / user / ".ssh", 1000, 1000)


def _write_manifest(path: Path, recipe: Recipe, size: int) -> None:
    """Write the manifest: every Image field but rootfs, and what an instance needs to know."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    manifest = {"format": FORMAT, "image_id": image_id(recipe.name), **asdict(recipe),
                "architecture": machine_architecture(), "created": now, "size_bytes": size,
                "uid_shift": UID_SHIFT, "uid_count": UID_COUNT,
                "run_dirs": list(RUN_DIRS)}  # fmt: skip
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def shift_tree(root: Path, shift: int = UID_SHIFT) -> None:
    """Add ``shift`` to the owner and group of every file under ``root``; needs root.

    Symlinks are changed themselves, never followed. chown clears setuid/setgid bits and
    file capabilities: modes are re-applied and capabilities rewritten by namespaced_caps.
    """
    seen: set[tuple[int, int]] = set()
    for path in _walk(root):
        info = os.lstat(path)
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        caps = None
        if stat.S_ISREG(info.st_mode):
            with contextlib.suppress(OSError):  # ENODATA: the file has no capability
                caps = os.getxattr(path, _CAPS_XATTR, follow_symlinks=False)
        os.lchown(path, info.st_uid + shift, info.st_gid + shift)
        if not stat.S_ISLNK(info.st_mode):
            os.chmod(path, stat.S_IMODE(info.st_mode))
        if caps is not None:
            os.setxattr(path, _CAPS_XATTR, namespaced_caps(caps, shift), follow_symlinks=False)


def _walk(root: Path) -> Iterator[str]:
    """Every path under ``root``, itself included, never following symlinks."""
    yield str(root)
    for directory, dirs, files in os.walk(root):
        yield from (os.path.join(directory, name) for name in (*dirs, *files))


def namespaced_caps(value: bytes, root_uid: int) -> bytes:
    """A ``security.capability`` value that applies to the root of a user namespace (pure).

    The kernel honours a file capability only for the root id its value names (v2: the
    host's root), so v2 and v3 become v3 naming ``root_uid``; others come back unchanged.
    """
    magic = int.from_bytes(value[:4], "little")
    if (magic & 0xFF000000, len(value)) not in {(0x02000000, 20), (0x03000000, 24)}:
        return value
    header = (0x03000000 | (magic & 0x00FFFFFF)).to_bytes(4, "little")
    return header + value[4:20] + root_uid.to_bytes(4, "little")
