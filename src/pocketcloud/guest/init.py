"""The instance's PID 1: ``python3 -m pocketcloud.guest.init <workdir>/init.json``.

Started by :mod:`pocketcloud.host.runtime` inside the instance's user, mount, PID, UTS
and IPC namespaces and its netns, as root of the user namespace (host uid 100000).
Standard library only: it runs under whichever host python3 uid 100000 can execute,
and everything it needs is imported before ``pivot_root`` takes the host's files away.

Protocol with the host on fd 0 (a socket; host side: :func:`.cgroups.spawn_into`): init
sends ``pid <host pid>``, waits for ``go`` (it is in the cgroups by then), boots, and sends
``ready`` (sshd listens) or ``error: <reason>``. fd 1/2 are the instance's console.log.

Boot: overlay root (``userxattr``), /proc, /sys (read-only), /dev with bind-mounted
host device nodes (mknod is not allowed in a user namespace), /dev/pts, /dev/shm, /run,
/tmp; ``pivot_root``; hostname, /etc/hostname, /etc/hosts, the login user's
authorized_keys; sshd; the enabled services (:mod:`.supervisor`: the files in
/etc/pocketcloud/services, status in /run/pocketcloud/services.json); user-data once.
Then one thread waits for signals with a timeout to the next timer (a delayed restart, a
stop deadline): SIGCHLD reaps children (sshd and services come back after a delay),
SIGHUP re-reads the service files, SIGTERM stops every process of the instance and
exits 0.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes

# a codec is looked up lazily in the stdlib of the interpreter running init (the host's),
# gone after pivot_root: one of another Debian release (debian-13's 3.13) has no 3.11 stdlib
import encodings.ascii  # noqa: F401
import json
import os
import platform
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from pocketcloud.guest import supervisor

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, AT_RECURSIVE, SYS_MOUNT_SETATTR = 1, 0x8000, 442
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = {"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0"}
DEV_LINKS |= {"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STATE_DIR = "/var/lib/pocketcloud"
MARKER = f"{STATE_DIR}/user-data.done"
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"
SSHD = ("/usr/sbin/sshd", "-D", "-e")
WAITED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
CHILD_DEFAULTS = {signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, *WAITED}
BASE_ENV = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
IDLE_WAIT = 3600.0  # sigtimedwait's timeout when no timer runs
SSHD_RESTART_DELAY = 1.0
SSHD_LISTEN_TIMEOUT = 5.0

_LIBC = ctypes.CDLL(None, use_errno=True)
_T0 = time.monotonic()


def log(message: str) -> None:
    """One console line, stamped like a kernel boot log (writes fd 1)."""
    line = f"[{time.monotonic() - _T0:9.3f}] pocketcloud-init: {message}\n"
    os.write(1, line.encode("utf-8", "replace"))


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str = ""
) -> None:
    """mount(2); OSError naming the target when it fails."""
    enc = [None if s is None else s.encode() for s in (source, target, fstype)]
    _check(_LIBC.mount(enc[0], enc[1], enc[2], flags, data.encode() or None), f"mount {target}")


def _mount_ro_recursive(target: str) -> None:
    """mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY): read-only, submounts included."""
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)
    res = _LIBC.syscall(SYS_MOUNT_SETATTR, -100, target.encode(), AT_RECURSIVE, attr, 32)
    _check(res, f"mount_setattr {target}")


def mount_root(cfg: dict[str, Any]) -> str:
    """Make the mount tree private and mount the overlay root; returns its path."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    work, root = cfg["workdir"], f"{cfg['workdir']}/root"
    opts = f"lowerdir={cfg['rootfs']},upperdir={work}/upper,workdir={work}/work,userxattr"
    mount("overlay", root, "overlay", 0, opts)
    log(f"mounted root (overlay over {cfg['rootfs']})")
    return root


