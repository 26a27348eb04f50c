"""The doctor's decisions: each check is a pure function of gathered :class:`HostFacts`.

A :class:`Finding` says what was found, and for a failure why it matters and the one
command that fixes it. ``blocks`` tells a failure from a warning; ``serve`` whether
``pocketcloud up``/``serve`` must refuse to start over it (a server runs without rsync,
and it sets its state directory back to 0711 itself, for example).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pocketcloud.host.cgroups import CONTROLLERS
from pocketcloud.host.images import UID_COUNT as ID_RANGE
from pocketcloud.host.images import UID_SHIFT as SHIFT

USERXATTR_KERNEL = (5, 11)  # overlayfs mounted in a user namespace needs `userxattr`


@dataclass(frozen=True)
class Finding:
    """One check's result: a line a user can act on."""

    check: str
    ok: bool
    what: str
    why: str = ""
    fix: str = ""
    blocks: bool = True
    serve: bool = True

    def line(self) -> str:
        """The finding as one line: ``✓ what``, or ``✗ what — why. Fix: fix``."""
        if self.ok:
            return f"✓ {self.what}"
        mark = "✗" if self.blocks else "!"
        return f"{mark} {self.what} — {self.why}. Fix: {self.fix}"


@dataclass(frozen=True)
class Tool:
    """A host command the cloud (or its clients) runs, and the package that has it."""

    name: str
    package: str
    why: str
    serve: bool = True


TOOLS = (
    Tool("nft", "nftables", "security groups are nftables rules on this host"),
    Tool("ip", "iproute2", "instances' namespaces, veth pairs and routes are made with `ip`"),
    Tool("unshare", "util-linux", "each instance starts in namespaces of its own with `unshare`"),
    Tool("newuidmap", "uidmap", f"root in an instance is uid {SHIFT} on the host (user namespace)"),
    Tool("newgidmap", "uidmap", f"root in an instance is gid {SHIFT} on the host (user namespace)"),
    Tool("ssh", "openssh-client", "you log in to instances and deploy over ssh", serve=False),
    Tool("rsync", "rsync", "`pocketcloud deploy` copies a project with rsync", serve=False),
)


@dataclass(frozen=True)
class PortProbe:
    """Whether the server could bind one of its addresses right now."""

    role: str
    host: str
    port: int
    error: str | None = None  # why a bind failed; None: free
    ours: int | None = None  # pid of this cloud's own server, when it holds the port


@dataclass(frozen=True)
class StateDir:
    """The state directory as ``stat`` sees it."""

    path: Path
    exists: bool
    mode: int = 0o711
    uid: int = 0
    blocked_by: Path | None = None  # first directory above it uid SHIFT cannot traverse
    blocked_mode: int = 0


@dataclass(frozen=True)
class HostFacts:
    """Everything the checks look at on this machine (its tools, kernel, ids, ports and
    the state directory), read by :mod:`.gather`."""

    euid: int
    tools: Mapping[str, str | None]
    filesystems: frozenset[str]
    kernel: str
    max_user_namespaces: int | None  # None: no /proc/sys/user/max_user_namespaces
    subuid: str
    subgid: str
    cgroup_controllers: frozenset[str]
    cgroup2_only: bool
    state: StateDir
    image_cached: bool
    ports: tuple[PortProbe, ...] = field(default=())
    #: where a tool missing from the PATH is installed all the same (/usr/sbin, ...)
    elsewhere: Mapping[str, str] = field(default_factory=dict)


def check_root(facts: HostFacts) -> Finding:
    """The server must run as root."""
    if facts.euid == 0:
        return Finding("root", True, "running as root")
    return Finding(
        "root",
        False,
        f"not running as root (uid {facts.euid})",
        "pocketcloud makes network namespaces, nftables rules, mounts and cgroups",
        "run it as root: sudo pocketcloud …",
    )


