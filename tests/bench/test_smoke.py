"""The benchmarks still run: each ``bench/*.py`` with ``--smoke`` (every part, tiny sizes).

Each class runs one bench script once, as a user would (``python bench/X.py --smoke``), and
checks that it exits 0 and prints each of its figure lines — the lines the README quotes —
carrying numbers, and that the smoke sizes were the ones used. No figure is held to a
target here: a smoke run measures nothing. A bench that runs too long gets SIGTERM, so
that it removes its clouds, before the test fails. The benches that start instances need
root; each builds the debian-12 image first if it is not cached.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


NUM = r"(-?\d+(?:\.\d+)?)"  # one number as the benches print it
# Durations are only held to >= 0: printed to 0.1 ms, a fast one reads 0.0.
needs_root = pytest.mark.needs_root  # the bench starts instances
pytestmark = pytest.mark.live


def smoke(script: str, timeout: float) -> str:
    """Run ``bench/<script> --smoke`` and assert it exits 0; its stdout (runs a process).

    Past ``timeout`` seconds the bench gets SIGTERM, and two minutes to clean up."""
    command = [sys.executable, str(REPO / "bench" / script), "--smoke"]
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as bench:
        try:
            out, err = bench.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            bench.terminate()
            try:
                out, err = bench.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                bench.kill()
                out, err = bench.communicate()
            pytest.fail(f"bench/{script} --smoke ran over {timeout:.0f} s:\n{out}\n{err[-3000:]}")
    assert bench.returncode == 0, (
        f"bench/{script} --smoke exited {bench.returncode}:\n{out}\n{err[-3000:]}"
    )
    return out


def figures(pattern: str, out: str, count: int = 1) -> list[list[float]]:
    """The numbers of each line matching ``pattern`` (a whole line); there must be ``count``."""
    found = re.findall(f"^{pattern}$", out, re.MULTILINE)
    assert len(found) == count, f"{count} line(s) matching {pattern!r} wanted in:\n{out}"
    return [[float(n) for n in (row if isinstance(row, tuple) else (row,))] for row in found]


def figure(pattern: str, out: str) -> list[float]:
    """The numbers of the one line matching ``pattern``."""
    return figures(pattern, out)[0]


def ms(label: str) -> str:
    """``<label> p50 N ms, p95 N ms``, as the benches print a latency."""
    return f"{label}p50 {NUM} ms, p95 {NUM} ms"


@needs_root
class TestLaunchBench:
    @pytest.fixture(scope="class")
    @classmethod
    def out(cls) -> str:
        """``bench/launch.py --smoke``'s output."""
        return smoke("launch.py", timeout=300)

    def test_floor(self, out: str) -> None:
        """(a): the floor's sshd answers, two runs, a positive p50."""
        p50, n = figure(
            rf"\(a\) floor, sshd by hand in a netns on an overlay: p50 {NUM} ms \(n={NUM}\)", out
        )
        assert p50 > 0
        assert n == 2

    def test_run_instances(self, out: str) -> None:
        """(b): RunInstances to a banner, two launches, and the ratio to the floor."""
        p50, p95, n, ratio = figure(
            ms(r"\(b\) RunInstances -> SSH banner: ")
            + rf" \(n={NUM}\); ratio to floor {NUM}x   \(targets: .*\)",
            out,
        )
        assert 0 < p50 <= p95
        assert n == 2
        assert ratio > 0

    def test_many(self, out: str) -> None:
        """(c): three instances to banners; the memory read from the cloud's own cgroups."""
        count, seconds, _drop, pss = figure(
            rf"\(c\) {NUM} instances together: {NUM} s to all banners; {NUM} MiB each "
            rf"\(MemAvailable drop\), {NUM} MiB PSS each   \(targets: .*\)",
            out,
        )
        assert count == 3
        assert seconds > 0
        assert pss > 0  # 0 when no process of the cloud's instance cgroups was found


