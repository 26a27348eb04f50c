"""Objects: PutObject, GetObject/HeadObject, DeleteObject, ListObjects(V2).

A body is streamed into a ``BlobWriter`` by the caller; ``put_object`` renames it into
place and commits the row in one transaction, then removes the body it replaced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.s3.common import blobs, no_such_key, require_bucket
from pocketcloud.store.blobs import BlobWriter
from pocketcloud.store.sqlite import Row

#: the version id of every object in a bucket that never had versioning
NULL_VERSION = "null"
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class ObjectAttrs:
    """What a PUT says about the body beyond its bytes."""

    content_type: str | None = None
    #: Content-Disposition, -Encoding, -Language, Cache-Control, Expires (wire names)
    headers: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class S3Object:
    """A stored object version."""

    bucket: str
    key: str
    version_id: str
    blob: str
    size: int
    etag: str
    last_modified: str
    attrs: ObjectAttrs


@dataclass(frozen=True)
class Listing:
    """One page of a listing."""

    objects: list[S3Object]
    common_prefixes: list[str]
    truncated: bool
    #: the last key or common prefix of the page (where the next page starts after)
    last: str | None


#: checks the object a write replaces (None: there is none) inside the write's transaction
Precondition = Callable[["S3Object | None"], object]


def put_object(
    cloud: Cloud,
    bucket: str,
    key: str,
    body: BlobWriter,
    attrs: ObjectAttrs,
    precondition: Precondition | None = None,
) -> S3Object:
    """PutObject: the body (already written) becomes the key's object, if
    ``precondition`` (If-Match, If-None-Match) holds for the object it replaces."""
    blob = body.commit()
    etag = f'"{body.md5.hexdigest()}"'
    made = S3Object(bucket, key, NULL_VERSION, blob, body.size, etag, now(), attrs)
    return store(cloud, made, precondition=precondition)


def store(
    cloud: Cloud,
    stored: S3Object,
    *,
    also: Callable[[], object] | None = None,
    precondition: Precondition | None = None,
) -> S3Object:
    """Commit ``stored`` (its blob already in place) as the key's object, with ``also``
    in the same transaction; then remove the body it replaced (or, if it failed, its own)."""
    try:
        with cloud.store.transaction():
            require_bucket(cloud, stored.bucket)
            old = _latest(cloud, stored.bucket, stored.key)
            if precondition is not None:
                precondition(old)
            cloud.store.execute(
                "DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
                (stored.bucket, stored.key, NULL_VERSION),
            )
            _insert(cloud, stored)
            if also is not None:
                also()
    except BaseException:
        blobs(cloud).remove([stored.blob])
        raise
    if old is not None and old.blob:
        blobs(cloud).remove([old.blob])
    return stored


def _insert(cloud: Cloud, obj: S3Object) -> None:
    cloud.store.execute(
        "INSERT INTO s3_objects(bucket, key, version_id, blob, size, etag, last_modified, "
        "content_type, headers, metadata, tags) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (obj.bucket, obj.key, obj.version_id, obj.blob, obj.size, obj.etag, obj.last_modified,
         obj.attrs.content_type, json.dumps(dict(obj.attrs.headers)),
         json.dumps(dict(obj.attrs.metadata)), json.dumps(dict(obj.attrs.tags))),
    )  # fmt: skip


def get_object(cloud: Cloud, bucket: str, key: str) -> S3Object:
    """The key's object (NoSuchBucket, NoSuchKey)."""
    require_bucket(cloud, bucket)
    found = _latest(cloud, bucket, key)
    if found is None:
        raise no_such_key(key)
    return found


def _latest(cloud: Cloud, bucket: str, key: str) -> S3Object | None:
    row = cloud.store.one(
        "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND is_latest = 1 "
        "AND delete_marker = 0",
        (bucket, key),
    )
    return None if row is None else _object(row)


