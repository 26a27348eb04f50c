"""API throughput: pocketcloud (SigV4 + IAM on) against a moto server and the client's floor.

Starts three servers on free local ports in this one run and drives each with one boto3
client (describe_key_pairs; create_security_group + authorize_security_group_ingress):
pocketcloud, a moto server, and the floor — a minimal asyncio server in its own process
that answers each action with the bytes pocketcloud answered it with, so the floor is
what this client on this machine can do at all. Prints calls/s for each, the ratio to
moto, and ``floor ratio: NN%`` (pocketcloud's mean calls/s as a share of the floor's).
Usage: ``python bench/api.py [-n N] [--rounds R] [--smoke]``.
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import json
import os
import re
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


class CannedHttp(asyncio.Protocol):
    """HTTP/1.1 keep-alive: each request is answered with the canned bytes of its Action."""

    def __init__(self, answers: dict[bytes, bytes]) -> None:
        self.answers = answers
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = re.search(rb"(?im)^content-length:\s*(\d+)", self.buffer[:end])
            size = end + 4 + (int(length.group(1)) if length else 0)
            if len(self.buffer) < size:
                return
            request, self.buffer = self.buffer[:size], self.buffer[size:]
            action = re.search(rb"Action=(\w+)", request)
            assert self.transport is not None
            self.transport.write(self.answers[action.group(1) if action else b""])


def serve_floor(port: int, answers_file: str) -> None:
    """The floor server's process: canned answers on 127.0.0.1:port until terminated."""
    canned = json.loads(Path(answers_file).read_text())
    answers = {}
    for action, body in canned.items():
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body.encode())}\r\n"
            "x-amzn-requestid: 00000000-0000-4000-8000-000000000000\r\n\r\n"
        )
        answers[action.encode()] = head.encode() + body.encode()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: CannedHttp(answers), "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(run())


@contextmanager
def floor(answers: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """The floor server in its own process, answering as pocketcloud answered."""
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(answers, file)
        file.flush()
        process = subprocess.Popen(
            [sys.executable, __file__, "--floor-server", str(port), file.name],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_for(port, process)
            yield f"http://127.0.0.1:{port}", "AKIAIOSFODNN7EXAMPLE", "x" * 40
        finally:
            process.terminate()
            process.wait(timeout=20)


def record_answers(ec2: Any) -> dict[str, str]:
    """Keep the body of each answer the client gets, by action (a botocore event hook)."""
    answers: dict[str, str] = {}

    def keep(http_response: Any, model: Any, **_: Any) -> None:
        answers[model.name] = http_response.content.decode()

    ec2.meta.events.register("after-call.ec2", keep)
    return answers


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


def prepare(ec2: Any) -> None:
    """One key pair, made once: every server then answers DescribeKeyPairs with the same one
    pair in every round (the floor with the answer recorded after this)."""
    ec2.create_key_pair(KeyName="bench")


def workloads(ec2: Any, tag: str) -> dict[str, tuple[Callable[[int], None], int]]:
    """Each workload: a function of the iteration number, and API calls per iteration."""

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


def report(best: dict[str, dict[str, float]], rounds: int, n: int) -> None:
    """The table of calls/s, the ratio to moto, and the floor ratio."""
    ours, moto_, floor_ = best["pocketcloud"], best["moto"], best["floor"]
    print(f"best of {rounds} alternating rounds, {n} iterations each, one boto3 client")
    print(
        f"{'workload':<24}{'pocketcloud calls/s':>22}{'moto calls/s':>16}{'ratio':>8}"
        f"{'floor calls/s':>16}{'of floor':>10}"
    )
    for name in ours:
        print(
            f"{name:<24}{ours[name]:>22.0f}{moto_[name]:>16.0f}{ours[name] / moto_[name]:>7.2f}x"
            f"{floor_[name]:>16.0f}{ours[name] / floor_[name]:>9.0%}"
        )
    mean = {name: sum(values.values()) / len(values) for name, values in best.items()}
    print(
        f"{'mean':<24}{mean['pocketcloud']:>22.0f}{mean['moto']:>16.0f}"
        f"{mean['pocketcloud'] / mean['moto']:>7.2f}x{mean['floor']:>16.0f}"
        f"{mean['pocketcloud'] / mean['floor']:>9.0%}   (targets >= 4x moto, >= 70% of floor)"
    )
    print(f"floor ratio: {mean['pocketcloud'] / mean['floor'] * 100:.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="iterations per workload and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; best kept")
    parser.add_argument("--smoke", action="store_true", help="a few seconds: -n 20, 1 round")
    parser.add_argument("--floor-server", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_server:
        serve_floor(int(args.floor_server[0]), args.floor_server[1])
        return
    if args.smoke:
        args.n, args.rounds = 20, 1
    best: dict[str, dict[str, float]] = {"pocketcloud": {}, "moto": {}, "floor": {}}
    with pocketcloud() as pc, moto() as mt:
        ours, theirs = client(*pc), client(*mt)
        prepare(ours)
        prepare(theirs)
        answers = record_answers(ours)
        measure(ours, 1, "record")  # one of each call: the floor's canned answers
        with floor(answers) as fl:
            clients = {"pocketcloud": ours, "moto": theirs, "floor": client(*fl)}
            for round_no in range(args.rounds):
                for name, ec2 in clients.items():
                    for workload, value in measure(ec2, args.n, f"r{round_no}").items():
                        best[name][workload] = max(best[name].get(workload, 0.0), value)
    report(best, args.rounds, args.n)


if __name__ == "__main__":
    main()