@needs_root
class TestFirewallBench:
    @pytest.fixture(scope="class")
    @classmethod
    def out(cls) -> str:
        """``bench/firewall.py --smoke``'s output."""
        return smoke("firewall.py", timeout=400)

    def test_rule_changes(self, out: str) -> None:
        """(a): authorize → admitted and revoke → refused, 3 cycles at 1 and at 3 instances,
        and the whole-table reload baseline."""
        p50s = ms("")
        small_rules, *small, n, small_revoke, small_revoke95 = figure(
            rf"\(a\) Authorize -> admitted, 1 instance \({NUM} rules\): {p50s} \(n={NUM}\); "
            rf"Revoke -> refused {p50s}   \(target: p50 <= 50 ms\)",
            out,
        )
        count, big_rules, *big = figure(
            rf"    at {NUM} instances \({NUM} rules\): {p50s}; Revoke -> refused {p50s}", out
        )
        baseline = figure(
            rf"    baseline, reloading the whole ruleset with nft -f by hand: p50 {NUM} ms / "
            rf"{NUM} ms; ratio {NUM}x / {NUM}x",
            out,
        )
        assert (n, count) == (3, 3)
        assert big_rules > small_rules
        assert min(*small, small_revoke, small_revoke95, *big, *baseline) >= 0

    def test_throughput(self, out: str) -> None:
        """(b): a stream between two instances with the firewall on and off, 4 groups."""
        groups, rules, count, on, off, ratio = figure(
            rf"\(b\) TCP instance -> instance, {NUM} groups x {NUM} rules on {NUM} instances: "
            rf"{NUM} GiB/s firewall on, {NUM} GiB/s off; ratio {NUM}   \(target >= 0.9\)",
            out,
        )
        assert (groups, rules, count) == (4, 10, 3)
        assert min(on, off, ratio) > 0

    def test_full_ruleset(self, out: str) -> None:
        """(c): building and loading the whole ruleset at 3 instances and at 1."""
        count, rules, *times, launched, seconds = figure(
            rf"\(c\) full ruleset of {NUM} instances \({NUM} rules\): build\+render p50 {NUM} ms, "
            rf"nft load p50 {NUM} ms; 1 instance: {NUM} \+ {NUM} ms; ratio {NUM}x for {NUM}x "
            rf"the rules   \({NUM} launched with their groups in {NUM} s\)",
            out,
        )
        assert (count, launched) == (3, 2)
        assert rules > 0
        assert min(*times, seconds) >= 0


@needs_root
class TestNetworkBench:
    @pytest.fixture(scope="class")
    @classmethod
    def out(cls) -> str:
        """``bench/network.py --smoke``'s output."""
        return smoke("network.py", timeout=400)

    def test_eip_move(self, out: str) -> None:
        """(a): 3 Elastic IP moves, against direct connects and a steady Elastic IP."""
        p50, p95, n, direct, direct_p95, ratio = figure(
            ms(r"\(a\) EIP move → new instance answers: ")
            + rf" \(n={NUM}\); direct connect p50 {NUM} ms \(p95 {NUM} ms\); ratio {NUM}x",
            out,
        )
        steady = figure(ms(r"    connect\+read through the Elastic IP while it stays put: "), out)
        assert n == 3
        assert 0 <= p50 <= p95
        assert min(direct, direct_p95, ratio, *steady) >= 0

    def test_route_flip(self, out: str) -> None:
        """(b): 3 DeleteRoute/CreateRoute flips, against 3 authorizations."""
        *flips, n, lookup = figure(
            ms(r"\(b\) DeleteRoute → unreachable: ")
            + "; "
            + ms("CreateRoute → routed: ")
            + rf" \(n={NUM} each; one `ip route get` takes p50 {NUM} ms\)",
            out,
        )
        baseline = figure(
            ms("    baseline, Authorize → port admitted: ")
            + rf"; ratio route-flip/authorize {NUM}x \(delete {NUM}x, create {NUM}x\)",
            out,
        )
        assert n == 3
        assert min(*flips, lookup, *baseline) >= 0

    def test_clouds_removed(self, out: str) -> None:
        """Both bench clouds are gone: no netns, veth or nft table of their prefixes."""
        pattern = r"^    clouds (\w+), (\w+) removed, nothing left; (\d+) s in all$"
        found = re.findall(pattern, out, re.M)
        assert len(found) == 1, out
        *prefixes, seconds = found[0]
        assert int(seconds) > 0
        netns, links, tables = (
            subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            for cmd in (["ip", "netns"], ["ip", "-o", "link"], ["nft", "list", "tables"])
        )
        for prefix in prefixes:
            assert not re.search(rf"^{prefix}-", netns, re.M), netns
            assert not re.search(rf"^\d+: {prefix}[0-9a-f]{{8}}h", links, re.M), links
            assert f" {prefix}_" not in tables, tables


#: deploy.py's timed commands (its TARGETS), each a line ``  <label>   N s``
DEPLOY_STEPS = (
    "django new sample (venv, Django, gunicorn)",
    "deploy before the wheels are cached (warm)",
    "first deploy",
    "redeploy, no change",
    "redeploy, code change",
    "rollback",
    "redeploy, code change, under load",
    "deploy runserver as 2nd app (ssh://)",
)
DEPLOY_SERVERS = ("nginx+gunicorn :80", "runserver :8080", "bare gunicorn :8000")


