"""Network control-plane speed: an Elastic IP moving, a default route flipping.

All in one run, as root, on this machine only (packets go to instances on this host; the
outside is only ever looked up with ``ip route get``, never sent to):
(a) in a cloud of its own with NAT off, two instances A and B each serving their hostname
    on port 8080, one Elastic IP: AssociateAddress to the other instance returning → a
    new TCP connection from the host to the Elastic IP answered by that instance (the
    hostname read is the expected one), p50/p95 over N moves; baseline: the same
    connect+read to an instance's private address, N times;
(b) in a second cloud with NAT on (without it nothing is routed out at all), an instance
    in a custom VPC whose subnet's route table sends 0.0.0.0/0 to an attached internet
    gateway: DeleteRoute returning → ``ip route get 192.0.2.1 from <instance> iif <its
    veth>`` answering unreachable, and CreateRoute returning → it routing again, p50/p95
    over N cycles; baseline: AuthorizeSecurityGroupIngress returning → a connection to
    the newly admitted port being answered, N cycles (revoked in between). The instance's
    groups only admit egress to its own VPC, so even the instance sends nothing out.
Every wait gives up after 10 s. Each cloud has its own state dir, prefix, VPC CIDR,
ports and Elastic IP pool; the second has NAT on because (b) measures outbound routing,
and it masquerades only its own VPCs' addresses, for an instance that sends nothing out.
Both clouds are removed at the end, even on error or SIGTERM, and nothing of their
prefixes (netns, veths, nft tables, routes, policy rules) may be left.
Usage: ``python bench/network.py [-n 30] [--smoke]``; ``--smoke`` runs every part at the
smallest size (``-n 3``, seconds): it checks that the bench still works and measures
nothing.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.plugin.clouds import Server, make_server
from tests.plugin.instances import Machine, perm, wait_for_banner
from tests.reconcile.test_vpc_network import free_cidr

from pocketcloud.host import images, nat, runtime

PORT = 8080
OUTSIDE = "192.0.2.1"  # only ever looked up with `ip route get`, never sent to
TIMEOUT = 10.0  # every wait gives up after this many seconds
POLL = 0.002  # pause between attempts
#: --smoke: every part, at the smallest size
SMOKE = {"n": 3}
LISTENER = f"""
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", {PORT}))
server.listen(128)
name = socket.gethostname().encode()
while True:
    conn, _ = server.accept()
    conn.sendall(name)
    conn.close()
"""


# --- a cloud of its own -------------------------------------------------------------------


@contextmanager
def bench_cloud(label: str, *, with_nat: bool) -> Iterator[Server]:
    """A started cloud (own state dir, prefix, VPC CIDR, ports, EIP pool in 198.18.0.0/15);
    stopped and removed on the way out, whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix=f"pcbnet-{label}-"))
    server = make_server(tmp, nat=with_nat)
    try:
        server.start()
        nat_state = "on" if with_nat else "off"
        print(f"bench cloud {server.prefix}, NAT {nat_state}, EIP pool {server.eip_pool}",
              file=sys.stderr, flush=True)  # fmt: skip
        yield server
    finally:
        try:
            server.remove()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def leftovers(prefix: str, cidrs: list[str]) -> list[str]:
    """What the host still holds of a removed cloud (runs ``ip`` and ``nft``)."""

    def run(*cmd: str) -> list[str]:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.splitlines()

    left = [f"netns {line}" for line in run("ip", "netns") if line.startswith(f"{prefix}-")]
    left += [f"nft {line}" for line in run("nft", "list", "tables") if f" {prefix}_" in line]
    left += [
        f"route {line}"
        for line in run("ip", "route", "show")
        if any(c in line.split() for c in cidrs) or f"dev {prefix}" in line
    ]
    left += [f"rule {line}" for line in run("ip", "rule", "show") if f"iif {prefix}" in line]
    if not runtime.host_objects(prefix).empty():
        left.append(f"host objects {runtime.host_objects(prefix)}")
    return left


def key_pair(server: Server, ec2: Any) -> tuple[str, Path]:
    pem = server.state_dir / "bench.pem"
    pem.write_text(ec2.create_key_pair(KeyName="bench", KeyType="ed25519")["KeyMaterial"])
    pem.chmod(0o400)
    return "bench", pem


def image_id(ec2: Any) -> str:
    found = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-12"]}])["Images"]
    return str(found[0]["ImageId"])


def group(ec2: Any, name: str, rules: list[dict[str, Any]], **extra: Any) -> str:
    made = str(ec2.create_security_group(GroupName=name, Description=name, **extra)["GroupId"])
    if rules:
        ec2.authorize_security_group_ingress(GroupId=made, IpPermissions=rules)
    return made


def launch(ec2: Any, image: str, key: tuple[str, Path], **extra: Any) -> Machine:
    """RunInstances; running and answering SSH at its private address."""
    made = ec2.run_instances(
        ImageId=image, InstanceType="t3.micro", KeyName=key[0], MinCount=1, MaxCount=1, **extra
    )["Instances"][0]
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[made["InstanceId"]], WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )
    wait_for_banner(made["PrivateIpAddress"], timeout=60)
    return Machine(made["InstanceId"], made["PrivateIpAddress"], key[1])