def mount_sys(root: str) -> None:
    """A fresh sysfs if the kernel allows one, else the host's netns-specific /sys, read-only.

    sysfs can only be mounted by a user namespace that owns the netns; the instance's
    netns belongs to the host's, so the fallback (rbind + recursive read-only) is the
    normal path here.
    """
    try:
        mount("sysfs", f"{root}/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        log("mounted /sys (sysfs, ro)")
    except OSError:
        mount("/sys", f"{root}/sys", None, MS_BIND | MS_REC)
        _mount_ro_recursive(f"{root}/sys")
        log("mounted /sys (bind of the netns's sysfs, ro)")


def mount_dev(root: str) -> None:
    """/dev as a tmpfs with bound host device nodes, pts, shm and the usual links."""
    dev = f"{root}/dev"
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k")
    for name in DEVICES:
        os.close(os.open(f"{dev}/{name}", os.O_CREAT | os.O_WRONLY, 0o666))
        mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    for name, target in DEV_LINKS.items():
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(f"{dev}/pts", 0o755)
    os.mkdir(f"{dev}/shm", 0o1777)
    pts_opts = "newinstance,ptmxmode=0666,mode=0620,gid=5"
    mount("devpts", f"{dev}/pts", "devpts", MS_NOSUID | MS_NOEXEC, pts_opts)
    mount("tmpfs", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")


def mount_api_filesystems(root: str) -> None:
    """/proc (this PID namespace), /sys, /dev, /run and /tmp under the new root."""
    mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount_sys(root)
    mount_dev(root)
    for name, mode in (("run", "755"), ("tmp", "1777")):
        mount("tmpfs", f"{root}/{name}", "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode}")
    log("mounted /proc /sys /dev /dev/pts /dev/shm /run /tmp")


def pivot(root: str) -> None:
    """pivot_root into ``root`` and detach the host's tree (the ``.``/``.`` idiom)."""
    os.chdir(root)
    number = SYS_PIVOT_ROOT[platform.machine()]
    _check(_LIBC.syscall(number, b".", b"."), "pivot_root")
    _check(_LIBC.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    log("pivot_root done; host filesystem detached")


def _write(path: str, text: str, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def configure(cfg: dict[str, Any]) -> None:
    """Hostname, /etc/hostname, /etc/hosts, authorized_keys, /run/sshd, host key check."""
    name, address = cfg["hostname"], cfg["private_ip"]
    socket.sethostname(name)
    _write("/etc/hostname", f"{name}\n")
    hosts = f"127.0.0.1 localhost\n{address} {name}\n::1 localhost ip6-localhost ip6-loopback\n"
    _write("/etc/hosts", hosts)
    install_authorized_key(cfg["login_user"], cfg["authorized_key"])
    configure_aws(cfg.get("aws_env") or {}, ("root", cfg["login_user"]))
    os.makedirs("/run/sshd", 0o755, exist_ok=True)
    log_host_key()


def configure_aws(env: dict[str, str], users: tuple[str, ...]) -> None:
    """Let AWS SDKs and the CLI find the cloud with no configuration, as on EC2: every
    program init starts gets the endpoint and region in its environment, login shells
    through /etc/profile.d, and each user's ~/.aws/config names them unless it exists
    (credentials come from the metadata service)."""
    if not env:
        return
    BASE_ENV.update(env)
    exports = "".join(f"export {name}='{value}'\n" for name, value in sorted(env.items()))
    os.makedirs("/etc/profile.d", 0o755, exist_ok=True)
    _write("/etc/profile.d/pocketcloud-aws.sh", "# written by pocketcloud-init\n" + exports)
    config = "[default]\n"
    if "AWS_REGION" in env:
        config += f"region = {env['AWS_REGION']}\n"
    if "AWS_ENDPOINT_URL" in env:
        config += f"endpoint_url = {env['AWS_ENDPOINT_URL']}\n"
    for user in dict.fromkeys(users):
        try:
            fields = _passwd_entry(user)
        except LookupError:
            continue
        uid, gid, home = int(fields[2]), int(fields[3]), fields[5]
        aws_dir = f"{home}/.aws"
        if os.path.exists(f"{aws_dir}/config"):
            continue
        os.makedirs(aws_dir, 0o700, exist_ok=True)
        os.chown(aws_dir, uid, gid)
        _write(f"{aws_dir}/config", config, 0o600)
        os.chown(f"{aws_dir}/config", uid, gid)
    log(f"AWS endpoint {env.get('AWS_ENDPOINT_URL', '-')} written for programs and {users}")


def _passwd_entry(user: str) -> list[str]:
    """The user's /etc/passwd fields (read directly: no NSS modules after pivot_root)."""
    with open("/etc/passwd", encoding="utf-8") as passwd:
        for line in passwd:
            fields = line.rstrip("\n").split(":")
            if fields[0] == user and len(fields) >= 7:
                return fields
    raise LookupError(f"login user {user!r} is not in the image's /etc/passwd")


def install_authorized_key(user: str, key: str) -> None:
    """~user/.ssh/authorized_keys holding ``key``, mode 600, owned by the user."""
    fields = _passwd_entry(user)
    uid, gid, home = int(fields[2]), int(fields[3]), fields[5]
    ssh_dir = f"{home}/.ssh"
    os.makedirs(ssh_dir, 0o700, exist_ok=True)
    os.chown(ssh_dir, uid, gid)
    _write(f"{ssh_dir}/authorized_keys", key.strip() + "\n", 0o600)
    os.chown(f"{ssh_dir}/authorized_keys", uid, gid)
    os.chmod(f"{ssh_dir}/authorized_keys", 0o600)
    log(f"authorized_keys written for {user}")


def log_host_key() -> None:
    """Print the host's public key the way EC2 console output does (or warn: none)."""
    if not os.path.exists(f"{HOST_KEY}.pub"):
        log(f"WARNING: no {HOST_KEY}; sshd will fail")
        return
    with open(f"{HOST_KEY}.pub", encoding="utf-8") as pub:
        block = f"-----BEGIN SSH HOST KEY KEYS-----\n{pub.read().strip()}\n"
    os.write(1, f"{block}-----END SSH HOST KEY KEYS-----\n".encode())


def spawn(
    argv: list[str] | tuple[str, ...], env: dict[str, str] | None = None, output: int | None = None
) -> int:
    """Start a program in its own session: clean environment (plus ``env``), default
    signals, empty mask, stdin /dev/null, stdout and stderr to ``output`` (else the console)."""
    actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0)]
    if output is not None:
        actions += [(os.POSIX_SPAWN_DUP2, output, 1), (os.POSIX_SPAWN_DUP2, output, 2)]
    return os.posix_spawn(  # setsigmask=() unblocks what init blocks; omitted, it is inherited
        argv[0],
        list(argv),
        {**BASE_ENV, **(env or {})},
        file_actions=actions,
        setsid=True,
        setsigmask=(),
        setsigdef=CHILD_DEFAULTS,
    )


def start_user_data(encoded: str | None) -> int | None:
    """Run user-data once per instance, in the background; returns its pid or None."""
    if encoded is None or os.path.exists(MARKER):
        log("user-data: none" if encoded is None else "user-data: already ran, skipped")
        return None
    data = base64.b64decode(encoded)
    os.makedirs(STATE_DIR, 0o755, exist_ok=True)
    script = f"{STATE_DIR}/user-data"
    with open(os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700), "wb") as out:
        out.write(data)
    _write(MARKER, f"{time.time():.3f}\n")
    argv = [script] if data.startswith(b"#!") else ["/bin/sh", script]
    log("Cloud-init style: running user-data")
    return spawn(argv)


@dataclass
class Supervisor:
    """The children PID 1 watches: sshd (restarted when it dies), the services, user-data."""

    grace: float
    services: supervisor.ServiceTable
    sshd: int = 0
    user_data: int | None = None
    sshd_started: float = 0.0
    sshd_due: float | None = None  # monotonic time of sshd's delayed restart

    def start_sshd(self) -> None:
        """Spawn ``sshd -D -e``."""
        self.sshd, self.sshd_started = spawn(SSHD), time.monotonic()
        log(f"sshd started (pid {self.sshd})")

    def reap(self) -> None:
        """Collect every exited child; log user-data's exit; bring sshd and services back."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._exited(pid, os.waitstatus_to_exitcode(status))

    def _exited(self, pid: int, code: int) -> None:
        if pid == self.user_data:
            log(f"Cloud-init style: user-data exit {code}")
            self.user_data = None
        elif pid == self.sshd:
            log(f"sshd exited with {code}; restarting")
            self.sshd, self.sshd_due = 0, self.sshd_started + SSHD_RESTART_DELAY
        else:
            self.services.exited(pid, code)

    def tick(self) -> None:
        """Run the timers that are due: sshd's restart, the services' restarts and stops."""
        now = time.monotonic()
        if self.sshd_due is not None and self.sshd_due <= now:
            self.sshd_due = None
            self.start_sshd()
        self.services.tick(now)

    def timeout(self) -> float:
        """Seconds until the next timer is due (0 if one is late, IDLE_WAIT if none)."""
        dues = [d for d in (self.sshd_due, self.services.next_due()) if d is not None]
        return max(0.0, min(dues) - time.monotonic()) if dues else IDLE_WAIT

    def shutdown(self) -> None:
        """SIGTERM everything, SIGKILL what is left after the grace period, sync, exit 0."""
        log("shutting down: SIGTERM to all processes")
        self.sshd = -1
        _signal_all(signal.SIGTERM)
        if not _wait_children(time.monotonic() + self.grace):
            log("grace period over: SIGKILL")
            _signal_all(signal.SIGKILL)
            _wait_children(time.monotonic() + 5)
        os.sync()
        log("stopped")
        sys.exit(0)


def _signal_all(signo: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signo)  # PID 1 of a PID namespace: every other process in it


def _wait_children(deadline: float) -> bool:
    """Reap until no child is left (True) or the deadline passes (False)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            signal.sigtimedwait({signal.SIGCHLD}, min(remaining, 0.1))


def handshake() -> None:
    """Tell the host our pid as it sees it; wait for its ``go`` (we are in the cgroups)."""
    host_pid = os.readlink("/proc/self")  # the host's procfs: the host's pid numbers
    os.write(0, f"pid {host_pid}\n".encode())
    if os.read(0, 64).strip() != b"go":
        raise SystemExit("host did not confirm the start")


def report(message: str) -> None:
    """Send one line to the host if it is still listening, then drop the channel."""
    with contextlib.suppress(OSError):
        os.write(0, f"{message}\n".encode())
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def boot(cfg: dict[str, Any]) -> Supervisor:
    """Everything from mounting the root to an sshd that listens (``ready`` means SSH works)."""
    root = mount_root(cfg)
    mount_api_filesystems(root)
    pivot(root)
    configure(cfg)
    services = supervisor.ServiceTable(spawn, log)
    sup = Supervisor(grace=float(cfg.get("shutdown_grace", 5)), services=services)
    sup.start_sshd()
    services.boot()
    sup.user_data = start_user_data(cfg.get("user_data"))
    if wait_listening(22, time.monotonic() + SSHD_LISTEN_TIMEOUT):
        log("sshd listening on port 22")
    else:
        log(f"WARNING: nothing listens on port 22 after {SSHD_LISTEN_TIMEOUT:.0f} s")
    return sup


def wait_listening(port: int, deadline: float) -> bool:
    """Poll /proc/net/tcp{,6} for a listening socket on ``port`` (no connection, no log)."""
    local = f":{port:04X}"
    while time.monotonic() < deadline:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table, encoding="ascii") as sockets:
                rows = [line.split() for line in sockets.readlines()[1:]]
            if any(row[1].endswith(local) and row[3] == "0A" for row in rows):
                return True
        time.sleep(0.005)
    return False


def main(argv: list[str]) -> int:
    """Boot the instance, then supervise it until SIGTERM."""
    signal.pthread_sigmask(signal.SIG_BLOCK, WAITED)
    with open(argv[0], encoding="utf-8") as conf:
        cfg = json.load(conf)
    log(f"starting instance {cfg['instance_id']}")
    try:
        handshake()
        sup = boot(cfg)
    except Exception as exc:
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
        log(f"boot failed: {exc}")
        report(f"error: {exc}")
        return 1
    report("ready")
    while True:
        info = signal.sigtimedwait(WAITED, sup.timeout())
        handle(sup, None if info is None else info.si_signo)


def handle(sup: Supervisor, signo: int | None) -> None:
    """One turn of the loop: the signal (None: a timer is due), then the timers.

    A bug in the service logic is printed to the console, never fatal to PID 1.
    """
    if signo in (signal.SIGTERM, signal.SIGINT):
        sup.shutdown()
    try:
        if signo == signal.SIGCHLD:
            sup.reap()
        elif signo == signal.SIGHUP:
            log("SIGHUP: re-reading /etc/pocketcloud/services")
            sup.services.reload()
        sup.tick()
    except Exception:  # PID 1 must survive its own bugs
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
