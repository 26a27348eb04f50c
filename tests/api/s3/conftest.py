"""What the S3 tests share: the admin's client, a bucket of each test's own (removed with
every version after it), and an error's code."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server


@pytest.fixture
def s3(cloud: Server) -> Any:
    """The admin's S3 client (path-style, as boto3 does for an endpoint URL)."""
    return cloud.client("s3")


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new empty bucket named after the test; every version and delete marker in it, and
    the bucket, removed after it."""
    name = "t-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:24]
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=name)


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    """The S3 error code a call failed with."""
    return str(error.value.response["Error"]["Code"])