@needs_root
class TestDeployBench:
    @pytest.fixture(scope="class")
    @classmethod
    def out(cls) -> str:
        """``bench/deploy.py --smoke``'s output."""
        return smoke("deploy.py", timeout=480)

    def test_deploy_times(self, out: str) -> None:
        """(a): every timed command printed once with its seconds."""
        for step in DEPLOY_STEPS:
            (seconds, *_) = figure(rf"  {re.escape(step)} *{NUM} s(?:   target <= .*)?", out)
            assert seconds > 0, step

    def test_under_load(self, out: str) -> None:
        """(b): the paced client sent requests, some answered by a release, with latencies."""
        sent, seconds, rate, paced = figure(
            rf"  under load: {NUM} GET / in {NUM} s = {NUM} req/s \(paced at {NUM}, .*\)", out
        )
        answered = re.findall(r"^      answered by: (.+)$", out, re.M)
        latency = figure(rf"      latency p50 {NUM} ms, p99 {NUM} ms, max {NUM} ms", out)
        assert paced == 20
        assert min(sent, seconds, rate) > 0
        assert min(latency) >= 0
        assert len(answered) == 1
        assert re.search(r"\d{8}-\d{6}-\w+ x\d+", answered[0]), answered[0]
        failed = re.findall(r"^      failed: (.+)   target 0, both releases seen  \w+$", out, re.M)
        assert len(failed) == 1, out
        assert re.fullmatch(r"none|.+ x\d+(?:, .+ x\d+)*", failed[0]), failed[0]

    def test_throughput(self, out: str) -> None:
        """(c): wrk at 16 and at 1 connection on each of the three servers, and both ratios."""
        runs = figures(rf"  GET / with wrk -c{NUM} -d{NUM}s, best of {NUM} alternating .*", out, 2)
        assert runs == [[16, 1, 1], [1, 1, 1]]
        for server in DEPLOY_SERVERS:
            rates = figures(rf"      {re.escape(server)} +{NUM} req/s  \(.*; CPU {NUM}%\)", out, 2)
            assert all(rate > 0 for rate, _ in rates), server
        for ratio in ("runserver", "bare gunicorn"):
            pattern = rf"      nginx\+gunicorn / {ratio} +{NUM}x   target >= .*  (?:PASS|MISS)"
            assert all(value > 0 for (value,) in figures(pattern, out, 2)), ratio

    def test_full_log(self, out: str) -> None:
        """The full log it names holds the output of the deploys and of wrk (removed here)."""
        found = re.findall(r"^  full log: (\S+)$", out, re.M)
        assert len(found) == 1, out
        log = Path(found[0])
        text = log.read_text()
        log.unlink()
        assert "$ pocketcloud deploy" in text
        assert "$ wrk " in text


class TestApiBench:
    @pytest.fixture(scope="class")
    @classmethod
    def out(cls) -> str:
        """``bench/api.py --smoke``'s output."""
        return smoke("api.py", timeout=300)

    def test_floor_ratio(self, out: str) -> None:
        """Its output ends with ``floor ratio: NN%``."""
        last = out.rstrip().splitlines()[-1] if out.strip() else ""
        found = re.fullmatch(rf"floor ratio: {NUM}%", last)
        assert found is not None, out
        assert float(found[1]) > 0


class TestS3Bench:
    @pytest.fixture(scope="class")
    @classmethod
    def out(cls) -> str:
        """``bench/s3.py --smoke``'s output."""
        return smoke("s3.py", timeout=300)

    @pytest.mark.parametrize(
        "label", [r"\(a\) 4 KiB PUT\+GET, 1 client: ", r"\(b\) 4 KiB PUT\+GET, 8 threads:"]
    )
    def test_small_objects(self, out: str, label: str) -> None:
        """(a), (b): PUT+GET pairs per second against pocketcloud and moto, and the ratio."""
        ours, theirs, ratio = figure(
            rf"{label} pocketcloud {NUM} pairs/s, moto {NUM} pairs/s, ratio {NUM}x"
            r"   \(target >= 3x\)",
            out,
        )
        assert ours > 0
        assert theirs > 0
        assert ratio > 0

    def test_multipart_against_cp(self, out: str) -> None:
        """(c): a 16 MiB multipart upload and download, and cp of the file as the floor."""
        found = figure(
            rf"\(c\) {NUM} MiB multipart: upload {NUM} s \({NUM} MiB/s\), download {NUM} s "
            rf"\({NUM} MiB/s\); cp on the same disk {NUM} s \({NUM} MiB/s\); ratio up {NUM}x, "
            rf"down {NUM}x   \(target >= 0.5x\)",
            out,
        )
        assert found[0] == 16
        assert all(value >= 0 for value in found)

    def test_memory(self, out: str) -> None:
        """(d): the server's RSS before and at its peak while 32 MiB moves."""
        size, before, peak, _growth = figure(
            rf"\(d\) server RSS while {NUM} MiB goes up and back: {NUM} MiB before, peak {NUM} "
            rf"MiB, growth -?{NUM} MiB   \(target < 64 MiB\)",
            out,
        )
        assert size == 32
        assert before > 0
        assert peak > 0

    def test_sync(self, out: str) -> None:
        """(e): aws s3 sync of 20 files."""
        files, seconds, _rate = figure(
            rf"\(e\) aws s3 sync of {NUM} files: {NUM} s \({NUM} files/s\)", out
        )
        assert files == 20
        assert seconds > 0
