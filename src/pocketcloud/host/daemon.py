"""Running the control plane in the background: spawn, pidfile, stop.

Everything here starts or signals processes and reads/writes files.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pocketcloud.config import DEFAULT_HOME


class DaemonError(RuntimeError):
    """The daemon could not be started or stopped."""


@dataclass(frozen=True)
class Liveness:
    """What the pidfile says and whether that process is this cloud's running server."""

    pid: int | None  # the pid in the pidfile, None without one
    running: bool
    reason: str = ""  # why a recorded pid is not a running server

    @property
    def running_pid(self) -> int | None:
        """The server's pid if it runs, else None."""
        return self.pid if self.running else None


def judge(
    pid: int,
    state: str | None,
    args: Sequence[str],
    env_home: str | None,
    cwd: str,
    root: Path,
) -> Liveness:
    """Whether process ``pid`` is a running ``pocketcloud serve`` for ``root`` (pure).

    ``state`` is the letter of /proc/<pid>/stat (None: no such process); a zombie (Z)
    or dead (X) process is gone, though ``kill -0`` still finds a zombie. The process
    must run ``pocketcloud serve`` and its state directory (``--state-dir``, else
    ``$POCKETCLOUD_HOME``, else the default) must be ``root``: a pid reused by another
    process is not the server.
    """
    if state is None:
        return Liveness(pid, False, f"pid {pid} is gone")
    if state in ("Z", "X"):
        return Liveness(pid, False, f"pid {pid} died" + (", a zombie now" if state == "Z" else ""))
    if not _is_serve(args):
        return Liveness(pid, False, f"pid {pid} is not a pocketcloud server")
    if Path(cwd, _state_arg(args) or env_home or str(DEFAULT_HOME)).resolve() != root.resolve():
        return Liveness(pid, False, f"pid {pid} serves another state directory")
    return Liveness(pid, True)


def _is_serve(args: Sequence[str]) -> bool:
    """``python -m pocketcloud serve …`` or ``…/bin/pocketcloud serve …`` (pure)."""
    for index, word in enumerate(args[:3]):
        if (word == "pocketcloud" or word.endswith("/pocketcloud")) and "serve" in args[index:]:
            return True
    return False


def _state_arg(args: Sequence[str]) -> str | None:
    """The value of ``--state-dir`` in a command line, if any (pure)."""
    for index, word in enumerate(args):
        if word == "--state-dir" and index + 1 < len(args):
            return args[index + 1]
        if word.startswith("--state-dir="):
            return word.split("=", 1)[1]
    return None


def liveness(pidfile: Path) -> Liveness:
    """Judge the pidfile's process by its /proc state and command line (reads /proc)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return Liveness(None, False)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return judge(pid, None, [], None, "/", pidfile.parent)
    state = stat.rsplit(")", 1)[1].split()[0]
    args, cwd = [], "/"
    with contextlib.suppress(OSError):  # a zombie has neither
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    return judge(pid, state, args[:-1], _environ_home(pid), cwd, pidfile.parent)


def _environ_home(pid: int) -> str | None:
    """``POCKETCLOUD_HOME`` in the process's environment (reads /proc; root)."""
    with contextlib.suppress(OSError):
        for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if entry.startswith(b"POCKETCLOUD_HOME="):
                return entry.split(b"=", 1)[1].decode("utf-8", "replace")
    return None


def read_pid(pidfile: Path) -> int | None:
    """The running server's pid, if the pidfile names one (see :func:`liveness`)."""
    return liveness(pidfile).running_pid


def write_pid(pidfile: Path) -> None:
    """Record this process as the daemon (writes a file)."""
    pidfile.write_text(f"{os.getpid()}\n")


def remove_pid(pidfile: Path) -> None:
    """Forget the pidfile if it names this process."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        if int(pidfile.read_text().strip()) == os.getpid():
            pidfile.unlink()


IP_FREEBIND = 15  # linux/in.h; not exported by the socket module


def listener(host: str, port: int, *, freebind: bool = False) -> socket.socket:
    """A bound TCP socket (not yet listening) for a server to take over.

    ``freebind`` allows an address no interface holds yet: the instances' gateway
    exists only while an instance does.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if freebind:
        sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port (opens a socket)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            # nothing listening on a port of the ephemeral range: the connect can pick that
            # very port as its source and connect to itself (TCP simultaneous open)
            return bool(sock.getsockname() != sock.getpeername())
    except OSError:
        return False


def listening(pid: int, port: int) -> bool:
    """Whether process ``pid`` itself holds a TCP socket listening on ``port`` (reads /proc).

    :func:`answers` cannot tell whose socket accepted: after a SIGKILL, a child the dead
    server was forking holds copies of its listening sockets until that child execs, and
    the kernel completes handshakes on them meanwhile.
    """
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    inodes = set()
    for fd in fds:
        with contextlib.suppress(OSError):  # closed meanwhile
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[len("socket:[") : -1])
    local = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                if fields[1].endswith(local) and fields[3] == "0A" and fields[9] in inodes:
                    return True
    return False


def spawn(state_dir: Path, logfile: Path, host: str, port: int, wait: float = 20.0) -> int:
    """Start ``pocketcloud serve`` detached; return its pid once it listens and answers.

    Starts a process in a new session, its output appended to ``logfile``.
    """
    with logfile.open("ab") as log:
        start = log.seek(0, os.SEEK_END)
        process = subprocess.Popen(
            [sys.executable, "-m", "pocketcloud", "serve", "--state-dir", str(state_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = _last_line(logfile, start)
            raise DaemonError(
                f"pocketcloud serve exited with {process.returncode}{said}; see {logfile}"
            )
        if listening(process.pid, port) and answers(host, port):
            return process.pid
        time.sleep(0.05)
    process.terminate()
    raise DaemonError(f"pocketcloud serve did not answer on {host}:{port} within {wait:.0f}s")


def _last_line(logfile: Path, start: int) -> str:
    """``: <the last line the server wrote>`` since ``start``, or "" (reads the log)."""
    with contextlib.suppress(OSError), logfile.open("rb") as log:
        log.seek(start)
        lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines()]
        said = [line for line in lines if line]
        if said:
            return f": {said[-1][-300:]}"
    return ""


def stop(pid: int, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds (signals a process)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
