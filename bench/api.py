"""API throughput: pocketcloud (SigV4 + IAM on) against a moto server, same boto3 workload.

Starts both servers on free local ports in this one run, drives each with one boto3
client (describe_key_pairs; create_security_group + authorize_security_group_ingress),
and prints calls/s for each and the ratio. Usage: ``python bench/api.py [-n N]``.
"""

from __future__ import annotations

import argparse
import configparser
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from pocketcloud.host.daemon import answers

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        if answers("127.0.0.1", port, timeout=0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing answered on port {port}")


@contextmanager
def pocketcloud() -> Iterator[tuple[str, str, str]]:
    """A pocketcloud with its own state directory; yields (endpoint, key, secret)."""
    tmp = Path(tempfile.mkdtemp(prefix="pc-bench-"))
    port = free_port()
    env = dict(
        os.environ,
        AWS_CONFIG_FILE=str(tmp / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "credentials"),
    )
    state = str(tmp / "state")
    subprocess.run(
        [
            str(BIN / "pocketcloud"),
            "init",
            "--state-dir",
            state,
            "--port",
            str(port),
            "--profile",
            "bench",
            # its own host-object prefix, VPC and metadata port: never a developer's cloud's
            "--prefix",
            "b" + secrets.token_hex(2),
            "--vpc-cidr",
            f"10.{secrets.randbelow(150) + 100}.0.0/16",
            "--imds-port",
            str(free_port()),
            "--no-nat",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    creds = configparser.RawConfigParser()
    creds.read(tmp / "credentials")
    process = subprocess.Popen(
        [str(BIN / "pocketcloud"), "serve", "--state-dir", state],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port, process)
        yield (
            f"http://127.0.0.1:{port}",
            creds.get("bench", "aws_access_key_id"),
            creds.get("bench", "aws_secret_access_key"),
        )
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def moto() -> Iterator[tuple[str, str, str]]:
    """A moto server (werkzeug) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}", "AKIAIOSFODNN7EXAMPLE", "x" * 40
    finally:
        process.terminate()
        process.wait(timeout=20)


def client(endpoint: str, key: str, secret: str) -> Any:
    return boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def rate(calls: int, work: Callable[[int], None]) -> float:
    """Calls per second over ``calls`` calls of ``work``."""
    work(-1)  # warm up connections and caches
    start = time.perf_counter()
    for i in range(calls):
        work(i)
    return calls / (time.perf_counter() - start)


def workloads(ec2: Any, tag: str) -> dict[str, tuple[Callable[[int], None], int]]:
    """Each workload: a function of the iteration number, and API calls per iteration."""
    ec2.create_key_pair(KeyName=f"bench-{tag}")

    def describe(_: int) -> None:
        ec2.describe_key_pairs()

    def create_and_authorize(i: int) -> None:
        gid = ec2.create_security_group(GroupName=f"b-{tag}-{i}", Description="bench")["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
        )

    return {"describe_key_pairs": (describe, 1), "create_sg+authorize": (create_and_authorize, 2)}


def measure(ec2: Any, n: int, tag: str) -> dict[str, float]:
    """Calls/s of each workload, ``n`` iterations each."""
    return {
        name: rate(n, work) * per_call for name, (work, per_call) in workloads(ec2, tag).items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="iterations per workload and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; best kept")
    args = parser.parse_args()
    best: dict[str, dict[str, float]] = {"pocketcloud": {}, "moto": {}}
    with pocketcloud() as pc, moto() as mt:
        clients = {"pocketcloud": client(*pc), "moto": client(*mt)}
        for round_no in range(args.rounds):
            for name, ec2 in clients.items():
                for workload, value in measure(ec2, args.n, f"r{round_no}").items():
                    best[name][workload] = max(best[name].get(workload, 0.0), value)
    ours, theirs = best["pocketcloud"], best["moto"]
    print(f"best of {args.rounds} alternating rounds, {args.n} iterations each, one boto3 client")
    print(f"{'workload':<24}{'pocketcloud calls/s':>22}{'moto calls/s':>16}{'ratio':>8}")
    for name in ours:
        print(
            f"{name:<24}{ours[name]:>22.0f}{theirs[name]:>16.0f}{ours[name] / theirs[name]:>7.2f}x"
        )
    mean_ours = sum(ours.values()) / len(ours)
    mean_theirs = sum(theirs.values()) / len(theirs)
    print(
        f"{'mean':<24}{mean_ours:>22.0f}{mean_theirs:>16.0f}"
        f"{mean_ours / mean_theirs:>7.2f}x   (target >= 3x)"
    )


if __name__ == "__main__":
    main()
