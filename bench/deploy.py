"""Hosting a Django app: deploy and rollback times, failed requests, serving throughput.

All in one run, as root, on this machine only: a cloud of its own (NAT off), the sample
project made by ``pocketcloud django new sample``, and the wheel cache warmed by
deploying (and destroying) an app ``warm`` first, so that pip is not what is measured.
(a) wall time of ``pocketcloud deploy``: first deploy (key pair, group, instance, ship,
    venv, migrate, gunicorn behind nginx; target <= 30 s), redeploy with no change
    (target <= 3 s), redeploy after a code change, ``pocketcloud rollback`` (<= 3 s);
(b) failed requests during a code-change redeploy under steady load: GET / paced at
    --rate req/s, a new connection per request (keep-alive off, so every request meets
    the reload as a new client would), from 1 s before the deploy to 1 s after; which
    releases answered (target: 0 failed, the old and the new release both seen);
(c) req/s of the same page on the same instance, same client (``wrk``, 16 connections and
    then 1, ``--connections``):
    nginx + gunicorn on :80 against the seed's ``manage.py runserver 0:8080`` (a second
    app deployed over the ssh target) and against the serving release's gunicorn
    started by hand on :8000 without nginx (same argv, env and 3 workers); best of
    --rounds alternating rounds (targets: >= 20x runserver, >= 0.8x bare gunicorn).
The cloud is a bench cloud of its own (state dir, prefix, VPC CIDR, ports, NAT off), and
the apps' records, keys and wheel cache live in a HOME of its own; all of it is removed
at the end, also on error or SIGTERM.
Usage: ``python bench/deploy.py [--rate 100] [--rounds 2] [--seconds 5] [--connections 16,1]
[--smoke]``; ``--smoke`` runs every part at the smallest sizes (``--rate 20 --rounds 1
--seconds 1``): it checks that the bench still works and measures nothing.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.plugin.clouds import BIN, PROFILE, Server, make_server
from tests.plugin.instances import Machine, perm

from pocketcloud.host import images

APP, DEV = "sample", "sample-dev"
RELEASE = re.compile(r"release <code>([^<]+)</code>")
STEP, TOOK = re.compile(r"^▸ (.+)$"), re.compile(r"^\s+\((\d+\.\d+) s\)$")
BARE_PORT, DEV_PORT = 8000, 8080
#: --smoke: every step and server, each measured once and briefly
SMOKE = {"rate": 20.0, "rounds": 1, "seconds": 1}


def cli(server: Server, log: Path, *args: str) -> tuple[float, str]:
    """Run ``pocketcloud ARGS`` as a user of the bench cloud: (seconds, output)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "pocketcloud"), *args], env=server.env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    took = time.perf_counter() - start
    with log.open("a") as out:
        out.write(
            f"\n$ pocketcloud {shlex.join(args)}   ({took:.1f} s)\n{done.stdout}{done.stderr}"
        )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise SystemExit(f"pocketcloud {shlex.join(args)} failed ({done.returncode}):\n{tail}")
    return took, done.stdout


def slowest(output: str, n: int = 3) -> str:
    """The ``n`` slowest steps a deploy printed (``▸ title`` ... ``(1.2 s)``)."""
    steps, title = [], ""
    for line in output.splitlines():
        if found := STEP.match(line):
            title = found[1]
        elif (took := TOOK.match(line)) and title:
            steps.append((float(took[1]), title))
    return ", ".join(f"{title} {s:.1f} s" for s, title in sorted(steps, reverse=True)[:n])


def change_code(project: Path, n: int) -> None:
    """A code change: a comment appended to the views (a new digest, same requirements)."""
    with (project / "django_app" / APP / "views.py").open("a") as views:
        views.write(f"# bench change {n}\n")


def get(ip: str, port: int, timeout: float = 5) -> tuple[int, str]:
    """GET / with the instance address as Host, on a new connection: (status, body)."""
    conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Host": ip, "Connection": "close"})
        answer = conn.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        conn.close()


@dataclass
class Load:
    """What a paced client saw."""

    sent: int = 0
    seconds: float = 0.0
    failed: Counter[str] = field(default_factory=Counter)
    releases: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


