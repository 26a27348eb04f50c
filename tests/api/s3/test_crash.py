"""A kill -9 in the middle of a PUT leaves nothing visible, and the next start removes what
the kill left on disk (a partial body; a body whose row never committed)."""

from __future__ import annotations

import hashlib
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.plugin.clouds import Server

MIB = 1024 * 1024


def _signed_put(cloud: Server, path: str, body: bytes) -> bytes:
    """The head of a SigV4-signed PUT of ``body`` (its SHA-256 declared), as boto3 signs it."""
    url = f"{cloud.endpoint}{path}"
    request = AWSRequest(method="PUT", url=url, data=body)
    request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    request.headers["Content-Length"] = str(len(body))
    S3SigV4Auth(Credentials(cloud.access_key_id, cloud.secret), "s3", "us-east-1").add_auth(request)
    lines = [f"PUT {urlsplit(url).path} HTTP/1.1", f"Host: {urlsplit(url).netloc}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _in_flight(cloud: Server) -> list[str]:
    return [p.name for p in (cloud.state_dir / "s3" / "tmp").iterdir()]


def test_kill_during_a_put(cloud: Server) -> None:
    """The server killed while a 16 MiB body is half received: after a restart the key does
    not exist, the bucket lists nothing, and no partial or orphaned body is left on disk."""
    s3: Any = cloud.client("s3")
    s3.create_bucket(Bucket="pc-crash")
    body = b"x" * (16 * MIB)
    with socket.create_connection(("127.0.0.1", cloud.port)) as sock:
        sock.sendall(_signed_put(cloud, "/pc-crash/big.bin", body) + body[: 8 * MIB])
        deadline = time.monotonic() + 10
        while not _in_flight(cloud) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_flight(cloud), "the body was not being written"
        orphan = cloud.state_dir / "s3" / "blobs" / "ab" / ("ab" + "0" * 30)
        orphan.parent.mkdir(exist_ok=True)
        orphan.write_bytes(b"renamed, never committed")  # the other window a kill can hit
        cloud.stop(kill=True)
    cloud.start()
    s3 = cloud.client("s3")
    assert s3.list_objects_v2(Bucket="pc-crash")["KeyCount"] == 0
    assert _in_flight(cloud) == []
    assert not orphan.exists()
    s3.put_object(Bucket="pc-crash", Key="big.bin", Body=body[:MIB])  # and it works again
    assert s3.head_object(Bucket="pc-crash", Key="big.bin")["ContentLength"] == MIB
