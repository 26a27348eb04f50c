"""The doctor's edge: read the facts the checks judge from this machine.

Reads /proc and /etc files, ``stat``s the state directory and its parents, looks tools up
with ``shutil.which`` under the current PATH (the one the server's commands will use),
and probes the server's ports by binding them (and closing at once). Changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from pocketcloud.config import Settings
from pocketcloud.doctor.checks import TOOLS, HostFacts, PortProbe, StateDir
from pocketcloud.host import daemon
from pocketcloud.host import images as host_images
from pocketcloud.host.cgroups import CONTROLLERS
from pocketcloud.host.cgroups import ROOT as CGROUP_ROOT
from pocketcloud.host.images import UID_SHIFT as SHIFT
from pocketcloud.host.network import GATEWAY

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUILD_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
PORT_WAIT = 1.0  # seconds a taken port is tried again


def gather(root: Path, settings: Settings) -> HostFacts:
    """The facts about this machine, its PATH and the cloud in ``root`` (reads only)."""
    server = daemon.liveness(root / "pocketcloud.pid").running_pid
    names = [tool.name for tool in TOOLS] + ["debootstrap"]
    tools = {name: shutil.which(name) for name in names}
    # the image build looks debootstrap up in a PATH of its own (host.images._ENV)
    tools["debootstrap"] = tools["debootstrap"] or shutil.which("debootstrap", path=BUILD_PATH)
    return HostFacts(
        euid=os.geteuid(),
        tools=tools,
        filesystems=_filesystems(),
        kernel=os.uname().release,
        max_user_namespaces=_int_file(Path("/proc/sys/user/max_user_namespaces")),
        subuid=_text(Path("/etc/subuid")),
        subgid=_text(Path("/etc/subgid")),
        cgroup_controllers=frozenset(
            c for c in CONTROLLERS if (CGROUP_ROOT / c / "cgroup.procs").is_file()
        ),
        cgroup2_only=(CGROUP_ROOT / "cgroup.controllers").is_file(),
        state=state_facts(root),
        image_cached=_image_cached(),
        ports=tuple(_probe(*wanted, server) for wanted in server_addresses(settings)),
        elsewhere={name: found for name in names if not tools[name] and (found := elsewhere(name))},
    )


def elsewhere(tool: str) -> str | None:
    """Where ``tool`` is installed in the system's usual folders, whatever the PATH."""
    return shutil.which(tool, path=SYSTEM_PATH)


def server_addresses(settings: Settings) -> list[tuple[str, str, int, bool]]:
    """(role, host, port, freebind) of every socket ``pocketcloud serve`` binds."""
    wanted = [("API", settings.host, settings.port, False)]
    if settings.host not in ("0.0.0.0", GATEWAY):  # noqa: S104 (a comparison, not a bind)
        wanted.append(("API (instances' side)", GATEWAY, settings.port, True))
    wanted.append(("metadata service", GATEWAY, settings.imds_port, True))
    return wanted


def _probe(role: str, host: str, port: int, freebind: bool, server: int | None) -> PortProbe:
    """Bind host:port as the server would, then close (opens a socket).

    A taken port is tried again for up to a second: right after a server is killed, a
    child it was forking holds its listening socket for a few ms.
    """
    deadline = time.monotonic() + PORT_WAIT
    while True:
        try:
            daemon.listener(host, port, freebind=freebind).close()
        except OSError as error:
            if server is not None and _holds(server, port):
                return PortProbe(role, host, port, error.strerror or str(error), server)
            if time.monotonic() > deadline:
                return PortProbe(role, host, port, error.strerror or str(error))
            time.sleep(0.05)
        else:
            return PortProbe(role, host, port)


def _holds(server: int, port: int) -> bool:
    """Whether this cloud's running server listens on ``port`` (reads /proc). A user who
    may not read the server's descriptors (not root) cannot tell: then it counts as held."""
    if not os.access(f"/proc/{server}/fd", os.R_OK):
        return True
    return daemon.listening(server, port)


def state_facts(root: Path) -> StateDir:
    """The state directory's mode and owner, and the first parent uid 100000 cannot pass."""
    blocked: tuple[Path | None, int] = (None, 0)
    for parent in reversed(root.parents):
        with contextlib.suppress(OSError):
            st = parent.stat()
            if not st.st_mode & 0o001 and st.st_uid != SHIFT:
                blocked = (parent, st.st_mode)
                break
    try:
        st = root.stat()
    except FileNotFoundError:
        return StateDir(root, False, blocked_by=blocked[0], blocked_mode=blocked[1])
    return StateDir(root, True, st.st_mode, st.st_uid, *blocked)


def _filesystems() -> frozenset[str]:
    """The filesystem types this kernel knows (reads /proc/filesystems)."""
    lines = _text(Path("/proc/filesystems")).splitlines()
    return frozenset(line.split()[-1] for line in lines if line.strip())


def _image_cached() -> bool:
    """Whether the default image is built in this machine's cache (reads files)."""
    cache = host_images.cache_dir()
    return host_images.find_image(cache, host_images.DEFAULT_IMAGE) is not None


def _int_file(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
