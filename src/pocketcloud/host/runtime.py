"""Starting, stopping and inspecting instances on this host.

An instance is ``ip netns exec <netns> unshare --user ... <python3> -m pocketcloud.guest.init
<workdir>/init.json`` in its own netns (:mod:`.network`) and cgroups (:mod:`.cgroups`),
with :mod:`.init` as PID 1. Root inside is host uid 100000, the owner of the image's files.

Host objects carry the cloud's prefix: netns ``<prefix>-<8hex>``, veth ``<prefix><8hex>h``,
the policy rules naming that veth, cgroups ``pocketcloud/<prefix>/<id>``. Instance
processes are found two ways, because after a crash neither alone is enough: every process
in the instance's cgroups (nothing inside can leave them), plus every process whose command
line runs ``pocketcloud.guest.init`` — the init.json it names holds prefix and id — which
also finds an init that died, or was killed, before it joined its cgroups.

Everything here except :func:`names`, :func:`init_config` and :func:`spawn_command`
touches the host and needs root.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ed25519

import pocketcloud.guest
from pocketcloud.host import cgroups, imds, network
from pocketcloud.host.run import HostError, run

SHIFT = 100_000  # host uid/gid of root inside every instance
ID_RANGE = 65_536
INIT_MODULE = "pocketcloud.guest.init"
#: the init's module now and before it moved: instances started by an older pocketcloud
#: still run under the old name, and are still this cloud's
INIT_MODULES = (INIT_MODULE, "pocketcloud.host.init")
BOOT_TIMEOUT = 20.0
CONSOLE_LIMIT = 64 * 1024  # what EC2's GetConsoleOutput returns: the latest 64 KB
_PREFIX_RE = re.compile(r"[a-z][a-z0-9]{0,5}")
_ID_RE = re.compile(r"i-[0-9a-f]{8,17}")


@dataclass(frozen=True)
class InstanceSpec:
    """Everything the host needs to run one instance."""

    instance_id: str
    prefix: str
    workdir: Path
    rootfs: Path
    private_ip: str
    prefix_len: int
    hostname: str
    login_user: str
    authorized_key: str
    user_data: bytes | None
    memory_bytes: int
    cpus: float
    pids_max: int
    #: the host port of the cloud's metadata service; None: no 169.254.169.254
    metadata_port: int | None = None
    #: follow the host's routes (with the cloud's NAT) instead of staying on this machine
    outbound: bool = False
    #: the MAC address of the instance's eth0 (None: the kernel picks one)
    mac: str | None = None
    #: what the instance's programs find the cloud by (AWS_ENDPOINT_URL, AWS_REGION)
    aws_env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HostNames:
    """The names of an instance's host objects."""

    netns: str
    veth: str
    cgroup: str


@dataclass(frozen=True)
class HostObjects:
    """What exists on the host for one prefix, and the instance ids it belongs to."""

    netns: tuple[str, ...] = ()
    veths: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # the iif names of policy rules
    cgroups: tuple[str, ...] = ()
    pids: tuple[int, ...] = ()
    mounts: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()  # from cgroups, init command lines and veth aliases

    def empty(self) -> bool:
        """Whether nothing of the prefix is left."""
        return not self.describe()

    def describe(self) -> list[str]:
        """One line per object: ``netns pc-89abcdef``, ``process 1234``, ..."""
        kinds = ("netns", "veth", "rule iif", "cgroup", "process", "mount")
        groups = (self.netns, self.veths, self.rules, self.cgroups, self.pids, self.mounts)
        return [
            f"{kind} {item}" for kind, items in zip(kinds, groups, strict=True) for item in items
        ]

    def instance_ids(self) -> set[str]:
        """The instance ids that still have something on the host."""
        return set(self.instances)


def veth_name(prefix: str, instance_id: str) -> str:
    """The host-side veth of an instance (pure)."""
    return f"{prefix}{instance_id[-8:]}h"


def names(spec: InstanceSpec) -> HostNames:
    """The instance's netns, host veth and cgroup path (pure; ValueError if invalid)."""
    if not _PREFIX_RE.fullmatch(spec.prefix):
        raise ValueError(f"prefix must be 1-6 of [a-z0-9], starting with a letter: {spec.prefix!r}")
    if not _ID_RE.fullmatch(spec.instance_id):
        raise ValueError(f"not an instance id: {spec.instance_id!r}")
    suffix = spec.instance_id[-8:]
    return HostNames(
        f"{spec.prefix}-{suffix}",
        veth_name(spec.prefix, spec.instance_id),
        cgroups.relpath(spec.prefix, spec.instance_id),
    )


