"""Instance cgroups on this host's cgroup v1 hierarchies, and the processes in them.

This machine mounts the v1 controllers under ``/sys/fs/cgroup/<controller>`` and a
cgroup2 tree at ``/sys/fs/cgroup/unified`` with no controllers enabled in it, so the
limits live in v1: one directory ``pocketcloud/<prefix>/<instance id>`` per controller.
Every function here reads or writes cgroupfs or /proc, or spawns or signals processes;
needs root. :func:`spawn_into` starts an instance's init already inside its cgroups (the
host side of the handshake documented in :mod:`.init`).

A cgroup's process list is also the runtime's most reliable census of an instance:
nothing inside the instance can leave it (cgroupfs is not visible inside), so killing
what ``cgroup.procs`` lists cleans up after a crashed init.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pocketcloud.host.run import HostError

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("cpu", "memory", "pids")
TOP = "pocketcloud"
CFS_PERIOD_US = 100_000
_CHILDREN_LOCK = threading.Lock()
_CHILDREN: set[int] = set()  # processes we spawned and must reap


@dataclass(frozen=True)
class Limits:
    """What an instance may use: bytes of memory, CPUs (fractional), processes."""

    memory_bytes: int
    cpus: float
    pids_max: int


def relpath(prefix: str, instance_id: str) -> str:
    """The instance's cgroup path below each controller (pure)."""
    return f"{TOP}/{prefix}/{instance_id}"


def limit_files(limits: Limits) -> list[tuple[str, str, str]]:
    """(controller, file, value) to write, in a valid order (pure).

    memsw must never be below the memory limit, so memory goes first; memsw is
    skipped by :func:`create` where swap accounting is off.
    """
    quota = max(1000, int(limits.cpus * CFS_PERIOD_US))
    return [
        ("memory", "memory.limit_in_bytes", str(limits.memory_bytes)),
        ("memory", "memory.memsw.limit_in_bytes", str(limits.memory_bytes)),
        ("cpu", "cpu.cfs_period_us", str(CFS_PERIOD_US)),
        ("cpu", "cpu.cfs_quota_us", str(quota)),
        ("pids", "pids.max", str(limits.pids_max)),
    ]


def available() -> bool:
    """Whether the v1 controllers this module needs are mounted (reads /sys)."""
    return all((ROOT / ctrl / "cgroup.procs").is_file() for ctrl in CONTROLLERS)


def create(rel: str, limits: Limits) -> None:
    """Create the instance's cgroups and write its limits; needs root."""
    for ctrl in CONTROLLERS:
        (ROOT / ctrl / rel).mkdir(parents=True, exist_ok=True)
    for ctrl, name, value in limit_files(limits):
        target = ROOT / ctrl / rel / name
        if target.exists():
            target.write_text(value)


def add(rel: str, pid: int) -> None:
    """Move one process (not its existing children) into every controller; needs root."""
    for ctrl in CONTROLLERS:
        (ROOT / ctrl / rel / "cgroup.procs").write_text(str(pid))


def procs(rel: str) -> set[int]:
    """Pids in the instance's cgroups, all controllers together (reads cgroupfs)."""
    found: set[int] = set()
    for ctrl in CONTROLLERS:
        with contextlib.suppress(FileNotFoundError):
            text = (ROOT / ctrl / rel / "cgroup.procs").read_text()
            found.update(int(line) for line in text.split())
    return found


def kill_all(rel: str, timeout: float = 5.0) -> set[int]:
    """SIGKILL every process in the instance's cgroups until none is left; needs root.

    Returns the pids it signalled.
    """
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while (pids := procs(rel)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed |= pids
        time.sleep(0.02)
    return killed


def remove(rel: str, timeout: float = 5.0) -> list[str]:
    """Kill what is left inside, then rmdir the instance's cgroups and empty parents.

    Returns the directories removed (``memory/pocketcloud/pc/i-…``); needs root.
    """
    kill_all(rel, timeout)
    removed = []
    for ctrl in CONTROLLERS:
        path = ROOT / ctrl / rel
        if path.is_dir() and _rmdir_retrying(path, timeout):
            removed.append(f"{ctrl}/{rel}")
        for parent in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):  # still used by another instance or cloud
                parent.rmdir()
    return removed


def _rmdir_retrying(path: Path, timeout: float) -> bool:
    """rmdir, retrying while exiting tasks still populate the cgroup (EBUSY)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def prune(prefix: str) -> list[str]:
    """rmdir ``pocketcloud/<prefix>`` (and ``pocketcloud``) where empty; needs root."""
    removed = []
    for ctrl in CONTROLLERS:
        for path in (ROOT / ctrl / TOP / prefix, ROOT / ctrl / TOP):
            with contextlib.suppress(OSError):  # absent, or still in use
                path.rmdir()
                removed.append(f"{ctrl}/{path.relative_to(ROOT / ctrl)}")
    return removed


def instance_ids(prefix: str) -> set[str]:
    """Instance ids that have a cgroup directory of this prefix in any controller."""
    found: set[str] = set()
    for ctrl in CONTROLLERS:
        base = ROOT / ctrl / TOP / prefix
        if base.is_dir():
            found.update(entry.name for entry in base.iterdir() if entry.is_dir())
    return found


def oom_kills(rel: str) -> int:
    """How many processes the memory controller OOM-killed in this cgroup (reads cgroupfs)."""
    text = (ROOT / "memory" / rel / "memory.oom_control").read_text()
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return int(value)
    return 0


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (reads /proc)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def parent_of(pid: int) -> int:
    """The process's parent pid, 0 if it is gone (reads /proc)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def wait_until(done: Callable[[], bool], timeout: float) -> bool:
    """Poll ``done`` every 10 ms until it is true (True) or ``timeout`` s pass (False)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def terminate(pids: Iterable[int], grace: float) -> None:
    """SIGTERM (when ``grace`` > 0), wait up to ``grace`` s, then SIGKILL what is left.

    Waits until the processes are gone (zombies count as gone). Needs permission to
    signal them.
    """
    pids = set(pids)
    steps = [(signal.SIGTERM, grace)] if grace > 0 else []
    for signo, wait in [*steps, (signal.SIGKILL, 5.0)]:
        for pid in filter(alive, pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signo)
        if wait_until(lambda: not any(map(alive, pids)), wait):
            return


def cmdline(pid: int) -> list[str]:
    """The process's arguments, [] if it is gone or a zombie (reads /proc)."""
    with contextlib.suppress(OSError):
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return raw.decode("utf-8", "replace").split("\0")[:-1]
    return []