def paced_load(ip: str, rate: float, stop: threading.Event, workers: int = 16) -> Load:
    """GET / at ``rate`` req/s until ``stop``: request k is due at start + k/rate and
    taken by the next free thread, so a slow answer does not slow the schedule."""
    seen, lock, slots = Load(), threading.Lock(), itertools.count()
    start = time.perf_counter()

    def worker() -> None:
        while not stop.is_set():
            time.sleep(max(0.0, start + next(slots) / rate - time.perf_counter()))
            began = time.perf_counter()
            try:
                status, body = get(ip, 80)
                found = RELEASE.search(body)
                outcome = "" if status == 200 and found else f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome, found = type(exc).__name__, None
            with lock:
                seen.sent += 1
                seen.latencies.append(time.perf_counter() - began)
                if outcome:
                    seen.failed[outcome] += 1
                elif found:
                    seen.releases[found[1]] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(timeout=10)
    seen.seconds = time.perf_counter() - start
    return seen


def under_load(ip: str, rate: float, deploy: Callable[[], float]) -> Load:
    """(b): load from 1 s before ``deploy`` until 1 s after it; what the client saw."""
    stop, box = threading.Event(), list[Load]()
    client = threading.Thread(target=lambda: box.append(paced_load(ip, rate, stop)))
    client.start()
    try:
        time.sleep(1)
        deploy()
        time.sleep(1)
    finally:
        stop.set()
        client.join()
    return box[0]


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of this machine's CPUs so far (reads /proc/stat)."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def wrk(ip: str, port: int, seconds: int, log: Path, conns: int) -> tuple[float, float, str]:
    """(c): req/s of ``wrk -t1|2 -c<conns>`` on GET /, the share of the machine's CPUs busy
    meanwhile, and wrk's error counts if any (runs wrk)."""
    url = f"http://{ip}:{port}/"
    busy, total = cpu_ticks()
    threads = min(2, conns)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "-H", f"Host: {ip}", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    busy_after, total_after = cpu_ticks()
    with log.open("a") as out_log:
        out_log.write(f"\n$ wrk -t{threads} -c{conns} -d{seconds}s -H 'Host: {ip}' {url}\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise SystemExit(f"wrk printed no rate:\n{out}")
    errors = re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", out)
    cpu = (busy_after - busy) / max(1, total_after - total)
    return float(rate[1]), cpu, "; ".join(errors)


def bare_argv(argv: list[str]) -> list[str]:
    """The service's gunicorn argv on 0.0.0.0:8000, without --user/--group/--umask."""
    out, words = [], iter(argv)
    for word in words:
        if word in ("--user", "--group", "--umask"):
            next(words)
        elif word == "--bind":
            out += [word, f"0.0.0.0:{BARE_PORT}"]
            next(words)
        else:
            out.append(word)
    return out


def start_bare(machine: Machine) -> tuple[str, list[str]]:
    """Start the serving release's gunicorn by hand as admin (nohup); (its pid, argv)."""
    release = machine.ssh(f"readlink /srv/app/{APP}/current").strip().rsplit("/", 1)[1]
    spec = json.loads(
        machine.ssh(f"sudo cat /etc/pocketcloud/services/gunicorn-{APP}-{release}.json")
    )
    argv = bare_argv(spec["argv"])
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in spec["env"].items())
    pid = machine.ssh(
        f"cd {shlex.quote(spec['cwd'])} || exit 1; nohup env {env} {shlex.join(argv)} "
        "</dev/null >~/bare-gunicorn.log 2>&1 & echo $!"
    ).strip()
    curl = f"curl -fsS -o /dev/null -H 'Host: {machine.ip}' http://127.0.0.1:{BARE_PORT}/healthz"
    machine.ssh(f"for i in $(seq 100); do {curl} && exit 0; sleep 0.1; done; exit 1")
    return pid, argv