def check_tool(facts: HostFacts, tool: Tool) -> Finding:
    """``tool`` is on the PATH."""
    path = facts.tools.get(tool.name)
    if path:
        return Finding(tool.name, True, f"{tool.name} ({path})", serve=tool.serve)
    return Finding(
        tool.name,
        False,
        f"{tool.name} not found on the PATH",
        tool.why,
        install_fix(tool.package, facts.elsewhere.get(tool.name)),
        serve=tool.serve,
    )


def install_fix(package: str, elsewhere: str | None) -> str:
    """The fix for a missing tool: install its package, or put where it is on the PATH.

    Debian's ``su`` (without ``-``) keeps a PATH without /usr/sbin, where nft and ip live.
    """
    if elsewhere is None:
        return f"apt-get install {package}"
    folder = str(Path(elsewhere).parent)
    return (
        f'export PATH="$PATH:{folder}" ({elsewhere} is installed, off the PATH; '
        f"`su -` sets a full PATH) — else apt-get install {package}"
    )


def check_debootstrap(facts: HostFacts) -> Finding:
    """debootstrap builds the instance image; only a warning once the image is built."""
    if facts.tools.get("debootstrap"):
        return Finding("debootstrap", True, f"debootstrap ({facts.tools['debootstrap']})")
    why = "it builds the instance image (debian-12) at the first launch"
    if facts.image_cached:
        why = "it rebuilds the instance image; the image is already built, so launches work"
    return Finding(
        "debootstrap",
        False,
        "debootstrap not found on the PATH",
        why,
        install_fix("debootstrap", facts.elsewhere.get("debootstrap")),
        blocks=not facts.image_cached,
        serve=False,
    )


def check_overlay(facts: HostFacts) -> Finding:
    """overlayfs is in the kernel, new enough for ``userxattr`` in a user namespace."""
    if "overlay" not in facts.filesystems:
        return Finding(
            "overlayfs",
            False,
            "overlayfs missing from /proc/filesystems",
            "each instance's root is an overlay over the image",
            "modprobe overlay",
        )
    if _kernel_version(facts.kernel) < USERXATTR_KERNEL:
        return Finding(
            "overlayfs",
            False,
            f"kernel {facts.kernel} is older than 5.11",
            "instances mount their overlay root inside a user namespace (`userxattr`)",
            "boot a Linux 5.11 or newer kernel (Debian 12's is)",
        )
    return Finding("overlayfs", True, f"overlayfs (kernel {facts.kernel})")


def _kernel_version(release: str) -> tuple[int, int]:
    """(major, minor) of a kernel release such as ``6.1.0-18-amd64``; (0, 0) if unreadable."""
    match = re.match(r"(\d+)\.(\d+)", release)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def check_userns(facts: HostFacts) -> Finding:
    """User namespaces can be created (root needs no unprivileged ones)."""
    why = f"root in an instance is uid {SHIFT} outside, through a user namespace"
    if facts.max_user_namespaces is None:
        return Finding(
            "userns",
            False,
            "this kernel has no user namespaces",
            why,
            "boot a kernel built with CONFIG_USER_NS=y (Debian's are)",
        )
    if facts.max_user_namespaces == 0:
        return Finding(
            "userns",
            False,
            "user namespaces are disabled (user.max_user_namespaces = 0)",
            why,
            "sysctl -w user.max_user_namespaces=15000",
        )
    limit = facts.max_user_namespaces
    return Finding("userns", True, f"user namespaces (up to {limit}; root needs no unprivileged)")


def check_subids(facts: HostFacts) -> Finding:
    """``root:100000:65536`` in /etc/subuid and /etc/subgid; pocketcloud appends it itself."""
    line = f"root:{SHIFT}:{ID_RANGE}"
    missing = [
        name
        for name, text in (("/etc/subuid", facts.subuid), ("/etc/subgid", facts.subgid))
        if line not in text.splitlines()
    ]
    if not missing:
        return Finding("subids", True, f"subordinate ids: {line} in /etc/subuid and /etc/subgid")
    where = " and ".join(missing)
    return Finding("subids", True, f"subordinate ids: {where} lack {line}; added at first launch")


