"""Security group enforcement speed: rule changes, throughput, applying a large ruleset.

All in one run, as root, on this machine only (a cloud of its own, NAT off):
(a) AuthorizeSecurityGroupIngress returning → the new rule admitting a TCP connection
    from the host, p50/p95 over N authorize/revoke cycles (and revoke → refused), first
    with one instance, then with the cloud at full size; baseline: reloading the whole
    ruleset with ``nft -f`` by hand (what each change would cost without incremental
    updates);
(b) TCP throughput instance → instance (a Python stream over the routed veths), with
    1,000 rules in 100 groups across 100 instances, against the firewall off (the
    control plane paused with SIGSTOP and the table deleted, then restored);
(c) time to build, render and load the full ruleset of 100 instances, against the
    same for one instance.
The cloud is a bench cloud of its own (state dir, prefix, VPC CIDR, ports, NAT off),
removed at the end, also on error or SIGTERM.
Usage: ``python bench/firewall.py [-n 50] [--many 100] [--groups 100] [--seconds 3]
[--rounds 3] [--smoke]``; ``--smoke`` runs every part at the smallest sizes (``-n 3
--many 3 --groups 4 --seconds 1 --rounds 1``, seconds): it checks that the bench still
works and measures nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.plugin.clouds import Server, make_server
from tests.plugin.instances import (
    Machine,
    install_probe,
    launch,
    listing,
    perm,
    ssh_group,
    start_listeners,
    wait_for_banner,
)

from pocketcloud.host import firewall, images
from pocketcloud.reconcile import firewall_model
from pocketcloud.services.account import open_cloud

PORT = 8080
STREAM_PORT = 5001
RULES_PER_GROUP = 10
GROUPS_PER_INSTANCE = 4  # plus the SSH group: EC2's limit of 5
#: --smoke: every part once, at the smallest sizes (--many 3: the target, a sender and a
#: receiver; --groups 4: each instance in 4 distinct groups)
SMOKE = {"n": 3, "many": 3, "groups": 4, "seconds": 1.0, "rounds": 1}


def _connects(ip: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:  # a dropped SYN is not resent within the timeout
        return False


def _until(ip: str, *, admitted: bool, timeout: float = 10) -> float:
    """Seconds until a connection attempt that *starts* then is admitted (or refused).

    Admission is polled with 2 ms attempts (a SYN the firewall drops is not resent in
    time, so each attempt is a new one); refusal with 200 ms attempts, 2 ms apart so
    that the listener's backlog never overflows, and a slow handshake is never taken for
    a refusal. Either way the figure is the start of the first attempt that saw the new
    state: an upper bound, within one attempt.
    """
    start = time.perf_counter()
    while True:
        attempt = time.perf_counter()
        if _connects(ip, PORT, 0.002 if admitted else 0.2) == admitted:
            return attempt - start
        if attempt - start > timeout:
            raise SystemExit("timed out waiting for the firewall")
        if not admitted:
            time.sleep(0.002)


def rule_changes(ec2: Any, group: str, ip: str, n: int) -> tuple[list[float], list[float]]:
    """(a): seconds from Authorize returning to admitted, and from Revoke to refused."""
    opened, closed = [], []
    rule = [perm("tcp", PORT, cidr="0.0.0.0/0")]
    for _ in range(n):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rule)
        opened.append(_until(ip, admitted=True))
        ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=rule)
        closed.append(_until(ip, admitted=False))
    return opened, closed


def apply_times(state_dir: Path, runs: int) -> tuple[list[float], list[float], int]:
    """Seconds to build the model from the store and render it, seconds to load it with
    ``nft -f`` (the same table again: a full replacement), and the number of rules."""
    cloud = open_cloud(state_dir)
    build, load = [], []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            model = firewall_model.model(cloud)
            text = firewall.render(model)
            build.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run(["nft", "-f", "-"], input=text.encode(), check=True)
            load.append(time.perf_counter() - start)
    finally:
        cloud.store.close()
    rules = sum(len(g.ingress) + len(g.egress) for g in model.instances)
    return build, load, rules


def big_groups(ec2: Any, count: int) -> list[str]:
    """``count`` groups of 10 ingress rules: TCP ports from CIDRs, UDP, ICMP, and a rule
    admitting the stream port from the next group's members."""
    ids = [
        str(ec2.create_security_group(GroupName=f"bench-{k}", Description="b")["GroupId"])
        for k in range(count)
    ]
    for k, gid in enumerate(ids):
        rules = [
            perm("tcp", 9000 + j, cidr=f"10.{200 + j}.{k}.0/24") for j in range(RULES_PER_GROUP - 3)
        ]
        rules.append(perm("udp", 9500 + k, cidr="0.0.0.0/0"))
        rules.append(perm("icmp", 8, -1, cidr="192.0.2.0/24"))
        rules.append(perm("tcp", STREAM_PORT, group=ids[(k + 1) % count]))
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
    return ids


def fleet(
    ec2: Any, image_id: str, key: tuple[str, Path], groups: list[str], count: int
) -> list[Machine]:
    """``count`` instances, instance i in groups i..i+3 (and SSH); all answering SSH."""
    ssh = ssh_group(ec2)
    launched = []
    for i in range(count):
        mine = [groups[(i + j) % len(groups)] for j in range(GROUPS_PER_INSTANCE)]
        made = ec2.run_instances(
            ImageId=image_id, InstanceType="t3.nano", KeyName=key[0], MinCount=1, MaxCount=1,
            SecurityGroupIds=[ssh, *mine],
        )["Instances"][0]  # fmt: skip
        launched.append(Machine(made["InstanceId"], made["PrivateIpAddress"], key[1]))
    for m in launched:
        wait_for_banner(m.ip, timeout=120)
    return launched