SCAFFOLD = "django new sample (venv, Django, gunicorn)"
#: the timed commands, in order, with their targets in seconds
TARGETS: dict[str, float | None] = {
    SCAFFOLD: None,
    "deploy before the wheels are cached (warm)": None, "first deploy": 30,
    "redeploy, no change": 3, "redeploy, code change": None, "rollback": 3,
    "redeploy, code change, under load": None, "deploy runserver as 2nd app (ssh://)": None,
}  # fmt: skip


@dataclass
class Run:
    """One run of the bench: its cloud, project and log, and what it measured."""

    server: Server
    project: Path
    log: Path
    args: argparse.Namespace
    times: dict[str, tuple[float, str]] = field(default_factory=dict)  # (s, slowest steps)
    loaded: Load = field(default_factory=Load)
    #: (connections, server) → each round's (req/s, CPU busy)
    rates: dict[tuple[int, str], list[tuple[float, float]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def time(self, label: str, *args: str) -> float:
        """Run ``pocketcloud ARGS``, timed as the summary's line ``label``."""
        took, out = cli(self.server, self.log, *args)
        self.times[label] = (took, slowest(out))
        return took

    def deploys(self) -> Machine:
        """(a) and (b); the instance serving app ``sample``."""
        deploy = ("deploy", str(self.project), "--profile", PROFILE, "--app")
        self.time("deploy before the wheels are cached (warm)", *deploy, "warm")
        cli(self.server, self.log, "destroy", "--app", "warm", "--yes")
        self.time("first deploy", *deploy, APP)
        self.time("redeploy, no change", *deploy, APP)
        change_code(self.project, 1)
        self.time("redeploy, code change", *deploy, APP)
        self.time("rollback", "rollback", "--app", APP)
        home = Path(self.server.env["HOME"])
        record = json.loads((home / ".config/pocketcloud/apps" / f"{APP}.json").read_text())
        change_code(self.project, 2)
        label = "redeploy, code change, under load"
        self.loaded = under_load(
            record["host"], self.args.rate, lambda: self.time(label, *deploy, APP)
        )
        return Machine(record["instance_id"], record["host"], home / ".ssh" / f"{APP}.pem")

    def throughput(self, machine: Machine) -> None:
        """(c): runserver deployed over the ssh target, gunicorn by hand, wrk on each."""
        ec2, ip = self.server.client("ec2"), machine.ip
        group = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [f"{APP}-web"]}]
        )["SecurityGroups"][0]["GroupId"]
        rules = [perm("tcp", port, cidr="0.0.0.0/0") for port in (DEV_PORT, BARE_PORT)]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rules)
        dev = ("--target", f"ssh://admin@{ip}", "-i", str(machine.key), "--app", DEV)
        self.time(
            "deploy runserver as 2nd app (ssh://)", "deploy", str(self.project), *dev, "--runserver"
        )
        pid, argv = start_bare(machine)
        try:
            print(f"bare gunicorn (pid {pid}): {shlex.join(argv)}", flush=True)
            servers = {"nginx+gunicorn :80": 80, f"runserver :{DEV_PORT}": DEV_PORT,
                       f"bare gunicorn :{BARE_PORT}": BARE_PORT}  # fmt: skip
            for name, port in servers.items():
                status, body = get(ip, port)
                if status != 200 or not RELEASE.search(body):
                    raise SystemExit(f"{name} answers {status}: {body[:200]}")
            for conns, _ in itertools.product(self.args.connections, range(self.args.rounds)):
                for name, port in servers.items():
                    rate, cpu, errors = wrk(ip, port, self.args.seconds, self.log, conns)
                    self.rates.setdefault((conns, name), []).append((rate, cpu))
                    self.errors += [f"{name} -c{conns}: {errors}"] if errors else []
        finally:
            machine.ssh(f"kill {pid}", check=False)

    def clean(self) -> None:
        """Destroy the apps that have a record, the runserver one first (it needs the instance)."""
        records = Path(self.server.env["HOME"]) / ".config/pocketcloud/apps"
        for app in (DEV, APP, "warm"):
            if (records / f"{app}.json").exists():
                try:
                    cli(self.server, self.log, "destroy", "--app", app, "--yes")
                except (SystemExit, subprocess.SubprocessError) as exc:
                    print(f"cleanup: destroy {app}: {exc}", file=sys.stderr)


def mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def throughput_lines(run: Run, conns: int) -> list[str]:
    """(c) at one concurrency: each server's best rate, and the two ratios against targets."""
    lines = [
        f"  GET / with wrk -c{conns} -d{run.args.seconds}s, best of {run.args.rounds} alternating"
        " rounds (each round; the machine's CPUs busy in the best):"
    ]
    best = {name: max(v) for (c, name), v in run.rates.items() if c == conns}
    for name, (rate, cpu) in best.items():
        rounds = " / ".join(f"{r:.0f}" for r, _ in run.rates[(conns, name)])
        lines.append(f"      {name:<22}{rate:7.0f} req/s  ({rounds}; CPU {cpu:.0%})")
    top = best["nginx+gunicorn :80"][0]
    dev, bare = top / best["runserver :8080"][0], top / best["bare gunicorn :8000"][0]
    lines.append(
        f"      nginx+gunicorn / runserver      {dev:5.1f}x   target >= 20x   {mark(dev >= 20)}"
    )
    lines.append(
        f"      nginx+gunicorn / bare gunicorn  {bare:5.2f}x   target >= 0.8x  {mark(bare >= 0.8)}"
    )
    return lines


def report(run: Run) -> None:
    lines = [f"pocketcloud deploy bench: the django new app on a t3.micro, {os.cpu_count()} cores"]
    for label, (took, steps) in run.times.items():
        goal = TARGETS[label]
        aim = f"   target <= {goal} s  {mark(took <= goal)}" if goal else ""
        lines += [f"  {label:<44}{took:5.1f} s{aim}"] + ([f"      slowest: {steps}"] * bool(steps))
    load, lat = run.loaded, sorted(run.loaded.latencies)
    ok = not load.failed and len(load.releases) > 1
    lines += [
        f"  under load: {load.sent} GET / in {load.seconds:.1f} s = {load.sent / load.seconds:.0f}"
        f" req/s (paced at {run.args.rate:.0f}, a new connection each, 1 s before to 1 s after)",
        "      failed: "
        + (", ".join(f"{k} x{n}" for k, n in load.failed.items()) or "none")
        + f"   target 0, both releases seen  {mark(ok)}",
        "      answered by: " + ", ".join(f"{r} x{n}" for r, n in sorted(load.releases.items())),
        f"      latency p50 {statistics.median(lat) * 1000:.1f} ms, p99 "
        f"{lat[int(0.99 * (len(lat) - 1))] * 1000:.1f} ms, max {lat[-1] * 1000:.0f} ms",
    ]
    for conns in run.args.connections:
        lines += throughput_lines(run, conns)
    lines += [
        *(f"      wrk errors: {e}" for e in run.errors),
        f"  full log: {run.log}",
    ]
    print("\n".join(lines))


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--smoke`` changes the defaults (explicit values still win)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100, help="req/s during the redeploy")
    parser.add_argument("--rounds", type=int, default=2, help="alternating wrk rounds")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument(
        "--connections",
        type=lambda text: [int(c) for c in text.split(",")],
        default=[16, 1],
        help="wrk's concurrent connections, each measured (comma-separated)",
    )
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
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    images.build_image(images.cache_dir())
    tmp = Path(tempfile.mkdtemp(prefix="pcbdeploy-"))
    # a log of this run's own: another run's never overwrites it
    fd, log_name = tempfile.mkstemp(prefix="pocketcloud-bench-deploy-", suffix=".log")
    os.close(fd)
    log = Path(log_name)
    print(f"log: {log}", file=sys.stderr, flush=True)
    server = make_server(tmp)
    # the apps' records and keys and the wheel cache go to the bench HOME
    for variable in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        server.env.pop(variable, None)
    run = Run(server, tmp / "project" / APP, log, args)
    try:
        server.start()
        run.project.parent.mkdir()
        run.time(SCAFFOLD, "django", "new", APP, "--dir", str(run.project.parent))
        run.throughput(run.deploys())
    finally:
        try:
            run.clean()
        finally:
            server.remove()
            shutil.rmtree(tmp, ignore_errors=True)
    report(run)


if __name__ == "__main__":
    main()
