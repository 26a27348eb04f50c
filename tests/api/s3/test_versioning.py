"""Versioning on a live server: every PUT a new version, DELETE a delete marker, versions
read, listed and removed one by one, Suspended writing the ``null`` version again."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.s3.conftest import code

pytestmark = pytest.mark.shared_cloud


@pytest.fixture(autouse=True)
def versioned(s3: Any, bucket: str) -> None:
    """Every test's bucket has versioning Enabled."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def test_versions_and_delete_markers(s3: Any, bucket: str) -> None:
    """Two PUTs make two versions, each readable by id; DELETE hides the key behind a
    delete marker (NoSuchKey) without losing a version; removing the marker brings the
    newest version back."""
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    gone = s3.delete_object(Bucket=bucket, Key="k")
    assert gone["DeleteMarker"] is True
    with pytest.raises(ClientError) as hidden:
        s3.get_object(Bucket=bucket, Key="k")
    assert code(hidden) == "NoSuchKey"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1]
    assert [m["IsLatest"] for m in listed["DeleteMarkers"]] == [True]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=gone["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_unknown_version_and_reading_a_marker(s3: Any, bucket: str) -> None:
    """An unknown version id is NoSuchVersion; a GET of a delete marker's id is 405."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as unknown:
        s3.get_object(Bucket=bucket, Key="k", VersionId="nosuchversion0000000000000000000")
    assert code(unknown) == "NoSuchVersion"
    with pytest.raises(ClientError) as on_marker:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert on_marker.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405


def test_suspended_writes_the_null_version(s3: Any, bucket: str) -> None:
    """After Suspended, PUTs replace one ``null`` version; earlier versions stay."""
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"a")
    s3.put_object(Bucket=bucket, Key="k", Body=b"b")
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    assert ids == ["null", v1]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"b"


def test_version_pages(s3: Any, bucket: str) -> None:
    """Pages of two (KeyMarker, VersionIdMarker) list every version once, newest first
    within a key."""
    made = {key: [s3.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"] for _ in range(3)]
            for key in ("a", "b")}  # fmt: skip
    seen = []
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    for page in pages:
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    assert seen == [(key, vid) for key in ("a", "b") for vid in reversed(made[key])]


def test_copy_of_an_older_version(s3: Any, bucket: str) -> None:
    """CopyObject with ``?versionId=`` copies that version, and says which it copied."""
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    copied = s3.copy_object(Bucket=bucket, Key="restored",
                            CopySource={"Bucket": bucket, "Key": "k", "VersionId": v1})  # fmt: skip
    assert copied["CopySourceVersionId"] == v1
    assert s3.get_object(Bucket=bucket, Key="restored")["Body"].read() == b"first"