def stream(sender: Machine, receiver: Machine, seconds: float) -> float:
    """Bytes per second from sender to receiver's stream listener."""
    out = sender.ssh(f"python3 /tmp/probe.py send {receiver.ip} {STREAM_PORT} {seconds}")
    return float(out)


def firewall_off(server: Server) -> None:
    """Pause the control plane (so nothing restores the table) and delete the table."""
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    subprocess.run(["nft", "delete", "table", "inet", f"{server.prefix}_fw"], check=True)


def firewall_on(server: Server) -> None:
    """Resume the control plane and wait until its reconciler has restored the table."""
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while not listing(server.prefix):
        if time.monotonic() > deadline:
            raise SystemExit("the reconciler did not restore the firewall")
        time.sleep(0.1)


def throughput(
    server: Server, sender: Machine, receiver: Machine, seconds: float, rounds: int
) -> tuple[float, float]:
    """(b): median bytes/s with the firewall on and off, in alternating rounds."""
    on, off = [], []
    for _ in range(rounds):
        on.append(stream(sender, receiver, seconds))
        firewall_off(server)
        try:
            off.append(stream(sender, receiver, seconds))
        finally:
            firewall_on(server)
    return statistics.median(on), statistics.median(off)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:.1f} ms, p95 {pct(values, 0.95) * 1000:.1f} ms"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--smoke`` changes the defaults (explicit values still win)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=50, help="authorize/revoke cycles for (a)")
    parser.add_argument("--many", type=int, default=100, help="instances for (b) and (c)")
    parser.add_argument("--groups", type=int, default=100, help="groups of 10 rules for (b)")
    parser.add_argument("--seconds", type=float, default=3, help="length of one stream")
    parser.add_argument("--rounds", type=int, default=3, help="on/off rounds for (b)")
    parser.add_argument("--smoke", action="store_true", help="every part at tiny sizes")
    if parser.parse_known_args(argv)[0].smoke:
        parser.set_defaults(**SMOKE)
    args = parser.parse_args(argv)
    if args.many < 3 or args.groups < GROUPS_PER_INSTANCE:
        parser.error(f"--many must be >= 3 and --groups >= {GROUPS_PER_INSTANCE}")
    return args


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # the finally blocks still clean up


def main() -> None:
    args = arguments()
    if os.geteuid() != 0:
        raise SystemExit("run as root")
    signal.signal(signal.SIGTERM, _terminated)
    image = images.build_image(images.cache_dir())
    tmp = Path(tempfile.mkdtemp(prefix="pcbfw-"))
    server = make_server(tmp)
    try:
        server.start()
        ec2 = server.client("ec2")
        pem = server.state_dir / "bench.pem"
        pem.write_text(ec2.create_key_pair(KeyName="bench", KeyType="ed25519")["KeyMaterial"])
        pem.chmod(0o400)
        key = ("bench", pem)
        web = str(ec2.create_security_group(GroupName="bench-web", Description="w")["GroupId"])
        target = launch(ec2, image.image_id, key, SecurityGroupIds=[ssh_group(ec2), web])
        start_listeners(target, [f"tcp:{PORT}"])
        small_build, small_load, small_rules = apply_times(server.state_dir, 10)
        small_open, small_close = rule_changes(ec2, web, target.ip, args.n)

        groups = big_groups(ec2, args.groups)
        start = time.perf_counter()
        machines = fleet(ec2, image.image_id, key, groups, args.many - 1)
        fleet_seconds = time.perf_counter() - start
        big_build, big_load, big_rules = apply_times(server.state_dir, 10)
        big_open, big_close = rule_changes(ec2, web, target.ip, args.n)
        sender, receiver = machines[0], machines[1]
        install_probe(sender)
        start_listeners(receiver, [f"tcp:{STREAM_PORT}"])
        on, off = throughput(server, sender, receiver, args.seconds, args.rounds)
    finally:
        try:
            server.remove()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    small_floor, big_floor = statistics.median(small_load), statistics.median(big_load)
    print(
        f"(a) Authorize -> admitted, 1 instance ({small_rules} rules): {ms(small_open)} "
        f"(n={len(small_open)}); Revoke -> refused {ms(small_close)}   (target: p50 <= 50 ms)"
    )
    print(
        f"    at {args.many} instances ({big_rules} rules): {ms(big_open)}; Revoke -> refused "
        f"{ms(big_close)}"
    )
    print(
        "    baseline, reloading the whole ruleset with nft -f by hand: p50 "
        f"{small_floor * 1000:.1f} ms / {big_floor * 1000:.1f} ms; ratio "
        f"{statistics.median(small_open) / small_floor:.2f}x / "
        f"{statistics.median(big_open) / big_floor:.2f}x"
    )
    print(
        f"(b) TCP instance -> instance, {args.groups} groups x {RULES_PER_GROUP} rules on "
        f"{args.many} instances: {on / 2**30:.2f} GiB/s firewall on, {off / 2**30:.2f} GiB/s "
        f"off; ratio {on / off:.2f}   (target >= 0.9)"
    )
    print(f"(c) full ruleset of {args.many} instances ({big_rules} rules): build+render p50 "
          f"{statistics.median(big_build) * 1000:.1f} ms, nft load p50 {big_floor * 1000:.1f} ms; "
          f"1 instance: {statistics.median(small_build) * 1000:.1f} + "
          f"{small_floor * 1000:.1f} ms; ratio {big_floor / small_floor:.1f}x for "
          f"{big_rules / max(small_rules, 1):.0f}x the rules   "
          f"({args.many - 1} launched with their groups in {fleet_seconds:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