def serve_hostname(m: Machine) -> None:
    """Start the hostname listener inside the instance, detached from the SSH session."""
    m.ssh("cat > /tmp/hostname_server.py", stdin=LISTENER)
    m.ssh("setsid nohup python3 /tmp/hostname_server.py </dev/null >/tmp/hs.log 2>&1 &")


def hostname(ip: str) -> str:
    return "ip-" + ip.replace(".", "-")


# --- probes -------------------------------------------------------------------------------


def answer(ip: str, connect_timeout: float = 0.002, read_timeout: float = 0.5) -> str | None:
    """The hostname a new connection to ip:PORT reads, or None if none is made."""
    try:
        with socket.create_connection((ip, PORT), timeout=connect_timeout) as sock:
            sock.settimeout(read_timeout)
            return sock.recv(64).decode()
    except OSError:  # a dropped SYN is not resent within the timeout
        return None


def connects(ip: str, timeout: float) -> bool:
    try:
        with socket.create_connection((ip, PORT), timeout=timeout):
            return True
    except OSError:
        return False


def routed(ip: str, veth: str) -> bool:
    """Whether the kernel routes the instance's packet for the outside (sends nothing)."""
    looked_up = subprocess.run(
        ["ip", "route", "get", OUTSIDE, "from", ip, "iif", veth],
        capture_output=True,
        text=True,
        check=False,
    )
    if looked_up.returncode == 0:
        return True
    if "unreachable" in looked_up.stderr.lower():
        return False
    raise SystemExit(f"ip route get failed: {looked_up.stderr.strip()}")


def until(check: Callable[[], bool], what: str, *, pause: float = POLL) -> float:
    """Seconds from now to the start of the first attempt of ``check`` that holds: the
    state had changed by then (an upper bound, within one attempt)."""
    start = time.perf_counter()
    while True:
        attempt = time.perf_counter()
        if check():
            return attempt - start
        if attempt - start > TIMEOUT:
            raise SystemExit(f"timed out after {TIMEOUT:.0f} s waiting for {what}")
        time.sleep(pause)


def answered_by(ip: str, expected: str) -> float:
    """Seconds from now until a new connection to ip:PORT has read ``expected`` (the end of
    that connect+read: it is what a client waits for)."""
    start = time.perf_counter()
    while True:
        if answer(ip) == expected:
            return time.perf_counter() - start
        if time.perf_counter() - start > TIMEOUT:
            raise SystemExit(f"timed out after {TIMEOUT:.0f} s waiting for {expected} at {ip}")
        time.sleep(POLL)


# --- (a) Elastic IP move ------------------------------------------------------------------


def eip_move(server: Server, image: str, n: int) -> tuple[list[float], list[float], list[float]]:
    """(a): seconds from AssociateAddress returning to the new instance answering through
    the Elastic IP; a connect+read straight to an instance's private address; and one
    through the Elastic IP while it stays put."""
    ec2 = server.client("ec2")
    key = key_pair(server, ec2)
    ssh = group(ec2, "bench-ssh", [perm("tcp", 22, cidr="0.0.0.0/0")])
    web = group(ec2, "bench-web", [perm("tcp", PORT, cidr="0.0.0.0/0")])
    a, b = (launch(ec2, image, key, SecurityGroupIds=[ssh, web]) for _ in range(2))
    for m in (a, b):
        serve_hostname(m)
        answered_by(m.ip, hostname(m.ip))
    address = ec2.allocate_address(Domain="vpc")
    eip, allocation = address["PublicIp"], address["AllocationId"]
    if not eip.startswith("198.1"):
        raise SystemExit(f"Elastic IP {eip} outside 198.18.0.0/15")
    ec2.associate_address(AllocationId=allocation, InstanceId=a.instance_id)
    answered_by(eip, hostname(a.ip))
    moves, direct = [], []
    holder = a
    for _ in range(n):
        holder = b if holder is a else a
        ec2.associate_address(
            AllocationId=allocation, InstanceId=holder.instance_id, AllowReassociation=True
        )
        moves.append(answered_by(eip, hostname(holder.ip)))
    for i in range(n):
        m = (a, b)[i % 2]
        direct.append(answered_by(m.ip, hostname(m.ip)))
    steady = [answered_by(eip, hostname(holder.ip)) for _ in range(n)]
    return moves, direct, steady


# --- (b) route flip -----------------------------------------------------------------------


