"""Objects: PutObject, GetObject/HeadObject, DeleteObject, ListObjects(V2).

A body is streamed into a ``BlobWriter`` by the caller; ``put_object`` renames it into
place and commits the row in one transaction, then removes the body it replaced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from pocketcloud import ids
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
    is_latest: bool = True
    delete_marker: bool = False


@dataclass(frozen=True)
class Deleted:
    """What a DeleteObject did: the version it removed or the delete marker it made."""

    version_id: str | None
    delete_marker: bool


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
            if precondition is not None:
                precondition(_latest(cloud, stored.bucket, stored.key))
            stored, gone = _install(cloud, stored)
            if also is not None:
                also()
    except BaseException:
        blobs(cloud).remove([stored.blob])
        raise
    blobs(cloud).remove(gone)
    return stored


def versioning(cloud: Cloud, bucket: str) -> str | None:
    """The bucket's versioning: None (never enabled), "Enabled" or "Suspended"."""
    status = cloud.store.scalar("SELECT versioning FROM s3_buckets WHERE name = ?", (bucket,))
    return None if status is None else str(status)


def _install(cloud: Cloud, made: S3Object) -> tuple[S3Object, list[str]]:
    """Make ``made`` the key's latest version (inside a transaction): a new version id when
    versioning is on, else the ``null`` version replaced. The blobs no row names any more."""
    status = versioning(cloud, made.bucket)
    version = ids.s3_version_id() if status == "Enabled" else NULL_VERSION
    gone = []
    if version == NULL_VERSION:
        replaced = cloud.store.scalar(
            "SELECT blob FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
            (made.bucket, made.key, NULL_VERSION),
        )
        gone = [str(replaced)] if replaced else []
        cloud.store.execute(
            "DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
            (made.bucket, made.key, NULL_VERSION),
        )
    cloud.store.execute(
        "UPDATE s3_objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1",
        (made.bucket, made.key),
    )
    installed = replace(made, version_id=version, is_latest=True)
    _insert(cloud, installed)
    return installed, gone


def _insert(cloud: Cloud, obj: S3Object) -> None:
    cloud.store.execute(
        "INSERT INTO s3_objects(bucket, key, version_id, blob, size, etag, last_modified, "
        "content_type, headers, metadata, tags, delete_marker) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (obj.bucket, obj.key, obj.version_id, obj.blob or None, obj.size, obj.etag,
         obj.last_modified, obj.attrs.content_type, json.dumps(dict(obj.attrs.headers)),
         json.dumps(dict(obj.attrs.metadata)), json.dumps(dict(obj.attrs.tags)),
         int(obj.delete_marker)),
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
    return None if row is None else row_object(row)


def row_object(row: Row) -> S3Object:
    attrs = ObjectAttrs(row["content_type"], json.loads(row["headers"]),
                        json.loads(row["metadata"]), json.loads(row["tags"]))  # fmt: skip
    return S3Object(row["bucket"], row["key"], row["version_id"], row["blob"] or "", row["size"],
                    row["etag"], row["last_modified"], attrs, bool(row["is_latest"]),
                    bool(row["delete_marker"]))  # fmt: skip


def delete_object(cloud: Cloud, bucket: str, key: str, version_id: str | None = None) -> Deleted:
    """DeleteObject. Without a version: in a bucket that never had versioning the object
    goes; otherwise a delete marker becomes the latest version. With one: that version
    goes for good (the next newest becomes the latest). No error for what is not there."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        if version_id is not None:
            deleted, gone = _delete_version(cloud, bucket, key, version_id)
        elif versioning(cloud, bucket) is None:
            old = _latest(cloud, bucket, key)
            cloud.store.execute(
                "DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, NULL_VERSION),
            )
            deleted, gone = Deleted(None, False), [old.blob] if old and old.blob else []
        else:
            marker = S3Object(bucket, key, NULL_VERSION, "", 0, "", now(), ObjectAttrs(),
                              delete_marker=True)  # fmt: skip
            installed, gone = _install(cloud, marker)
            deleted = Deleted(installed.version_id, True)
    blobs(cloud).remove(gone)
    return deleted


def _delete_version(
    cloud: Cloud, bucket: str, key: str, version_id: str
) -> tuple[Deleted, list[str]]:
    row = cloud.store.one(
        "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
        (bucket, key, version_id),
    )
    if row is None:
        return Deleted(version_id, False), []
    cloud.store.execute(
        "DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
        (bucket, key, version_id),
    )
    if row["is_latest"]:
        cloud.store.execute(
            "UPDATE s3_objects SET is_latest = 1 WHERE rowid = (SELECT rowid FROM s3_objects "
            "WHERE bucket = ? AND key = ? ORDER BY rowid DESC LIMIT 1)",
            (bucket, key),
        )
    return Deleted(version_id, bool(row["delete_marker"])), [row["blob"]] if row["blob"] else []


def get_version(cloud: Cloud, bucket: str, key: str, version_id: str) -> S3Object:
    """One version of the key (NoSuchVersion; a delete marker is MethodNotAllowed)."""
    require_bucket(cloud, bucket)
    row = cloud.store.one(
        "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
        (bucket, key, version_id),
    )
    if row is None:
        raise ClientError("NoSuchVersion", "The specified version does not exist.", status=404)
    found = row_object(row)
    if found.delete_marker:
        raise ClientError(
            "MethodNotAllowed", "The specified method is not allowed against this resource.",
            status=405,
        )  # fmt: skip
    return found


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
    cursor = after + _PAST if after and rolled_prefix(after, prefix, delimiter) == after else after
    while True:
        rows = _page(cloud, bucket, prefix, cursor, min(max_keys + 1, 1000))
        if not rows:
            return Listing(objects, prefixes, False, last)
        for row in rows:
            if len(objects) + len(prefixes) >= max_keys:
                return Listing(objects, prefixes, True, last)
            key: str = row["key"]
            rolled = rolled_prefix(key, prefix, delimiter)
            if rolled is None:
                objects.append(row_object(row))
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


def rolled_prefix(key: str, prefix: str, delimiter: str) -> str | None:
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
    cloud: Cloud, original: S3Object, bucket: str, key: str, attrs: ObjectAttrs | None
) -> S3Object:
    """CopyObject: the bytes of ``original`` (a version read by the caller) under a new key;
    its attributes too unless ``attrs`` replaces them. Copying an object onto itself must
    change its attributes (as S3)."""
    if (original.bucket, original.key) == (bucket, key) and attrs is None:
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