def init_config(spec: InstanceSpec, shutdown_grace: float = 5.0) -> dict[str, Any]:
    """The content of init.json that :mod:`.init` boots from (pure; ValueError if invalid)."""
    for path in (spec.workdir, spec.rootfs):
        if not path.is_absolute() or set(str(path)) & {",", ":", "\n"}:
            raise ValueError(f"path must be absolute, without ',' or ':': {path}")
    ipaddress.IPv4Interface(f"{spec.private_ip}/{spec.prefix_len}")
    user_data = None if spec.user_data is None else base64.b64encode(spec.user_data).decode()
    plain = ("instance_id", "prefix", "hostname", "private_ip", "login_user")
    config: dict[str, Any] = {name: getattr(spec, name) for name in plain}
    config.update(workdir=str(spec.workdir), rootfs=str(spec.rootfs), user_data=user_data)
    config.update(authorized_key=spec.authorized_key.strip(), shutdown_grace=shutdown_grace)
    config.update(aws_env=dict(spec.aws_env))
    return config


def spawn_command(spec: InstanceSpec, python: str) -> list[str]:
    """The command line that starts the instance's PID 1 (pure)."""
    idmap = f"{SHIFT},0,{ID_RANGE}"
    return [
        "ip", "netns", "exec", names(spec).netns,
        "unshare", "--user", f"--map-users={idmap}", f"--map-groups={idmap}",
        "--setuid", "0", "--setgid", "0",
        "--mount", "--pid", "--uts", "--ipc", "--fork", "--kill-child",
        python, "-s", "-B", "-m", INIT_MODULE, str(spec.workdir / "init.json"),
    ]  # fmt: skip


def start(spec: InstanceSpec) -> int:
    """Start the instance; returns its init's host pid (also written to <workdir>/pid).

    Creates the netns, veth, route, policy rules and cgroups, sets ip_forward=1, may
    append to /etc/subuid and /etc/subgid, writes the workdir, and spawns the init in a
    new session. Returns once sshd has been started inside. Needs root.
    """
    host, config = names(spec), init_config(spec)
    if is_running(spec):
        raise HostError(["start", spec.instance_id], 1, "instance is already running")
    cgroups.ensure_userns_support(SHIFT, ID_RANGE)
    _teardown(spec)  # leftovers of a crash
    _prepare_workdir(spec, config)
    python = _check_access(spec)
    network.enable_forwarding()
    try:
        network.create(
            host.netns,
            host.veth,
            spec.private_ip,
            spec.prefix_len,
            spec.instance_id,
            spec.outbound,
            spec.mac,
        )
        if spec.metadata_port is not None:
            imds.redirect(host.netns, network.GATEWAY, spec.metadata_port)
        cgroups.create(host.cgroup, cgroups.Limits(spec.memory_bytes, spec.cpus, spec.pids_max))
        pid = _spawn_and_boot(spec, host, python)
    except BaseException:
        _teardown(spec)
        raise
    (spec.workdir / "pid").write_text(f"{pid}\n")
    return pid


def stop(spec: InstanceSpec, timeout: float = 10) -> None:
    """SIGTERM the init, SIGKILL after ``timeout`` s, then remove the instance's host objects.

    Removes netns, veth, route, rules and cgroups; keeps the workdir (the upper layer
    survives stop/start). Idempotent. Needs root.
    """
    pid = _running_pid(spec)
    if pid is not None:
        _terminate({pid}, timeout)
    _teardown(spec)


def destroy(spec: InstanceSpec) -> None:
    """Stop the instance and delete its workdir, upper layer included. Needs root."""
    stop(spec)
    root = spec.workdir / "root"
    if root.is_dir() and os.path.ismount(root):
        run(["umount", "-l", str(root)])
    shutil.rmtree(spec.workdir, ignore_errors=True)


def is_running(spec: InstanceSpec) -> bool:
    """Whether the instance's init is alive (reads <workdir>/pid and /proc)."""
    cgroups.reap_children()
    return _running_pid(spec) is not None


def console_output(workdir: Path, limit: int = CONSOLE_LIMIT) -> bytes:
    """The latest ``limit`` bytes of the instance's console log, b"" if none (reads a file)."""
    try:
        with (workdir / "console.log").open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - limit))
            return log.read()
    except FileNotFoundError:
        return b""


def host_public_key(spec: InstanceSpec) -> str | None:
    """The instance's ssh host public key line, once :func:`start` made one (reads a file)."""
    path = spec.workdir / "upper" / "etc" / "ssh" / "ssh_host_ed25519_key.pub"
    return path.read_text().strip() if path.exists() else None


def host_objects(prefix: str) -> HostObjects:
    """Everything on the host carrying this prefix (reads /proc, /sys, runs ``ip``)."""
    return _scan(prefix)[0]


