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
from pathlib import Path


class DaemonError(RuntimeError):
    """The daemon could not be started or stopped."""


def read_pid(pidfile: Path) -> int | None:
    """The pid in the pidfile if that process is alive, else None (reads a file, signals 0)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


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
            raise DaemonError(f"pocketcloud serve exited with {process.returncode}; see {logfile}")
        if listening(process.pid, port) and answers(host, port):
            return process.pid
        time.sleep(0.05)
    process.terminate()
    raise DaemonError(f"pocketcloud serve did not answer on {host}:{port} within {wait:.0f}s")


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