def running_module(module: str) -> dict[int, list[str]]:
    """pid → arguments, for each process running ``python -m <module> <arg>`` (reads /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        args = cmdline(int(entry.name)) if entry.name.isdigit() else []
        if len(args) >= 2 and args[-2] == module:
            found[int(entry.name)] = args
    return found


def track_child(pid: int) -> None:
    """Remember a child we spawned, so that :func:`reap_children` collects it."""
    with _CHILDREN_LOCK:
        _CHILDREN.add(pid)


def reap_children() -> set[int]:
    """waitpid every exited tracked child; returns those still running.

    This host's PID 1 never reaps orphans, so a child we leave unreaped stays a zombie.
    """
    with _CHILDREN_LOCK:
        for pid in list(_CHILDREN):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _CHILDREN.discard(pid)
        return set(_CHILDREN)


def spawn_into(rel: str, argv: list[str], env: dict[str, str], console: str, timeout: float) -> int:
    """Spawn an instance's init in a new session and run its boot handshake.

    The child's stdin is a socket to us, its stdout/stderr the console file. The init
    sends its host pid; we move it and the spawned process into the cgroups, answer
    ``go``, and wait for ``ready``. Returns the init's host pid. On any failure the
    processes are killed and reaped and HostError is raised. Needs root.
    """
    ours, theirs = socket.socketpair()
    log_fd = os.open(console, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    dup2 = os.POSIX_SPAWN_DUP2
    actions = [(dup2, theirs.fileno(), 0), (dup2, log_fd, 1), (dup2, log_fd, 2)]
    try:
        child = os.posix_spawnp(argv[0], argv, env, file_actions=actions, setsid=True)
    except OSError as exc:
        ours.close()
        raise HostError(argv, 127, str(exc)) from exc
    finally:
        theirs.close()
        os.close(log_fd)
    track_child(child)
    with ours:
        try:
            return _handshake(ours, rel, child, argv, time.monotonic() + timeout)
        except BaseException:
            kill_all(rel)
            terminate({child}, 0)
            wait_until(lambda: child not in reap_children(), 2.0)
            raise


def _handshake(sock: socket.socket, rel: str, child: int, argv: list[str], deadline: float) -> int:
    """``pid N`` from the init → cgroups → ``go`` → ``ready`` (or ``error: …``, or EOF)."""
    words = _read_line(sock, argv, deadline).split()
    if len(words) != 2 or words[0] != "pid" or not words[1].isdigit():
        raise HostError(argv, 1, f"init did not start: {' '.join(words)!r}")
    add(rel, child)
    add(rel, int(words[1]))
    sock.sendall(b"go\n")
    status = _read_line(sock, argv, deadline)
    if status != "ready":
        raise HostError(argv, 1, f"instance failed to boot: {status or 'init exited'}")
    return int(words[1])


def _read_line(sock: socket.socket, argv: list[str], deadline: float) -> str:
    """One line from the init ('' at EOF); HostError on timeout."""
    data = b""
    while not data.endswith(b"\n"):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(256)
        except TimeoutError as exc:
            raise HostError(argv, 1, "timed out waiting for the instance's init") from exc
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").strip()


def reachable(path: str | os.PathLike[str], uid: int) -> bool:
    """Whether uid (and the gid of the same number) may traverse every directory to ``path``."""
    parts = os.path.abspath(path).split("/")
    for depth in range(1, len(parts) + 1):
        try:
            st = os.stat("/".join(parts[:depth]) or "/")
        except OSError:
            return False
        own = (st.st_uid == uid and st.st_mode & 0o100) or (st.st_gid == uid and st.st_mode & 0o010)
        if not (own or st.st_mode & 0o001):
            return False
    return True


def interpreter(uid: int) -> str:
    """A python3 that ``uid`` can run: this one unless it lives under /root, else the system's."""
    for candidate in (os.path.realpath(sys.executable), os.path.realpath("/usr/bin/python3")):
        if os.path.isfile(candidate) and reachable(candidate, uid):
            return candidate
    raise FileNotFoundError(f"no python3 that uid {uid} can execute")


def ensure_userns_support(first: int, count: int) -> None:
    """newuidmap/newgidmap present, ``root:first:count`` in /etc/subuid and /etc/subgid.

    Appends the line where it is missing; HostError when Debian's ``uidmap`` is absent.
    """
    for tool in ("newuidmap", "newgidmap"):
        if shutil.which(tool) is None:
            raise HostError([tool], 127, f"{tool} not found: install Debian's `uidmap` package")
    line = f"root:{first}:{count}"
    with _CHILDREN_LOCK:
        for path in (Path("/etc/subuid"), Path("/etc/subgid")):
            text = path.read_text() if path.exists() else ""
            if line not in text.splitlines():
                sep = "" if text == "" or text.endswith("\n") else "\n"
                path.write_text(f"{text}{sep}{line}\n")