def remove_host_objects(prefix: str, keep: set[str], grace: float = 3.0) -> list[str]:
    """Remove this prefix's host objects whose instance id is not in ``keep``.

    Stops their inits (SIGTERM, SIGKILL after ``grace`` s) and kills what is left in
    their cgroups, unmounts leaked mounts, deletes veths, rules, netns and cgroups; never
    touches workdirs. Returns a description of each thing removed. Needs root.
    """
    found, by_id = _scan(prefix)
    doomed = {pid for iid, pids in by_id.items() if iid not in keep for pid in pids}
    removed = [f"process {pid}" for pid in sorted(doomed)]
    _terminate({pid for pid in doomed if _is_pid1_init(pid)}, grace)
    for instance_id in sorted(set(by_id) - keep):
        cgroups.kill_all(cgroups.relpath(prefix, instance_id))
    _terminate(doomed, 0)
    for mountpoint in found.mounts:
        run(["umount", "-l", mountpoint])
        removed.append(f"mount {mountpoint}")
    suffixes = {name[-9:-1] for name in found.veths + found.rules}
    suffixes |= {name[-8:] for name in found.netns}
    for suffix in sorted(suffixes - {instance_id[-8:] for instance_id in keep}):
        removed += network.delete(f"{prefix}-{suffix}", f"{prefix}{suffix}h")
    for instance_id in sorted(cgroups.instance_ids(prefix) - keep):
        removed += [f"cgroup {d}" for d in cgroups.remove(cgroups.relpath(prefix, instance_id))]
    return removed + [f"cgroup {d}" for d in cgroups.prune(prefix)]


# --- starting -------------------------------------------------------------------------


def _check_access(spec: InstanceSpec) -> str:
    """The python3 for the init; HostError unless uid 100000 reaches it, image and workdir."""
    for path in (spec.rootfs, spec.workdir):
        if not cgroups.reachable(path, SHIFT):
            msg = f"{path} must exist, every directory on the way searchable by uid {SHIFT}"
            raise HostError(["start", spec.instance_id], 1, msg)
    try:
        return cgroups.interpreter(SHIFT)
    except FileNotFoundError as exc:
        raise HostError(["python3"], 127, str(exc)) from exc


def _prepare_workdir(spec: InstanceSpec, config: dict[str, Any]) -> None:
    """upper/, work/, root/, init.json, the staged init package and the ssh host key."""
    spec.workdir.mkdir(parents=True, exist_ok=True)
    spec.workdir.chmod(0o711)
    for sub in ("upper", "work", "root"):
        (spec.workdir / sub).mkdir(mode=0o755, exist_ok=True)
        os.chown(spec.workdir / sub, SHIFT, SHIFT)
    _write_owned(spec.workdir / "init.json", json.dumps(config, indent=2).encode(), 0o600)
    stage_guest(spec.workdir / "boot")
    _ensure_host_key(spec)


def stage_guest(boot: Path) -> None:
    """Copy the guest package (init and its supervisor) into ``boot`` as a minimal
    ``pocketcloud.guest`` package, readable by the instance's uid (writes files).

    The installed package may live where uid 100000 cannot read it (a venv under
    /root); the instance's workdir is readable by it by construction.
    """
    source = Path(pocketcloud.guest.__file__).parent
    target = boot / "pocketcloud" / "guest"
    target.mkdir(parents=True, exist_ok=True)
    for directory in (boot, boot / "pocketcloud", target):
        directory.chmod(0o755)
    (boot / "pocketcloud" / "__init__.py").write_text("")
    (boot / "pocketcloud" / "__init__.py").chmod(0o644)
    for module in sorted(source.glob("*.py")):
        shutil.copyfile(module, target / module.name)
        (target / module.name).chmod(0o644)


def _write_owned(path: Path, data: bytes, mode: int) -> None:
    """Write a file owned by root of the instance (host uid 100000), whole or not at all:
    written under a temporary name, then renamed over ``path`` (a crash of the control
    plane midway never leaves a short file or one the instance cannot read)."""
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
        os.fchown(out.fileno(), SHIFT, SHIFT)
        out.write(data)
    os.replace(temporary, path)


def _ensure_host_key(spec: InstanceSpec) -> None:
    """An ed25519 ssh host key in the upper layer, made once per instance (mode 600).

    The private key is written last: where it exists, so does its ``.pub`` (a key pair cut
    short by a crash is made again)."""
    ssh = spec.workdir / "upper" / "etc" / "ssh"
    if (ssh / "ssh_host_ed25519_key").exists() and (ssh / "ssh_host_ed25519_key.pub").exists():
        return
    for directory in (ssh.parent, ssh):
        directory.mkdir(mode=0o755, exist_ok=True)
        os.chown(directory, SHIFT, SHIFT)
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, ser.NoEncryption())
    public = key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH)
    _write_owned(
        ssh / "ssh_host_ed25519_key.pub", public + f" root@{spec.hostname}\n".encode(), 0o644
    )
    _write_owned(ssh / "ssh_host_ed25519_key", private, 0o600)


