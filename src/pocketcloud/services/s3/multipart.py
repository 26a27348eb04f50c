"""Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload, ListParts, ListMultipartUploads.

Each part is a blob of its own; completing joins them into the object's body (a kernel
copy) and commits the object and the end of the upload in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.s3.common import blobs, require_bucket
from pocketcloud.services.s3.objects import NULL_VERSION, ObjectAttrs, S3Object, store
from pocketcloud.store.blobs import BlobWriter
from pocketcloud.store.sqlite import Row

MIN_PART = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000


@dataclass(frozen=True)
class Upload:
    """An upload in progress."""

    upload_id: str
    bucket: str
    key: str
    initiated: str
    attrs: ObjectAttrs


@dataclass(frozen=True)
class Part:
    """One uploaded part."""

    number: int
    blob: str
    size: int
    etag: str
    last_modified: str


def no_such_upload() -> ClientError:
    return ClientError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.",
        status=404,
    )


def create_upload(cloud: Cloud, bucket: str, key: str, attrs: ObjectAttrs) -> Upload:
    """CreateMultipartUpload: a new upload id for the key."""
    upload = Upload(secrets.token_urlsafe(48), bucket, key, now(), attrs)
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute(
            "INSERT INTO s3_uploads(upload_id, bucket, key, initiated, content_type, headers, "
            "metadata, tags) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
            (upload.upload_id, bucket, key, upload.initiated, attrs.content_type,
             json.dumps(dict(attrs.headers)), json.dumps(dict(attrs.metadata)),
             json.dumps(dict(attrs.tags))),
        )  # fmt: skip
    return upload


def get_upload(cloud: Cloud, bucket: str, key: str, upload_id: str) -> Upload:
    """The upload (NoSuchBucket, NoSuchUpload)."""
    require_bucket(cloud, bucket)
    row = cloud.store.one(
        "SELECT * FROM s3_uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
        (upload_id, bucket, key),
    )
    if row is None:
        raise no_such_upload()
    return _upload(row)


def _upload(row: Row) -> Upload:
    attrs = ObjectAttrs(
        row["content_type"],
        json.loads(row["headers"]),
        json.loads(row["metadata"]),
        json.loads(row["tags"]),
    )
    return Upload(row["upload_id"], row["bucket"], row["key"], row["initiated"], attrs)


def upload_part(
    cloud: Cloud, bucket: str, key: str, upload_id: str, number: int, body: BlobWriter
) -> Part:
    """UploadPart: the body (already written) becomes part ``number`` (1 to 10,000),
    replacing a part of that number."""
    if not 1 <= number <= MAX_PART_NUMBER:
        raise ClientError(
            "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"
        )
    get_upload(cloud, bucket, key, upload_id)
    part = Part(number, body.commit(), body.size, f'"{body.md5.hexdigest()}"', now())
    try:
        with cloud.store.transaction():
            get_upload(cloud, bucket, key, upload_id)
            old = cloud.store.scalar(
                "SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?",
                (upload_id, number),
            )
            cloud.store.execute(
                "INSERT OR REPLACE INTO s3_parts(upload_id, part_number, blob, size, etag, "
                "last_modified) VALUES(?, ?, ?, ?, ?, ?)",
                (upload_id, number, part.blob, part.size, part.etag, part.last_modified),
            )
    except BaseException:
        blobs(cloud).remove([part.blob])
        raise
    if old:
        blobs(cloud).remove([str(old)])
    return part


def parts_of(
    cloud: Cloud, upload_id: str, after: int = 0, limit: int = MAX_PART_NUMBER
) -> list[Part]:
    """The upload's parts with numbers above ``after``, in order."""
    rows = cloud.store.all(
        "SELECT * FROM s3_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number "
        "LIMIT ?",
        (upload_id, after, limit),
    )
    return [
        Part(r["part_number"], r["blob"], r["size"], r["etag"], r["last_modified"]) for r in rows
    ]


def complete_upload(
    cloud: Cloud, bucket: str, key: str, upload_id: str, wanted: Sequence[tuple[int, str]]
) -> S3Object:
    """CompleteMultipartUpload: the parts named (number, ETag), in ascending order, become
    the object; every part but the last is at least 5 MiB (S3's rules and errors)."""
    upload = get_upload(cloud, bucket, key, upload_id)
    chosen = _chosen(wanted, {p.number: p for p in parts_of(cloud, upload_id)})
    digest = hashlib.md5(usedforsecurity=False)
    for part in chosen:
        digest.update(bytes.fromhex(part.etag.strip('"')))
    blob, size = blobs(cloud).join(p.blob for p in chosen)
    etag = f'"{digest.hexdigest()}-{len(chosen)}"'
    every = [p.blob for p in parts_of(cloud, upload_id)]
    made = S3Object(bucket, key, NULL_VERSION, blob, size, etag, now(), upload.attrs)
    stored = store(cloud, made, also=lambda: _forget(cloud, upload_id))
    blobs(cloud).remove(every)
    return stored


def _chosen(wanted: Sequence[tuple[int, str]], have: dict[int, Part]) -> list[Part]:
    if not wanted:
        raise ClientError("MalformedXML", "The XML you provided was not well-formed or did not "
                          "validate against our published schema")  # fmt: skip
    numbers = [number for number, _ in wanted]
    if numbers != sorted(set(numbers)):
        raise ClientError(
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be specified in "
            "order by part number.",
        )
    chosen = []
    for number, etag in wanted:
        part = have.get(number)
        if part is None or part.etag.strip('"') != etag.strip('"'):
            raise ClientError(
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have "
                "been uploaded, or the specified entity tag may not match the part's entity tag.",
            )
        chosen.append(part)
    if any(part.size < MIN_PART for part in chosen[:-1]):
        raise ClientError(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed object size.",
        )
    return chosen


def _forget(cloud: Cloud, upload_id: str) -> None:
    cloud.store.execute("DELETE FROM s3_parts WHERE upload_id = ?", (upload_id,))
    cloud.store.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))


def abort_upload(cloud: Cloud, bucket: str, key: str, upload_id: str) -> None:
    """AbortMultipartUpload: the upload and its parts are gone."""
    with cloud.store.transaction():
        get_upload(cloud, bucket, key, upload_id)
        every = [p.blob for p in parts_of(cloud, upload_id)]
        _forget(cloud, upload_id)
    blobs(cloud).remove(every)


def uploads_of(cloud: Cloud, bucket: str, prefix: str, limit: int) -> list[Upload]:
    """The bucket's uploads in progress under ``prefix``, by key then start time."""
    require_bucket(cloud, bucket)
    rows = cloud.store.all(
        "SELECT * FROM s3_uploads WHERE bucket = ? AND substr(key, 1, ?) = ? "
        "ORDER BY key, initiated LIMIT ?",
        (bucket, len(prefix), prefix, limit),
    )
    return [_upload(row) for row in rows]


def forget_bucket_uploads(cloud: Cloud, bucket: str) -> list[str]:
    """Drop the bucket's uploads (in the caller's transaction); the blobs to remove after."""
    rows = cloud.store.all(
        "SELECT p.blob FROM s3_parts p JOIN s3_uploads u ON u.upload_id = p.upload_id "
        "WHERE u.bucket = ?",
        (bucket,),
    )
    for upload in cloud.store.all("SELECT upload_id FROM s3_uploads WHERE bucket = ?", (bucket,)):
        _forget(cloud, upload["upload_id"])
    return [row["blob"] for row in rows]
