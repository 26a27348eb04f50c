"""Buckets: CreateBucket, HeadBucket, ListBuckets, DeleteBucket, GetBucketLocation."""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.s3 import multipart, public_access
from pocketcloud.services.s3.common import blobs, no_such_bucket, require_bucket
from pocketcloud.services.s3.ownership import DEFAULT as DEFAULT_OWNERSHIP
from pocketcloud.services.s3.ownership import Ownership

#: lower-case letters, digits, dots and hyphens; a letter or digit at each end
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: the region whose buckets have no LocationConstraint (and which answers a re-create with 200)
CLASSIC_REGION = "us-east-1"


@dataclass(frozen=True)
class Bucket:
    """A stored bucket."""

    name: str
    region: str
    created: str


def check_name(name: str) -> None:
    """InvalidBucketName unless ``name`` follows S3's naming rules for general buckets."""
    problem = _name_problem(name)
    if problem:
        raise ClientError("InvalidBucketName", f"The specified bucket is not valid. {problem}")


def _name_problem(name: str) -> str:
    if not _NAME.fullmatch(name):
        return ("Bucket names are 3 to 63 lower-case letters, digits, dots and hyphens, "
                "beginning and ending with a letter or digit.")  # fmt: skip
    if ".." in name or ".-" in name or "-." in name:
        return "Bucket names must not have two adjacent periods or a period beside a hyphen."
    try:
        ipaddress.IPv4Address(name)
        return "Bucket names must not be formatted as an IP address."
    except ValueError:
        pass
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "Bucket names must not use a reserved prefix or suffix."
    return ""


def create_bucket(
    cloud: Cloud, name: str, location: str | None, ownership: Ownership = DEFAULT_OWNERSHIP
) -> Bucket:
    """CreateBucket in the cloud's region (the LocationConstraint, if given, must name it),
    with every Block Public Access setting on and the Object Ownership asked for."""
    check_name(name)
    region = _region(cloud, location)
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM s3_buckets WHERE name = ?", (name,)):
            if region == CLASSIC_REGION:  # AWS's legacy answer there: 200, nothing changes
                return head_bucket(cloud, name)
            raise ClientError(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                status=409,
            )
        bucket = Bucket(name, region, now())
        row = (name, region, cloud.account_id, bucket.created, public_access.DEFAULT_TEXT)
        cloud.store.execute(
            "INSERT INTO s3_buckets(name, region, owner, created, public_access_block, "
            "ownership) VALUES(?, ?, ?, ?, ?, ?)",
            (*row, ownership.value),
        )
    return bucket


def _region(cloud: Cloud, location: str | None) -> str:
    if not location:
        if cloud.region != CLASSIC_REGION:
            raise ClientError(
                "IllegalLocationConstraintException",
                "The unspecified location constraint is incompatible for the region specific "
                "endpoint this request was sent to.",
            )
        return cloud.region
    if location == CLASSIC_REGION == cloud.region:
        raise ClientError(
            "InvalidLocationConstraint", "The specified location-constraint is not valid"
        )
    if location != cloud.region:
        raise ClientError(
            "IllegalLocationConstraintException",
            f"The {location[:64]} location constraint is incompatible for the region specific "
            "endpoint this request was sent to.",
        )
    return location


def head_bucket(cloud: Cloud, name: str) -> Bucket:
    """The bucket (NoSuchBucket, 404, if there is none)."""
    row = cloud.store.one("SELECT name, region, created FROM s3_buckets WHERE name = ?", (name,))
    if row is None:
        raise no_such_bucket(name)
    return Bucket(row["name"], row["region"], row["created"])


def region_of(cloud: Cloud, name: str) -> str | None:
    """The region a bucket lives in (None when there is no such bucket)."""
    region = cloud.store.scalar("SELECT region FROM s3_buckets WHERE name = ?", (name,))
    return None if region is None else str(region)


MAX_BUCKETS = 10000


def list_buckets(
    cloud: Cloud,
    prefix: str | None = None,
    region: str | None = None,
    max_buckets: int | None = None,
    token: str | None = None,
) -> tuple[list[Bucket], str | None]:
    """ListBuckets: the buckets by name (with a Prefix, in a BucketRegion), a page of
    MaxBuckets at most after the ContinuationToken; the next page's token, if any."""
    if max_buckets is not None and not 1 <= max_buckets <= MAX_BUCKETS:
        raise ClientError(
            "InvalidArgument",
            f"Argument max-buckets must be an integer between 1 and {MAX_BUCKETS}",
        )
    after = _after(token) if token else ""
    rows = cloud.store.all(
        "SELECT name, region, created FROM s3_buckets WHERE name > ? AND name >= ? "
        "AND (? IS NULL OR region = ?) ORDER BY name",
        (after, prefix or "", region, region),
    )
    found = [Bucket(r["name"], r["region"], r["created"]) for r in rows]
    found = [b for b in found if b.name.startswith(prefix or "")]
    if max_buckets is None or len(found) <= max_buckets:
        return found, None
    page = found[:max_buckets]
    return page, base64.urlsafe_b64encode(page[-1].name.encode()).decode()


def _after(token: str) -> str:
    """The last bucket name of the page a ContinuationToken follows."""
    try:
        name = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
        check_name(name)
        return name
    except (ValueError, UnicodeError, ClientError):
        raise ClientError(
            "InvalidArgument", "The continuation token provided is incorrect"
        ) from None


def delete_bucket(cloud: Cloud, name: str) -> None:
    """DeleteBucket: only an empty bucket (BucketNotEmpty, 409, otherwise)."""
    with cloud.store.transaction():
        require_bucket(cloud, name)
        if cloud.store.one("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (name,)):
            raise ClientError(
                "BucketNotEmpty", "The bucket you tried to delete is not empty", status=409
            )
        leftover = multipart.forget_bucket_uploads(cloud, name)
        cloud.store.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))
    blobs(cloud).remove(leftover)


def bucket_location(cloud: Cloud, name: str) -> str | None:
    """GetBucketLocation: None for the classic region, as S3 answers."""
    region = require_bucket(cloud, name)
    return None if region == CLASSIC_REGION else region
