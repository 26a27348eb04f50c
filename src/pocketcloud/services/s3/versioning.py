"""Versioning: PutBucketVersioning, GetBucketVersioning, ListObjectVersions. (What a PUT
or DELETE does in a versioned bucket is in objects.py: new versions, delete markers.)"""

from __future__ import annotations

from dataclasses import dataclass

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.s3.common import require_bucket
from pocketcloud.services.s3.objects import S3Object, rolled_prefix, row_object
from pocketcloud.store.sqlite import Row

STATES = ("Enabled", "Suspended")


@dataclass(frozen=True)
class VersionListing:
    """One page of versions and delete markers, by key, newest first within a key."""

    versions: list[S3Object]
    common_prefixes: list[str]
    truncated: bool
    next_key: str | None
    next_version: str | None


def set_versioning(cloud: Cloud, bucket: str, status: str) -> None:
    """PutBucketVersioning: Enabled or Suspended (a bucket never goes back to unversioned)."""
    if status not in STATES:
        raise ClientError("MalformedXML", "The XML you provided was not well-formed or did not "
                          "validate against our published schema")  # fmt: skip
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute("UPDATE s3_buckets SET versioning = ? WHERE name = ?", (status, bucket))


def list_versions(
    cloud: Cloud,
    bucket: str,
    prefix: str,
    delimiter: str,
    key_marker: str,
    version_marker: str,
    max_keys: int,
) -> VersionListing:
    """The versions after (key_marker, version_marker), with common prefixes rolled up."""
    require_bucket(cloud, bucket)
    rows = _after(cloud, bucket, prefix, key_marker, version_marker)
    versions: list[S3Object] = []
    prefixes: list[str] = []
    last: Row | None = None
    for row in rows:
        rolled = rolled_prefix(row["key"], prefix, delimiter)
        if rolled is not None and prefixes and prefixes[-1] == rolled:
            continue
        if len(versions) + len(prefixes) >= max_keys:
            assert last is not None
            return VersionListing(versions, prefixes, True, last["key"], last["version_id"])
        if rolled is None:
            versions.append(row_object(row))
        else:
            prefixes.append(rolled)
        last = row
    return VersionListing(versions, prefixes, False, None, None)


def _after(
    cloud: Cloud, bucket: str, prefix: str, key_marker: str, version_marker: str
) -> list[Row]:
    position = None
    if key_marker and version_marker:
        position = cloud.store.scalar(
            "SELECT rowid FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key_marker, version_marker),
        )
    if position is None:
        return cloud.store.all(
            "SELECT rowid, * FROM s3_objects WHERE bucket = ? AND key > ? "
            "AND substr(key, 1, ?) = ? ORDER BY key, rowid DESC",
            (bucket, key_marker, len(prefix), prefix),
        )
    return cloud.store.all(
        "SELECT rowid, * FROM s3_objects WHERE bucket = ? AND substr(key, 1, ?) = ? "
        "AND (key > ? OR (key = ? AND rowid < ?)) ORDER BY key, rowid DESC",
        (bucket, len(prefix), prefix, key_marker, key_marker, position),
    )
