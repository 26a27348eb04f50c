"""Object operations on the wire: PutObject, GetObject, HeadObject, DeleteObject,
ListObjects and ListObjectsV2.

PutObject's body arrives as a ``BlobWriter`` the edge has streamed it into (``Body``);
GetObject's leaves as an iterator of chunks (``Body``), which the edge streams out.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from pocketcloud.api.authorize import authorize
from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3 import checksums, conditions
from pocketcloud.api.s3.common import moment, owner_view, registry
from pocketcloud.api.s3.ownership import check_write
from pocketcloud.errors import ClientError
from pocketcloud.services.s3 import objects as svc
from pocketcloud.services.s3 import tagging
from pocketcloud.services.s3.common import blobs, require_bucket

#: the member each stored response header comes back as (PutObject's to GetObject's)
HEADERS = {"ContentDisposition": "content-disposition", "ContentEncoding": "content-encoding",
           "ContentLanguage": "content-language", "CacheControl": "cache-control",
           "Expires": "expires"}  # fmt: skip
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
MAX_KEYS = 1000


@registry.op("PutObject")
def put_object(call: Call, p: Params) -> Result:
    check_write(call, p)
    headers = {wire: str(p[member]) for member, wire in HEADERS.items() if p.get(member)}
    headers.update(p["Body"].checksums)
    attrs = svc.ObjectAttrs(p.get("ContentType"), headers, dict(p.get("Metadata") or {}),
                            tagging.from_header(p.get("Tagging")))  # fmt: skip
    wanted = _conditions(p)

    def precondition(old: svc.S3Object | None) -> None:
        conditions.check_write(wanted, None if old is None else old.etag)

    stored = svc.put_object(call.cloud, p["Bucket"], p["Key"], p["Body"], attrs, precondition)
    return {"ETag": stored.etag, **_version(stored), **checksums.members(stored.attrs.headers)}


def _version(obj: svc.S3Object) -> Result:
    """``VersionId`` for a version a versioned bucket made (not the ``null`` version)."""
    return {} if obj.version_id == svc.NULL_VERSION else {"VersionId": obj.version_id}


def _find(call: Call, p: Params) -> svc.S3Object:
    """The object a read names: the key's latest version, or the VersionId asked for."""
    if p.get("VersionId"):
        return svc.get_version(call.cloud, p["Bucket"], p["Key"], p["VersionId"])
    return svc.get_object(call.cloud, p["Bucket"], p["Key"])


def _head(obj: svc.S3Object) -> Result:
    out: Result = {
        **_version(obj),
        "ContentLength": obj.size,
        "ETag": obj.etag,
        "LastModified": moment(obj.last_modified),
        "AcceptRanges": "bytes",
        "ContentType": obj.attrs.content_type or "binary/octet-stream",
    }
    if obj.attrs.metadata:
        out["Metadata"] = dict(obj.attrs.metadata)
    for member, wire in HEADERS.items():
        if wire in obj.attrs.headers:
            out[member] = obj.attrs.headers[wire]
    return out


@registry.op("HeadObject")
def head_object(call: Call, p: Params) -> Result:
    obj = _find(call, p)
    conditions.check_read(_conditions(p), obj.etag, moment(obj.last_modified))
    return _with_checksums(p, obj, _head(obj))


def _with_checksums(p: Params, obj: svc.S3Object, out: Result) -> Result:
    """The object's checksums, when asked for (x-amz-checksum-mode: ENABLED) and the
    answer is the whole object."""
    if p.get("ChecksumMode") == "ENABLED" and "ContentRange" not in out:
        out.update(checksums.members(obj.attrs.headers))
    return out


def _conditions(p: Params) -> conditions.Conditions:
    return conditions.Conditions(
        p.get("IfMatch"), p.get("IfNoneMatch"), p.get("IfModifiedSince"),
        p.get("IfUnmodifiedSince"),
    )  # fmt: skip


@registry.op("GetObject")
def get_object(call: Call, p: Params) -> Result:
    obj = _find(call, p)
    conditions.check_read(_conditions(p), obj.etag, moment(obj.last_modified))
    out = _head(obj)
    start, end = 0, obj.size
    if p.get("Range"):
        start, end = _range(p["Range"], obj.size)
        out["ContentRange"] = f"bytes {start}-{end - 1}/{obj.size}"
        out["ContentLength"] = end - start
    if obj.attrs.tags:
        out["TagCount"] = len(obj.attrs.tags)
    out["Body"] = blobs(call.cloud).read(obj.blob, start, end) if obj.size else iter(())
    return _with_checksums(p, obj, out)


def _range(header: str, size: int) -> tuple[int, int]:
    """A single byte range as [start, end); a range not in the object is InvalidRange."""
    found = _RANGE.fullmatch(header.strip())
    if found is None or found.groups() == ("", ""):
        return 0, size  # S3 ignores a Range header it cannot read
    first, last = found.groups()
    if first == "":
        start, end = max(size - int(last), 0), size
    else:
        start = int(first)
        end = size if last == "" else min(int(last) + 1, size)
    if start >= size or start >= end:
        raise ClientError("InvalidRange", "The requested range is not satisfiable", status=416)
    return start, end


@registry.op("DeleteObject")
def delete_object(call: Call, p: Params) -> Result:
    return _deleted(svc.delete_object(call.cloud, p["Bucket"], p["Key"], p.get("VersionId")))


def _deleted(done: svc.Deleted) -> Result:
    out: Result = {"VersionId": done.version_id} if done.version_id else {}
    if done.delete_marker:
        out["DeleteMarker"] = True
    return out


def _max_keys(p: Params) -> int:
    wanted = p.get("MaxKeys")
    return MAX_KEYS if wanted is None else max(0, min(int(wanted), MAX_KEYS))


