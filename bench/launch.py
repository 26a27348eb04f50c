"""Launch speed and footprint: a hand-made sshd floor, RunInstances → SSH banner, 100 at once.

All in one run, as root, on this machine only:
(a) floor: a fresh netns + veth, an overlay of the debian-12 image mounted in a user
    namespace, ``sshd -D`` started by hand; time from the first command to the banner;
(b) RunInstances → SSH banner on the instance's port 22, p50/p95 over N launches;
(c) 100 instances launched together: total time to 100 banners, and memory per idle
    instance (drop in MemAvailable / 100, and the PSS of the instances' processes).
The floor's netns, veth and address are new each run and clear of every cloud's (see
``Floor``); the cloud is a bench cloud of its own (state dir, prefix, VPC CIDR, ports, NAT
off). Everything is removed at the end, also on error or SIGTERM.
Usage: ``python bench/launch.py [-n 20] [--many 100] [--idle 3] [--smoke]``; ``--smoke``
runs every part at the smallest sizes (``-n 2 --many 3 --idle 1``, seconds): it checks
that the bench still works and measures nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.plugin.clouds import Server, make_server
from tests.plugin.instances import ssh_group, wait_for_banner

from pocketcloud.host import cgroups, images, routes, runtime

#: the floor's address comes from here: clear of the VPCs test clouds pick (10.20-249),
#: of test_runtime's 10.250.0.0/24, and checked against every route of the host
FLOOR_RANGE = ipaddress.ip_network("10.252.0.0/14")
#: --smoke: every part once, at the smallest sizes
SMOKE = {"n": 2, "many": 3, "idle": 1.0}


def banner(ip: str, timeout: float = 60) -> None:
    """Wait until ip:22 sends an SSH banner (opens sockets to a local netns)."""
    wait_for_banner(ip, timeout)


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def quiet(*cmd: str) -> None:
    subprocess.run(cmd, check=False, capture_output=True)


@dataclass(frozen=True)
class Floor:
    """One floor run's host objects: a netns and a host-side veth of the same name, and an
    address for its eth0.

    The name (``pcbfl-<6 hex>``) is new each run, so two benches never share one, and no
    cloud claims it: a cloud's are ``<prefix>-<8 hex>`` and ``<prefix><8 hex>h``. The address
    is one no route of the host covers, so it is no cloud's VPC, Elastic IP pool or
    instance, and no VPC made meanwhile can take it (a new VPC must not overlap a route).
    """

    name: str
    ip: str

    @classmethod
    def new(cls) -> Floor:
        """A fresh name and an unrouted address (runs ``ip route``)."""
        taken = [ipaddress.ip_network(route.destination) for route in routes.main_routes()]
        for _ in range(100):
            ip = FLOOR_RANGE[secrets.randbelow(FLOOR_RANGE.num_addresses - 2) + 1]
            if not any(ip in network for network in taken):
                return cls(f"pcbfl-{secrets.token_hex(3)}", str(ip))
        raise SystemExit(f"no unrouted address left in {FLOOR_RANGE}")


def stop_floor(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the floor's pid namespace, then unshare.

    Killing unshare alone leaves sshd running: ``--kill-child``'s parent-death signal is
    cleared when ``--setuid`` changes the child's credentials. The child is the pid
    namespace's init, and the whole namespace dies with it."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    with contextlib.suppress(OSError):
        for pid in children.read_text().split():
            os.kill(int(pid), signal.SIGKILL)
    process.kill()
    process.wait()


def floor_banner(ip: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Wait for the floor's banner; fail at once, with its output, if the floor exited."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the floor exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            wait_for_banner(ip, 0.5)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def floor_once(rootfs: Path, scratch: Path) -> float:
    """(a): netns, veth, overlay in a user namespace, sshd by hand; seconds to banner.
    Removes what it made (netns, veth and route, processes), also on error."""
    for sub in ("upper", "work", "merged"):
        (scratch / sub).mkdir()
        os.chown(scratch / sub, runtime.SHIFT, runtime.SHIFT)  # root of the user namespace
    floor, log = Floor.new(), scratch / "floor.log"
    with contextlib.ExitStack() as undo:
        start = time.perf_counter()
        sh("ip", "netns", "add", floor.name)
        undo.callback(quiet, "ip", "netns", "del", floor.name)
        peer = ["peer", "name", "eth0", "netns", floor.name]
        sh("ip", "link", "add", floor.name, "type", "veth", *peer)
        undo.callback(quiet, "ip", "link", "del", floor.name)  # its route goes with it
        sh("ip", "link", "set", floor.name, "up")
        sh("ip", "route", "add", f"{floor.ip}/32", "dev", floor.name)
        inside = ["ip", "netns", "exec", floor.name]
        sh(*inside, "ip", "addr", "add", f"{floor.ip}/32", "dev", "eth0")
        sh(*inside, "ip", "link", "set", "eth0", "up")
        sh(*inside, "ip", "route", "add", "default", "dev", "eth0")
        sh(*inside, "sysctl", "-q", "net.ipv4.ip_unprivileged_port_start=0")
        process = start_sshd(inside, rootfs, scratch, log)
        undo.callback(stop_floor, process)
        floor_banner(floor.ip, process, log)
        return time.perf_counter() - start


def start_sshd(
    inside: list[str], rootfs: Path, scratch: Path, log: Path
) -> subprocess.Popen[bytes]:
    """In the netns: a user namespace mapped like an instance's, an overlay of the image,
    a host key, ``sshd -D`` (starts processes; output to ``log``)."""
    ids = f"{runtime.SHIFT},0,{runtime.ID_RANGE}"
    merged = scratch / "merged"
    script = (
        f"mount -t overlay overlay -o lowerdir={rootfs},upperdir={scratch}/upper,"
        f"workdir={scratch}/work,userxattr {merged} && mkdir -p {merged}/run/sshd && "
        f"mount -t tmpfs tmpfs {merged}/dev && touch {merged}/dev/null && "
        f"mount --bind /dev/null {merged}/dev/null && "
        f"ssh-keygen -q -t ed25519 -N '' -f {merged}/etc/ssh/ssh_host_ed25519_key && "
        f"exec chroot {merged} /usr/sbin/sshd -D -e"
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                *inside,
                "unshare",
                "--user",
                f"--map-users={ids}",
                f"--map-groups={ids}",
                "--setuid",
                "0",
                "--setgid",
                "0",
                "--mount",
                "--pid",
                "--fork",
                "--kill-child",
                "sh",
                "-c",
                script,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def floor(rootfs: Path, runs: int) -> list[float]:
    """(a), ``runs`` times. The user namespace maps the ids an instance's does: the same
    subordinate ids, added to /etc/subuid and /etc/subgid where missing, as the first
    launch of any cloud adds them (without them unshare fails and no sshd ever starts)."""
    cgroups.ensure_userns_support(runtime.SHIFT, runtime.ID_RANGE)
    times = []
    for _ in range(runs):
        scratch = Path(tempfile.mkdtemp(prefix="pcbf-", dir="/var/tmp"))
        scratch.chmod(0o711)
        try:
            times.append(floor_once(rootfs, scratch))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return times


def launches(ec2: Any, image_id: str, n: int) -> list[float]:
    """(b): RunInstances → banner, one at a time; each instance terminated after."""
    times = []
    group = ssh_group(ec2)
    for _ in range(n):
        start = time.perf_counter()
        made = ec2.run_instances(
            ImageId=image_id,
            InstanceType="t3.nano",
            MinCount=1,
            MaxCount=1,
            SecurityGroupIds=[group],
        )["Instances"][0]
        banner(made["PrivateIpAddress"])
        times.append(time.perf_counter() - start)
        ec2.terminate_instances(InstanceIds=[made["InstanceId"]])
    return times


def available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise SystemExit("no MemAvailable")


def pss_kib(prefix: str) -> int:
    """PSS of every process in this cloud's instance cgroups."""
    total = 0
    root = Path("/sys/fs/cgroup/memory/pocketcloud") / prefix
    for procs in root.glob("*/cgroup.procs"):
        for pid in procs.read_text().split():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            total += sum(
                int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
            )
    return total


