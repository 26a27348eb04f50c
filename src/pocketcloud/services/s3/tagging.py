"""Tags: a bucket's tag set (PutBucketTagging, GetBucketTagging, DeleteBucketTagging) and
an object's (with the object: PutObject's x-amz-tagging, PutObjectTagging, …), under S3's
rules for keys and values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import parse_qsl

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.s3.common import require_bucket

MAX_BUCKET_TAGS = 50
MAX_OBJECT_TAGS = 10


def _invalid(message: str) -> ClientError:
    return ClientError("InvalidTag", message)


def checked(pairs: Sequence[tuple[str, str]], limit: int) -> dict[str, str]:
    """The tag set, if it follows S3's rules (InvalidTag otherwise)."""
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise _invalid("Cannot provide multiple Tags with the same key")
        if not 1 <= len(key) <= 128:
            raise _invalid("The TagKey you have provided is invalid")
        if len(value) > 256:
            raise _invalid("The TagValue you have provided is invalid")
        if key.startswith("aws:"):
            raise _invalid("Your TagKey cannot be prefixed with aws:")
        tags[key] = value
    if len(tags) > limit:
        kind = "Object" if limit == MAX_OBJECT_TAGS else "Bucket"
        raise _invalid(f"{kind} tags cannot be greater than {limit}")
    return tags


def from_header(value: str | None) -> dict[str, str]:
    """The tags of an ``x-amz-tagging`` header (URL-encoded ``key=value&…``)."""
    if not value:
        return {}
    try:
        pairs = parse_qsl(value, keep_blank_values=True, errors="strict", max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise _invalid(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
            "parameters without tag name duplicates."
        ) from None
    return checked(pairs, MAX_OBJECT_TAGS)


def put_bucket_tags(cloud: Cloud, bucket: str, pairs: Sequence[tuple[str, str]]) -> None:
    """PutBucketTagging: the bucket's whole tag set."""
    tags = checked(pairs, MAX_BUCKET_TAGS)
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute(
            "UPDATE s3_buckets SET tags = ? WHERE name = ?", (json.dumps(tags), bucket)
        )


def bucket_tags(cloud: Cloud, bucket: str) -> dict[str, str]:
    """GetBucketTagging (NoSuchTagSet when the bucket has none)."""
    require_bucket(cloud, bucket)
    stored = cloud.store.scalar("SELECT tags FROM s3_buckets WHERE name = ?", (bucket,))
    if stored is None:
        raise ClientError("NoSuchTagSet", "The TagSet does not exist", status=404)
    found: dict[str, str] = json.loads(stored)
    return found


def delete_bucket_tags(cloud: Cloud, bucket: str) -> None:
    """DeleteBucketTagging."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute("UPDATE s3_buckets SET tags = NULL WHERE name = ?", (bucket,))