def _encode(p: Params, text: str) -> str:
    return quote(text, safe="/") if p.get("EncodingType") == "url" else text


def _contents(call: Call, p: Params, listing: svc.Listing, owner: bool) -> list[Result]:
    out = []
    for obj in listing.objects:
        item: dict[str, Any] = {
            "Key": _encode(p, obj.key), "LastModified": moment(obj.last_modified),
            "ETag": obj.etag, "Size": obj.size, "StorageClass": "STANDARD",
        }  # fmt: skip
        if owner:
            item["Owner"] = owner_view(call)
        out.append(item)
    return out


def _common(p: Params, listing: svc.Listing) -> Result:
    out: Result = {
        "Name": p["Bucket"], "Prefix": _encode(p, p.get("Prefix") or ""),
        "MaxKeys": _max_keys(p), "IsTruncated": listing.truncated,
    }  # fmt: skip
    if listing.common_prefixes:
        out["CommonPrefixes"] = [{"Prefix": _encode(p, c)} for c in listing.common_prefixes]
    if p.get("Delimiter"):
        out["Delimiter"] = _encode(p, p["Delimiter"])
    if p.get("EncodingType"):
        out["EncodingType"] = p["EncodingType"]
    return out


@registry.op("ListObjectsV2")
def list_objects_v2(call: Call, p: Params) -> Result:
    after = p.get("StartAfter") or ""
    if p.get("ContinuationToken"):
        after = _token_key(p["ContinuationToken"])
    listing = svc.list_objects(call.cloud, p["Bucket"], p.get("Prefix") or "",
                               p.get("Delimiter") or "", after, _max_keys(p))  # fmt: skip
    out = _common(p, listing)
    out["Contents"] = _contents(call, p, listing, bool(p.get("FetchOwner")))
    out["KeyCount"] = len(listing.objects) + len(listing.common_prefixes)
    if p.get("ContinuationToken"):
        out["ContinuationToken"] = p["ContinuationToken"]
    if p.get("StartAfter"):
        out["StartAfter"] = _encode(p, p["StartAfter"])
    if listing.truncated and listing.last is not None:
        out["NextContinuationToken"] = _token(listing.last)
    return out


@registry.op("ListObjects")
def list_objects(call: Call, p: Params) -> Result:
    listing = svc.list_objects(call.cloud, p["Bucket"], p.get("Prefix") or "",
                               p.get("Delimiter") or "", p.get("Marker") or "",
                               _max_keys(p))  # fmt: skip
    out = _common(p, listing)
    out["Contents"] = _contents(call, p, listing, True)
    out["Marker"] = _encode(p, p.get("Marker") or "")
    if listing.truncated and p.get("Delimiter") and listing.last is not None:
        out["NextMarker"] = _encode(p, listing.last)
    return out


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8", "surrogatepass")).decode()


def _token_key(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ClientError(
            "InvalidArgument", "The continuation token provided is incorrect"
        ) from None


@registry.op("CopyObject")
def copy_object(call: Call, p: Params) -> Result:
    check_write(call, p)
    bucket, key, version = _copy_source(p["CopySource"])
    source = (svc.get_version(call.cloud, bucket, key, version) if version
              else svc.get_object(call.cloud, bucket, key))  # fmt: skip
    attrs = None
    if p.get("MetadataDirective") == "REPLACE":
        headers = {wire: str(p[member]) for member, wire in HEADERS.items() if p.get(member)}
        attrs = replace(source.attrs, content_type=p.get("ContentType"), headers=headers,
                        metadata=dict(p.get("Metadata") or {}))  # fmt: skip
    if p.get("TaggingDirective") == "REPLACE":
        attrs = replace(attrs or source.attrs, tags=tagging.from_header(p.get("Tagging")))
    stored = svc.copy_object(call.cloud, source, p["Bucket"], p["Key"], attrs)
    out: Result = {"ETag": stored.etag, "LastModified": moment(stored.last_modified)}
    extra = {"CopySourceVersionId": version} if version else {}
    return {"CopyObjectResult": out, **extra, **_version(stored)}


def _copy_source(raw: str) -> tuple[str, str, str | None]:
    """``bucket/key`` (percent-encoded, maybe with a leading ``/``) and its ``?versionId=``."""
    path, _, query = raw.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        raise ClientError(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    version = dict(parse_qsl(query)).get("versionId") if query else None
    return bucket, key, version


@registry.op("DeleteObjects")
def delete_objects(call: Call, p: Params) -> Result:
    wanted = (p.get("Delete") or {}).get("Objects") or []
    if len(wanted) > MAX_KEYS:
        raise ClientError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        )
    deleted, errors = [], []
    require_bucket(call.cloud, p["Bucket"])
    for item in wanted:
        one = {"Bucket": p["Bucket"], "Key": item["Key"], "VersionId": item.get("VersionId")}
        try:  # each key is authorized as its own DeleteObject, as S3 does
            authorize(call.cloud, call.principal, "s3", "DeleteObject", one, call.source_ip,
                      call.region)  # fmt: skip
        except ClientError as denied:
            errors.append({"Key": item["Key"], "Code": denied.code, "Message": denied.message})
            continue
        done = svc.delete_object(call.cloud, p["Bucket"], item["Key"], item.get("VersionId"))
        deleted.append({"Key": item["Key"], **_deleted(done)})
        if done.delete_marker and done.version_id and not item.get("VersionId"):
            deleted[-1]["DeleteMarkerVersionId"] = done.version_id
    quiet = bool((p.get("Delete") or {}).get("Quiet"))
    out: Result = {} if quiet else {"Deleted": deleted}
    if errors:
        out["Errors"] = errors
    return out