def route_flip(
    server: Server, image: str, n: int
) -> tuple[list[float], list[float], list[float], list[float], str]:
    """(b): seconds from DeleteRoute returning to unreachable and from CreateRoute returning
    to routed; from AuthorizeSecurityGroupIngress returning to admitted; the cost of one
    ``ip route get``; and the custom VPC's CIDR."""
    ec2 = server.client("ec2")
    key = key_pair(server, ec2)
    cidr = free_cidr()
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("0.0/16", "1.0/24"))
    subnet_id = subnet["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)
    ssh = group(ec2, "bench-ssh", [perm("tcp", 22, cidr="0.0.0.0/0")], VpcId=vpc_id)
    web = group(ec2, "bench-web", [], VpcId=vpc_id)
    for gid in (ssh, web):  # egress only within the VPC: the instance sends nothing out
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[perm("-1", cidr="0.0.0.0/0")])
        ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[perm("-1", cidr=cidr)])
    vm = launch(ec2, image, key, SubnetId=subnet_id, SecurityGroupIds=[ssh, web])
    veth = runtime.veth_name(server.prefix, vm.instance_id)
    serve_hostname(vm)
    rule = [perm("tcp", PORT, cidr="0.0.0.0/0")]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=rule)
    answered_by(vm.ip, hostname(vm.ip))  # the listener is up
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=rule)
    until(lambda: not connects(vm.ip, 0.2), "the port to close", pause=POLL)
    until(lambda: routed(vm.ip, veth), "the instance to be routed out")

    lookup = []
    for _ in range(20):
        start = time.perf_counter()
        routed(vm.ip, veth)
        lookup.append(time.perf_counter() - start)
    removed, created = [], []
    for _ in range(n):
        ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
        removed.append(until(lambda: not routed(vm.ip, veth), "DeleteRoute to take effect"))
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        created.append(until(lambda: routed(vm.ip, veth), "CreateRoute to take effect"))

    admitted = []
    for _ in range(n):
        ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=rule)
        admitted.append(until(lambda: connects(vm.ip, 0.002), "the port to be admitted"))
        ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=rule)
        until(lambda: not connects(vm.ip, 0.2), "the port to close")
    return removed, created, admitted, lookup, cidr


# --- report -------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def ms(values: list[float]) -> str:
    return f"p50 {p50(values):.1f} ms, p95 {pct(values, 0.95) * 1000:.1f} ms"


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # the clouds' finally blocks still run


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--smoke`` changes the defaults (explicit values still win)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=30, help="moves, flips and authorizations")
    parser.add_argument("--smoke", action="store_true", help="every part at tiny sizes")
    if parser.parse_known_args(argv)[0].smoke:
        parser.set_defaults(**SMOKE)
    return parser.parse_args(argv)


def main() -> None:
    args = arguments()
    if os.geteuid() != 0:
        raise SystemExit("run as root")
    signal.signal(signal.SIGTERM, _terminated)
    started = time.perf_counter()
    image = images.build_image(images.cache_dir()).image_id
    removed_clouds: list[tuple[str, list[str]]] = []
    try:
        with bench_cloud("eip", with_nat=False) as plain:
            removed_clouds.append((plain.prefix, [plain.cidr, plain.eip_pool]))
            moves, direct, steady = eip_move(plain, image, args.n)
        with bench_cloud("route", with_nat=True) as natted:
            removed_clouds.append((natted.prefix, [natted.cidr, natted.eip_pool]))
            removed, created, admitted, lookup, vpc_cidr = route_flip(natted, image, args.n)
            removed_clouds[-1][1].append(vpc_cidr)
    finally:
        left = [thing for prefix, cidrs in removed_clouds for thing in leftovers(prefix, cidrs)]
        left += [
            f"nft table ip {nat.table(prefix)}"
            for prefix, _ in removed_clouds
            if subprocess.run(
                ["nft", "list", "table", "ip", nat.table(prefix)], capture_output=True, check=False
            ).returncode
            == 0
        ]
        if left:
            print("LEFT BEHIND:\n  " + "\n  ".join(left), file=sys.stderr)
    if left:
        raise SystemExit(1)

    print(
        f"(a) EIP move → new instance answers: {ms(moves)} (n={len(moves)}); direct connect "
        f"p50 {p50(direct):.1f} ms (p95 {pct(direct, 0.95) * 1000:.1f} ms); "
        f"ratio {p50(moves) / p50(direct):.1f}x"
    )
    print(f"    connect+read through the Elastic IP while it stays put: {ms(steady)}")
    flips = removed + created
    print(
        f"(b) DeleteRoute → unreachable: {ms(removed)}; CreateRoute → routed: {ms(created)} "
        f"(n={len(removed)} each; one `ip route get` takes p50 {p50(lookup):.1f} ms)"
    )
    print(
        f"    baseline, Authorize → port admitted: {ms(admitted)}; ratio route-flip/authorize "
        f"{p50(flips) / p50(admitted):.1f}x (delete {p50(removed) / p50(admitted):.1f}x, "
        f"create {p50(created) / p50(admitted):.1f}x)"
    )
    print(f"    clouds {', '.join(p for p, _ in removed_clouds)} removed, nothing left; "
          f"{time.perf_counter() - started:.0f} s in all")  # fmt: skip


if __name__ == "__main__":
    main()
