"""Launch speed and footprint: a hand-made sshd floor, RunInstances → SSH banner, 100 at once.

All in one run, as root, on this machine only:
(a) floor: a fresh netns + veth, an overlay of the debian-12 image mounted in a user
    namespace, ``sshd -D`` started by hand; time from the first command to the banner;
(b) RunInstances → SSH banner on the instance's port 22, p50/p95 over N launches;
(c) 100 instances launched together: total time to 100 banners, and memory per idle
    instance (drop in MemAvailable / 100, and the PSS of the instances' processes).
Usage: ``python bench/launch.py [-n 20] [--many 100]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.plugin.clouds import Server, make_server
from tests.plugin.instances import ssh_group, wait_for_banner

from pocketcloud.host import images

FLOOR_NS, FLOOR_VETH, FLOOR_IP = "pcbf-floor", "pcbffloorh", "10.253.0.10"


def banner(ip: str, timeout: float = 60) -> None:
    """Wait until ip:22 sends an SSH banner (opens sockets to a local netns)."""
    wait_for_banner(ip, timeout)


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def floor_once(rootfs: Path, scratch: Path) -> float:
    """(a): netns, veth, overlay in a user namespace, sshd by hand; seconds to banner."""
    for sub in ("upper", "work", "merged"):
        (scratch / sub).mkdir()
        os.chown(scratch / sub, 100000, 100000)  # root of the user namespace
    start = time.perf_counter()
    sh("ip", "netns", "add", FLOOR_NS)
    sh("ip", "link", "add", FLOOR_VETH, "type", "veth", "peer", "name", "eth0", "netns", FLOOR_NS)
    sh("ip", "link", "set", FLOOR_VETH, "up")
    sh("ip", "route", "add", f"{FLOOR_IP}/32", "dev", FLOOR_VETH)
    inside = ["ip", "netns", "exec", FLOOR_NS]
    sh(*inside, "ip", "addr", "add", f"{FLOOR_IP}/32", "dev", "eth0")
    sh(*inside, "ip", "link", "set", "eth0", "up")
    sh(*inside, "ip", "route", "add", "default", "dev", "eth0")
    sh(*inside, "sysctl", "-q", "net.ipv4.ip_unprivileged_port_start=0")
    merged = scratch / "merged"
    script = (
        f"mount -t overlay overlay -o lowerdir={rootfs},upperdir={scratch}/upper,"
        f"workdir={scratch}/work,userxattr {merged} && mkdir -p {merged}/run/sshd && "
        f"mount -t tmpfs tmpfs {merged}/dev && touch {merged}/dev/null && "
        f"mount --bind /dev/null {merged}/dev/null && "
        f"ssh-keygen -q -t ed25519 -N '' -f {merged}/etc/ssh/ssh_host_ed25519_key && "
        f"exec chroot {merged} /usr/sbin/sshd -D -e"
    )
    process = subprocess.Popen(
        [
            *inside,
            "unshare",
            "--user",
            "--map-users=100000,0,65536",
            "--map-groups=100000,0,65536",
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        banner(FLOOR_IP)
        return time.perf_counter() - start
    finally:
        process.kill()
        process.wait()
        subprocess.run(["ip", "netns", "del", FLOOR_NS], check=False)
        subprocess.run(["ip", "link", "del", FLOOR_VETH], check=False, capture_output=True)


def floor(rootfs: Path, runs: int) -> list[float]:
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


def many(ec2: Any, image_id: str, count: int, prefix: str) -> tuple[float, float, float]:
    """(c): ``count`` instances at once; (seconds to all banners, MiB each, PSS MiB each)."""
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
    time.sleep(3)  # let them go idle
    each = (before - available_kib()) / 1024 / count
    pss = pss_kib(prefix) / 1024 / count
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in made])
    return total, each, pss


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="launches for (a) and (b)")
    parser.add_argument("--many", type=int, default=100, help="instances for (c)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root")
    image = images.build_image(images.cache_dir())
    base = floor(image.rootfs, args.n)
    server: Server = make_server(Path(tempfile.mkdtemp(prefix="pcb-")))
    server.start()
    try:
        ec2 = server.client("ec2")
        ours = launches(ec2, image.image_id, args.n)
        total, each, pss = many(ec2, image.image_id, args.many, server.prefix)
    finally:
        server.remove()
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