def many(
    ec2: Any, image_id: str, count: int, prefix: str, idle: float
) -> tuple[float, float, float]:
    """(c): ``count`` instances at once, left ``idle`` seconds; (seconds to all banners,
    MiB each, PSS MiB each)."""
    before = available_kib()
    start = time.perf_counter()
    made = ec2.run_instances(
        ImageId=image_id,
        InstanceType="t3.nano",
        MinCount=count,
        MaxCount=count,
        SecurityGroupIds=[ssh_group(ec2)],
    )["Instances"]
    for instance in made:
        banner(instance["PrivateIpAddress"], timeout=120)
    total = time.perf_counter() - start
    time.sleep(idle)  # let them go idle
    each = (before - available_kib()) / 1024 / count
    pss = pss_kib(prefix) / 1024 / count
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in made])
    return total, each, pss


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--smoke`` changes the defaults (explicit values still win)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="launches for (a) and (b)")
    parser.add_argument("--many", type=int, default=100, help="instances for (c)")
    parser.add_argument("--idle", type=float, default=3, help="seconds (c) idles before memory")
    parser.add_argument("--smoke", action="store_true", help="every part at tiny sizes")
    if parser.parse_known_args(argv)[0].smoke:
        parser.set_defaults(**SMOKE)
    return parser.parse_args(argv)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # the finally blocks still clean up


def main() -> None:
    args = arguments()
    if os.geteuid() != 0:
        raise SystemExit("run as root")
    signal.signal(signal.SIGTERM, _terminated)
    image = images.build_image(images.cache_dir())
    base = floor(image.rootfs, args.n)
    tmp = Path(tempfile.mkdtemp(prefix="pcb-"))
    server: Server = make_server(tmp)
    try:
        server.start()
        ec2 = server.client("ec2")
        ours = launches(ec2, image.image_id, args.n)
        total, each, pss = many(ec2, image.image_id, args.many, server.prefix, args.idle)
    finally:
        try:
            server.remove()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    p50_floor, p50 = statistics.median(base), statistics.median(ours)
    print(
        f"(a) floor, sshd by hand in a netns on an overlay: p50 {p50_floor * 1000:.0f} ms "
        f"(n={len(base)})"
    )
    print(
        f"(b) RunInstances -> SSH banner: p50 {p50 * 1000:.0f} ms, p95 "
        f"{pct(ours, 0.95) * 1000:.0f} ms (n={len(ours)}); ratio to floor "
        f"{p50 / p50_floor:.2f}x   (targets: p50 <= 300 ms, <= 3x floor)"
    )
    print(
        f"(c) {args.many} instances together: {total:.1f} s to all banners; "
        f"{each:.1f} MiB each (MemAvailable drop), {pss:.1f} MiB PSS each   "
        f"(targets: <= 30 s, <= 16 MiB)"
    )


if __name__ == "__main__":
    main()