def check_cgroups(facts: HostFacts) -> Finding:
    """The v1 cpu, memory and pids controllers are mounted under /sys/fs/cgroup."""
    missing = [c for c in CONTROLLERS if c not in facts.cgroup_controllers]
    if not missing:
        return Finding("cgroups", True, "cgroups: v1 " + ", ".join(CONTROLLERS))
    why = "an instance's memory, CPU and process limits are v1 cgroups"
    what = f"cgroup v1 controllers not mounted: {', '.join(missing)}"
    if facts.cgroup2_only:
        fix = "boot with systemd.unified_cgroup_hierarchy=0 (this host has cgroup v2 only)"
        return Finding("cgroups", False, what, why, fix)
    fix = " && ".join(
        f"mkdir -p /sys/fs/cgroup/{c} && mount -t cgroup -o {c} cgroup /sys/fs/cgroup/{c}"
        for c in missing
    )
    return Finding("cgroups", False, what, why, fix)


def check_port(probe: PortProbe, config: Path) -> Finding:
    """The server can bind its address, or this cloud's own server already holds it."""
    where = f"{probe.host}:{probe.port}"
    if probe.error is None:
        return Finding("ports", True, f"{probe.role} port {where} is free")
    if probe.ours is not None:
        return Finding("ports", True, f"{probe.role} port {where}: this cloud (pid {probe.ours})")
    return Finding(
        "ports",
        False,
        f"{probe.role} port {where} is taken ({probe.error})",
        f"pocketcloud serves its {probe.role} there",
        f"stop what `ss -ltnp 'sport = :{probe.port}'` shows, or change the port in {config}",
    )


def check_state_owner(state: StateDir) -> Finding:
    """The state directory belongs to root, the user the server runs as."""
    if not state.exists:
        return Finding("state", True, f"{state.path} does not exist yet (`pocketcloud init`)")
    if state.uid == 0:
        return Finding("state", True, f"{state.path} is owned by root")
    return Finding(
        "state",
        False,
        f"{state.path} is owned by uid {state.uid}, not root",
        "the server runs as root and trusts what it reads there (database, keys)",
        f"chown root:root {state.path}",
    )


def check_state_mode(state: StateDir) -> Finding | None:
    """0711: instances' shifted uids traverse it; nobody else lists or writes it."""
    if not state.exists:
        return None
    mode = state.mode & 0o7777
    if mode & 0o001 and not mode & 0o022:
        return Finding("state-mode", True, f"{state.path} has mode {mode:04o}")
    return Finding(
        "state-mode",
        False,
        f"{state.path} has mode {mode:04o}, 0711 needed",
        f"an instance's root (uid {SHIFT} here) traverses it to the instance's files "
        "(`pocketcloud serve` sets 0711 again when it starts)",
        f"chmod 711 {state.path}",
        serve=False,
    )


def check_state_path(state: StateDir) -> Finding | None:
    """Every directory above the state directory can be traversed by uid 100000."""
    if state.blocked_by is None:
        return None
    return Finding(
        "state-path",
        False,
        f"{state.blocked_by} (mode {state.blocked_mode & 0o7777:04o}) keeps uid {SHIFT} "
        f"from reaching {state.path}",
        "instances' root must traverse every directory to its files, or instances do not start",
        f"chmod o+x {state.blocked_by} (or use a state directory under /var/lib)",
        serve=False,
    )


def diagnose(facts: HostFacts) -> list[Finding]:
    """Every check on ``facts``, in the order a user would fix them (pure)."""
    config = facts.state.path / "config.json"
    found = [check_root(facts)]
    found += [check_tool(facts, tool) for tool in TOOLS]
    found += [check_debootstrap(facts), check_overlay(facts), check_userns(facts)]
    found += [check_subids(facts), check_cgroups(facts)]
    found += [check_port(probe, config) for probe in facts.ports]
    found.append(check_state_owner(facts.state))
    found += [f for f in (check_state_mode(facts.state), check_state_path(facts.state)) if f]
    return found


def blocking(findings: list[Finding], *, serving: bool = False) -> list[Finding]:
    """The failures that block: all of them for doctor, those a server needs for up/serve."""
    return [f for f in findings if not f.ok and f.blocks and (f.serve or not serving)]