def _spawn_and_boot(spec: InstanceSpec, host: HostNames, python: str) -> int:
    """Spawn the init into its cgroups and wait until it is up; HostError with the console."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(spec.workdir / "boot")}
    argv, console = spawn_command(spec, python), str(spec.workdir / "console.log")
    try:
        return cgroups.spawn_into(host.cgroup, argv, env, console, BOOT_TIMEOUT)
    except HostError as exc:
        tail = console_output(spec.workdir, 4000).decode("utf-8", "replace")
        raise HostError(exc.cmd, exc.exit_code, f"{exc.stderr}\n--- console ---\n{tail}") from exc


# --- processes and teardown -----------------------------------------------------------


def _teardown(spec: InstanceSpec) -> None:
    """Kill leftovers, remove cgroups, network objects and the pid file (idempotent)."""
    host = names(spec)
    cgroups.remove(host.cgroup)
    network.delete(host.netns, host.veth)
    (spec.workdir / "pid").unlink(missing_ok=True)
    cgroups.reap_children()


def _is_pid1_init(pid: int) -> bool:
    """The python init itself, not the unshare above it (SIGTERM there would SIGKILL init)."""
    args = cgroups.cmdline(pid)
    return len(args) >= 2 and args[-2] in INIT_MODULES and "unshare" not in args[0]


def _running_pid(spec: InstanceSpec) -> int | None:
    """The pid in <workdir>/pid if that process is alive and is this instance's init."""
    try:
        pid = int((spec.workdir / "pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    args = cgroups.cmdline(pid)[-2:]
    ours = len(args) == 2 and args[0] in INIT_MODULES and args[1] == str(spec.workdir / "init.json")
    return pid if ours and cgroups.alive(pid) else None


def _terminate(pids: set[int], grace: float) -> None:
    """Stop these processes (see :func:`cgroups.terminate`), then reap our unshare parents."""
    parents = {cgroups.parent_of(pid) for pid in pids} | pids
    cgroups.terminate(pids, grace)
    cgroups.wait_until(lambda: not (cgroups.reap_children() & parents), 2.0)


def _init_processes(prefix: str) -> dict[int, str]:
    """pid → instance id, for each process running the init module of the prefix."""
    found = {}
    running = {
        pid: args for name in INIT_MODULES for pid, args in cgroups.running_module(name).items()
    }
    for pid, args in running.items():
        with contextlib.suppress(OSError, ValueError):
            config = json.loads(Path(args[-1]).read_text())
            if config.get("prefix") == prefix:
                found[pid] = str(config.get("instance_id"))
    return found


def _leaked_mounts(prefix: str) -> list[str]:
    """Overlay mounts in this mount namespace whose workdir's init.json has the prefix."""
    leaked = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, _, post = line.partition(" - ")
        fields = post.split()
        if len(fields) < 3 or fields[0] != "overlay":
            continue
        options = dict(opt.partition("=")[::2] for opt in fields[2].split(","))
        workdir = Path(options.get("upperdir", "/")).parent
        with contextlib.suppress(OSError, ValueError):
            if json.loads((workdir / "init.json").read_text()).get("prefix") == prefix:
                leaked.append(pre.split()[4])
    return leaked


def _scan(prefix: str) -> tuple[HostObjects, dict[str, set[int]]]:
    """Every host object of the prefix, and the live pids of each instance id."""
    cgroups.reap_children()
    by_id: dict[str, set[int]] = {}
    for pid, instance_id in _init_processes(prefix).items():
        by_id.setdefault(instance_id, set()).add(pid)
    rels = [cgroups.relpath(prefix, iid) for iid in sorted(cgroups.instance_ids(prefix))]
    for rel in rels:
        by_id.setdefault(rel.rsplit("/", 1)[1], set()).update(cgroups.procs(rel))
    if any((cgroups.ROOT / c / cgroups.TOP / prefix).is_dir() for c in cgroups.CONTROLLERS):
        rels.append(f"{cgroups.TOP}/{prefix}")
    veth = f"{prefix}[0-9a-f]{{8}}h"
    veths = network.veths_matching(veth)
    found = HostObjects(
        netns=tuple(n for n in network.list_netns() if re.fullmatch(f"{prefix}-[0-9a-f]{{8}}", n)),
        veths=tuple(veths),
        rules=tuple(network.rule_iifs_matching(veth)),
        cgroups=tuple(rels),
        pids=tuple(sorted({pid for pids in by_id.values() for pid in pids if cgroups.alive(pid)})),
        mounts=tuple(_leaked_mounts(prefix)),
        instances=tuple(sorted(set(by_id) | {a for a in veths.values() if _ID_RE.fullmatch(a)})),
    )
    return found, by_id