def _object(row: Row) -> S3Object:
    attrs = ObjectAttrs(row["content_type"], json.loads(row["headers"]),
                        json.loads(row["metadata"]), json.loads(row["tags"]))  # fmt: skip
    return S3Object(row["bucket"], row["key"], row["version_id"], row["blob"] or "", row["size"],
                    row["etag"], row["last_modified"], attrs)  # fmt: skip


def delete_object(cloud: Cloud, bucket: str, key: str) -> None:
    """DeleteObject: gone if it was there; no error if it was not (as S3)."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        old = _latest(cloud, bucket, key)
        cloud.store.execute(
            "DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key, NULL_VERSION),
        )
    if old is not None and old.blob:
        blobs(cloud).remove([old.blob])


def list_objects(
    cloud: Cloud, bucket: str, prefix: str, delimiter: str, after: str, max_keys: int
) -> Listing:
    """The keys after ``after`` that start with ``prefix``, in UTF-8 byte order; with a
    delimiter, the keys sharing the part up to it are rolled into one common prefix."""
    require_bucket(cloud, bucket)
    objects: list[S3Object] = []
    prefixes: list[str] = []
    last: str | None = None
    # a page that ended on a common prefix goes on after every key under it
    cursor = after + _PAST if after and _rolled(after, prefix, delimiter) == after else after
    while True:
        rows = _page(cloud, bucket, prefix, cursor, min(max_keys + 1, 1000))
        if not rows:
            return Listing(objects, prefixes, False, last)
        for row in rows:
            if len(objects) + len(prefixes) >= max_keys:
                return Listing(objects, prefixes, True, last)
            key: str = row["key"]
            rolled = _rolled(key, prefix, delimiter)
            if rolled is None:
                objects.append(_object(row))
                last = cursor = key
                continue
            prefixes.append(rolled)
            last, cursor = rolled, rolled + _PAST
            break  # seek past every key under the common prefix


#: sorts after any character a key can hold: ``p + _PAST`` is past every key starting with p
_PAST = "\U0010ffff"


def _page(cloud: Cloud, bucket: str, prefix: str, after: str, limit: int) -> list[Row]:
    return cloud.store.all(
        "SELECT * FROM s3_objects WHERE bucket = ? AND is_latest = 1 AND delete_marker = 0 "
        "AND key > ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
        (bucket, after, len(prefix), prefix, limit),
    )


def _rolled(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix ``key`` rolls into, or None."""
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def sweep(cloud: Cloud) -> list[str]:
    """What a kill left behind, removed: partial bodies, and bodies no row names (the
    rename happened, the commit did not). Call at start-up only, before any request."""
    rows = cloud.store.all(
        "SELECT blob FROM s3_objects WHERE blob IS NOT NULL UNION SELECT blob FROM s3_parts"
    )
    found = blobs(cloud).leftovers({row["blob"] for row in rows})
    for path in found:
        path.unlink(missing_ok=True)
    return [path.name for path in found]


def copy_object(
    cloud: Cloud, source: tuple[str, str], bucket: str, key: str, attrs: ObjectAttrs | None
) -> S3Object:
    """CopyObject: the source's bytes under a new key; its attributes too unless ``attrs``
    replaces them. Copying an object onto itself must change its attributes (as S3)."""
    original = get_object(cloud, *source)
    if source == (bucket, key) and attrs is None:
        raise ClientError(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
        )
    require_bucket(cloud, bucket)
    body = blobs(cloud).copy(original.blob) if original.blob else blobs(cloud).writer()
    try:
        return put_object(cloud, bucket, key, body, attrs or original.attrs)
    finally:
        body.discard()


def set_object_tags(cloud: Cloud, bucket: str, key: str, tags: Mapping[str, str]) -> None:
    """PutObjectTagging / DeleteObjectTagging (empty ``tags``): the object's tag set."""
    with cloud.store.transaction():
        get_object(cloud, bucket, key)
        cloud.store.execute(
            "UPDATE s3_objects SET tags = ? WHERE bucket = ? AND key = ? AND is_latest = 1",
            (json.dumps(dict(tags)), bucket, key),
        )
