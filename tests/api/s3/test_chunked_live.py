"""aws-chunked uploads on a live server, as SDKs other than boto3 send them (and boto3 over
HTTPS): signed chunks chained from the request's signature, and unsigned chunks with a
CRC32 trailer. A wrong chunk stores nothing."""

from __future__ import annotations

import hashlib
import hmac
import io
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from pocketcloud.api.sigv4 import signing_key
from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud
EMPTY = hashlib.sha256(b"").hexdigest()


class StreamingAuth(S3SigV4Auth):
    """botocore's S3 signer, declaring an aws-chunked payload (as the SDKs that send one)."""

    def __init__(self, cloud: Server, marker: str) -> None:
        super().__init__(Credentials(cloud.access_key_id, cloud.secret), "s3", "us-east-1")
        self.marker = marker

    def payload(self, request: AWSRequest) -> str:
        return self.marker


def _head(cloud: Server, path: str, headers: dict[str, str]) -> tuple[bytes, str, str]:
    """A signed PUT's head (headers as given, then botocore's SigV4 over the payload marker
    they declare), its signature and its X-Amz-Date."""
    request = AWSRequest(method="PUT", url=f"{cloud.endpoint}{path}", headers=headers)
    StreamingAuth(cloud, headers["x-amz-content-sha256"]).add_auth(request)
    authorization = request.headers["Authorization"]
    signature = authorization.rsplit("Signature=", 1)[1]
    lines = [f"PUT {path} HTTP/1.1", f"Host: {urlsplit(cloud.endpoint).netloc}",
             "Connection: close"]  # fmt: skip
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), signature, request.headers["X-Amz-Date"]


def _send(cloud: Server, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(raw)  # the server answers, then closes (Connection: close)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _signed_body(cloud: Server, seed: str, stamp: str, chunks: list[bytes]) -> bytes:
    key = signing_key(cloud.secret, stamp[:8], "us-east-1", "s3")
    scope = f"{stamp[:8]}/us-east-1/s3/aws4_request"
    out, previous = b"", seed
    for data in [*chunks, b""]:
        text = (f"AWS4-HMAC-SHA256-PAYLOAD\n{stamp}\n{scope}\n{previous}\n{EMPTY}\n"
                f"{hashlib.sha256(data).hexdigest()}")  # fmt: skip
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        out += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(data), previous.encode(), data)
    return out


@pytest.fixture
def bucket(cloud: Server) -> str:
    s3: Any = cloud.client("s3")
    s3.create_bucket(Bucket="pc-chunked")
    return "pc-chunked"


def test_signed_chunks(cloud: Server, bucket: str) -> None:
    """A 72 KiB body in a 64 KiB and an 8 KiB signed chunk is stored decoded; the same with
    one byte changed is SignatureDoesNotMatch and the key keeps its first body."""
    chunks = [b"a" * 65536, b"b" * 8192]
    decoded = b"".join(chunks)

    def put(tamper: bool) -> bytes:
        length = len(_signed_body(cloud, "0" * 64, "20260101T000000Z", chunks))
        head, seed, stamp = _head(cloud, f"/{bucket}/chunked.bin", {
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(decoded)),
            "Content-Length": str(length),
        })  # fmt: skip
        body = _signed_body(cloud, seed, stamp, chunks)
        if tamper:
            body = body.replace(b"bbbb", b"bbbc", 1)
        return _send(cloud, head + body)

    assert put(tamper=False).startswith(b"HTTP/1.1 200 ")
    s3: Any = cloud.client("s3")
    assert s3.get_object(Bucket=bucket, Key="chunked.bin")["Body"].read() == decoded
    refused = put(tamper=True)
    assert refused.startswith(b"HTTP/1.1 403 ")
    assert b"<Code>SignatureDoesNotMatch</Code>" in refused
    assert s3.get_object(Bucket=bucket, Key="chunked.bin")["Body"].read() == decoded


def test_unsigned_chunks_with_a_crc32_trailer(cloud: Server, bucket: str) -> None:
    """botocore's own aws-chunked body with a CRC32 trailer is stored decoded, and the
    checksum is given back."""
    data = b"trailer body " * 5000
    wrapped = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=Crc32Checksum,
                                checksum_name="x-amz-checksum-crc32").read()  # fmt: skip
    head, _, _ = _head(cloud, f"/{bucket}/trailer.bin", {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(data)),
        "Content-Length": str(len(wrapped)),
    })  # fmt: skip
    assert _send(cloud, head + wrapped).startswith(b"HTTP/1.1 200 ")
    s3: Any = cloud.client("s3")
    got = s3.get_object(Bucket=bucket, Key="trailer.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert "ChecksumCRC32" in got
