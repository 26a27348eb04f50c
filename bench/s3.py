"""S3 throughput: pocketcloud against a moto server and against ``cp`` on the same disk.

One run, every baseline in it:
(a) 4 KiB PUT+GET pairs with one boto3 client, pocketcloud vs a moto server;
(b) the same with 8 threads (one client each);
(c) a multipart upload and download with boto3's transfer manager vs ``cp`` of the same
    file on the same disk (the floor);
(d) the server's RSS growth while a large object goes up and comes back (constant memory);
(e) ``aws s3 sync`` of many small files.
Usage: ``python bench/s3.py [--smoke]`` (smoke: tiny sizes, the same lines).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import BIN, moto, pocketcloud  # bench/api.py, beside this script

MIB = 1024 * 1024
SMALL = b"x" * 4096


def s3_client(endpoint: str, key: str, secret: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name="us-east-1", config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def pairs_per_second(make: Callable[[], Any], bucket: str, pairs: int, threads: int) -> float:
    """PUT+GET pairs of a 4 KiB object per second, ``threads`` clients at once."""
    clients = [make() for _ in range(threads)]

    def work(index: int) -> None:
        s3 = clients[index]
        for i in range(pairs // threads):
            s3.put_object(Bucket=bucket, Key=f"k{index}-{i}", Body=SMALL)
            s3.get_object(Bucket=bucket, Key=f"k{index}-{i}")["Body"].read()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    return (pairs // threads * threads) / (time.perf_counter() - started)


def small_objects(servers: dict[str, tuple[str, str, str]], pairs: int) -> None:
    for threads, label in (
        (1, "(a) 4 KiB PUT+GET, 1 client: "),
        (8, "(b) 4 KiB PUT+GET, 8 threads:"),
    ):
        rates = {}
        for name, server in servers.items():
            bucket = f"small-{threads}"
            s3_client(*server).create_bucket(Bucket=bucket)
            pairs_per_second(lambda server=server: s3_client(*server), bucket, 8 * threads, threads)
            rates[name] = pairs_per_second(
                lambda server=server: s3_client(*server), bucket, pairs, threads
            )
        ratio = rates["pocketcloud"] / rates["moto"]
        print(f"{label} pocketcloud {rates['pocketcloud']:.0f} pairs/s, moto {rates['moto']:.0f} "
              f"pairs/s, ratio {ratio:.2f}x   (target >= 3x)", flush=True)  # fmt: skip


def server_pid(endpoint: str) -> int:
    """The pid listening on the endpoint's port (runs ``ss``)."""
    port = endpoint.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    return int(out.split("pid=", 1)[1].split(",", 1)[0])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """The highest RSS of a process while the block runs (sampled every 20 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid))


def big_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        chunk = os.urandom(MIB)
        for _ in range(size // MIB):
            out.write(chunk)


def transfer(server: tuple[str, str, str], work: Path, size: int) -> None:
    s3 = s3_client(*server)
    s3.create_bucket(Bucket="big")
    source = work / "big.bin"
    big_file(source, size)
    started = time.perf_counter()
    shutil.copyfile(source, work / "copy.bin")
    with (work / "copy.bin").open("rb") as copied:
        os.fsync(copied.fileno())
    floor = time.perf_counter() - started
    config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB,
                            max_concurrency=8)  # fmt: skip
    ec2 = boto3.client(
        "ec2", endpoint_url=server[0], aws_access_key_id=server[1],
        aws_secret_access_key=server[2], region_name="us-east-1",
    )  # fmt: skip
    idle = latencies(ec2, threading.Event(), 50)
    stop = threading.Event()
    busy: list[float] = []
    watcher = threading.Thread(target=lambda: busy.extend(latencies(ec2, stop, 100_000)))
    watcher.start()
    started = time.perf_counter()
    s3.upload_file(str(source), "big", "big.bin", Config=config)
    up = time.perf_counter() - started
    stop.set()
    watcher.join()
    started = time.perf_counter()
    s3.download_file("big", "big.bin", str(work / "down.bin"), Config=config)
    down = time.perf_counter() - started
    mib = size / MIB
    print(f"(c) {mib:.0f} MiB multipart: upload {up:.2f} s ({mib / up:.0f} MiB/s), download "
          f"{down:.2f} s ({mib / down:.0f} MiB/s); cp on the same disk {floor:.2f} s "
          f"({mib / floor:.0f} MiB/s); ratio up {floor / up:.2f}x, down {floor / down:.2f}x   "
          "(target >= 0.5x)", flush=True)  # fmt: skip
    print(f"(f) DescribeVpcs while the upload runs (its completion joins {mib:.0f} MiB): "
          f"p50 {median(busy) * 1e3:.1f} ms, max {max(busy) * 1e3:.0f} ms; idle p50 "
          f"{median(idle) * 1e3:.1f} ms   (the API keeps answering)", flush=True)  # fmt: skip
    for name in ("big.bin", "copy.bin", "down.bin"):
        (work / name).unlink()
    s3.delete_object(Bucket="big", Key="big.bin")


def latencies(ec2: Any, stop: threading.Event, most: int) -> list[float]:
    """Seconds per DescribeVpcs, one after another, until ``stop`` or ``most`` calls."""
    out: list[float] = []
    while not stop.is_set() and len(out) < most:
        started = time.perf_counter()
        ec2.describe_vpcs()
        out.append(time.perf_counter() - started)
    return out


def memory(server: tuple[str, str, str], work: Path, size: int) -> None:
    s3 = s3_client(*server)
    s3.create_bucket(Bucket="huge")
    source = work / "huge.bin"
    big_file(source, size)
    pid = server_pid(server[0])
    before = rss_mib(pid)
    config = TransferConfig(multipart_threshold=64 * MIB, multipart_chunksize=64 * MIB,
                            max_concurrency=4)  # fmt: skip
    with PeakRss(pid) as peak:
        s3.upload_file(str(source), "huge", "huge.bin", Config=config)
        source.unlink()
        s3.download_file("huge", "huge.bin", str(source), Config=config)
    print(f"(d) server RSS while {size / MIB:.0f} MiB goes up and back: {before:.0f} MiB before, "
          f"peak {peak.peak:.0f} MiB, growth {peak.peak - before:.0f} MiB   (target < 64 MiB)",
          flush=True)  # fmt: skip
    source.unlink()
    s3.delete_object(Bucket="huge", Key="huge.bin")


def sync(server: tuple[str, str, str], work: Path, files: int) -> None:
    tree = work / "tree"
    for i in range(files):
        path = tree / f"d{i % 10}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {i}\n")
    s3_client(*server).create_bucket(Bucket="synced")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=server[1], AWS_SECRET_ACCESS_KEY=server[2],
               AWS_DEFAULT_REGION="us-east-1")  # fmt: skip
    started = time.perf_counter()
    subprocess.run([str(BIN / "aws"), "--endpoint-url", server[0], "s3", "sync", str(tree),
                    "s3://synced/tree", "--only-show-errors"], env=env, check=True)  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"(e) aws s3 sync of {files} files: {seconds:.2f} s ({files / seconds:.0f} files/s)",
          flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, every line")
    args = parser.parse_args()
    pairs, size, huge, files = (16, 16 * MIB, 32 * MIB, 20) if args.smoke else (
        800, 1024 * MIB, 5 * 1024 * MIB, 1000)  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="pc-bench-s3-", dir="/var/tmp"))
    try:
        with pocketcloud() as ours, moto() as theirs:
            small_objects({"pocketcloud": ours, "moto": theirs}, pairs)
            transfer(ours, work, size)
            memory(ours, work, huge)
            sync(ours, work, files)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
