"""Virtual-hosted addressing on a live server: boto3 with ``addressing_style: virtual`` and
the endpoint ``http://s3.localhost:<port>`` puts the bucket in the Host header."""

from __future__ import annotations

import socket
from typing import Any

import boto3
import pytest
from botocore.config import Config

from pocketcloud.api.s3.hosts import bucket_of, path_style
from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud
_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def localhost_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """``*.localhost`` on the loopback, as RFC 6761 says and browsers do (this machine's
    resolver knows only ``localhost`` itself)."""

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("photos.s3.localhost:4747", "photos"),
        ("my.dotted.bucket.s3.localhost", "my.dotted.bucket"),
        ("photos.s3.amazonaws.com", "photos"),
        ("photos.s3.eu-west-1.amazonaws.com", "photos"),
        ("photos.s3-eu-west-1.amazonaws.com", "photos"),
        ("s3.localhost:4747", None),
        ("127.0.0.1:4747", None),
        ("localhost", None),
    ],
)
def test_bucket_of(host: str, bucket: str | None) -> None:
    """The bucket is what precedes the S3 domain; any other Host is path-style (pure)."""
    assert bucket_of(host) == bucket


def test_path_style() -> None:
    """A virtual-hosted path is the path-style one with the bucket in front (pure)."""
    assert path_style("photos.s3.localhost", "/a/b.txt") == "/photos/a/b.txt"
    assert path_style("photos.s3.localhost", "/") == "/photos"
    assert path_style("127.0.0.1:4747", "/photos/a") == "/photos/a"


@pytest.mark.live
def test_boto3_virtual_addressing(cloud: Server, localhost_names: None) -> None:
    """Create, put, list, get and delete with the bucket in the Host header."""
    s3: Any = boto3.client(
        "s3", endpoint_url=f"http://s3.localhost:{cloud.port}", region_name="us-east-1",
        aws_access_key_id=cloud.access_key_id, aws_secret_access_key=cloud.secret,
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )  # fmt: skip
    s3.create_bucket(Bucket="pc-virtual")
    s3.put_object(Bucket="pc-virtual", Key="dir/a.txt", Body=b"virtual")
    keys = [c["Key"] for c in s3.list_objects_v2(Bucket="pc-virtual")["Contents"]]
    assert keys == ["dir/a.txt"]
    assert s3.get_object(Bucket="pc-virtual", Key="dir/a.txt")["Body"].read() == b"virtual"
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "pc-virtual", "Key": "dir/a.txt"}
    )
    assert url.startswith(f"http://pc-virtual.s3.localhost:{cloud.port}/dir/a.txt?")
    s3.delete_object(Bucket="pc-virtual", Key="dir/a.txt")
    s3.delete_bucket(Bucket="pc-virtual")
