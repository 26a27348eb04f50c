"""Multipart uploads on the wire: Create, UploadPart, Complete, Abort, ListParts,
ListMultipartUploads (UploadPart's body arrives as a streamed ``BlobWriter``)."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3 import checksums
from pocketcloud.api.s3.common import moment, owner_view, registry
from pocketcloud.api.s3.objects import HEADERS
from pocketcloud.api.s3.ownership import check_write
from pocketcloud.services.s3 import multipart as svc
from pocketcloud.services.s3 import tagging
from pocketcloud.services.s3.objects import ObjectAttrs

MAX_LISTED = 1000


@registry.op("CreateMultipartUpload")
def create_multipart_upload(call: Call, p: Params) -> Result:
    check_write(call, p)
    headers = {wire: str(p[member]) for member, wire in HEADERS.items() if p.get(member)}
    attrs = ObjectAttrs(p.get("ContentType"), headers, dict(p.get("Metadata") or {}),
                        tagging.from_header(p.get("Tagging")))  # fmt: skip
    upload = svc.create_upload(call.cloud, p["Bucket"], p["Key"], attrs)
    return {"Bucket": upload.bucket, "Key": upload.key, "UploadId": upload.upload_id}


@registry.op("UploadPart")
def upload_part(call: Call, p: Params) -> Result:
    part = svc.upload_part(
        call.cloud, p["Bucket"], p["Key"], p["UploadId"], int(p["PartNumber"]), p["Body"]
    )
    return {"ETag": part.etag, **checksums.members(p["Body"].checksums)}


@registry.op("CompleteMultipartUpload")
def complete_multipart_upload(call: Call, p: Params) -> Result:
    wanted = [
        (int(part.get("PartNumber", 0)), str(part.get("ETag", "")))
        for part in (p.get("MultipartUpload") or {}).get("Parts") or []
    ]
    done = svc.complete_upload(call.cloud, p["Bucket"], p["Key"], p["UploadId"], wanted)
    return {"Location": f"/{done.bucket}/{done.key}", "Bucket": done.bucket, "Key": done.key,
            "ETag": done.etag}  # fmt: skip


@registry.op("AbortMultipartUpload")
def abort_multipart_upload(call: Call, p: Params) -> Result:
    svc.abort_upload(call.cloud, p["Bucket"], p["Key"], p["UploadId"])
    return {}


@registry.op("ListParts")
def list_parts(call: Call, p: Params) -> Result:
    svc.get_upload(call.cloud, p["Bucket"], p["Key"], p["UploadId"])
    limit = min(int(p.get("MaxParts") or MAX_LISTED), MAX_LISTED)
    after = int(p.get("PartNumberMarker") or 0)
    parts = svc.parts_of(call.cloud, p["UploadId"], after, limit + 1)
    shown = parts[:limit]
    out: Result = {
        "Bucket": p["Bucket"], "Key": p["Key"], "UploadId": p["UploadId"],
        "PartNumberMarker": after, "MaxParts": limit, "IsTruncated": len(parts) > limit,
        "StorageClass": "STANDARD", "Owner": owner_view(call), "Initiator": owner_view(call),
        "Parts": [{"PartNumber": x.number, "LastModified": moment(x.last_modified),
                   "ETag": x.etag, "Size": x.size} for x in shown],
    }  # fmt: skip
    if shown:
        out["NextPartNumberMarker"] = shown[-1].number
    return out


@registry.op("ListMultipartUploads")
def list_multipart_uploads(call: Call, p: Params) -> Result:
    limit = min(int(p.get("MaxUploads") or MAX_LISTED), MAX_LISTED)
    found = svc.uploads_of(call.cloud, p["Bucket"], p.get("Prefix") or "", limit + 1)
    return {
        "Bucket": p["Bucket"], "Prefix": p.get("Prefix") or "", "MaxUploads": limit,
        "IsTruncated": len(found) > limit,
        "Uploads": [{"UploadId": u.upload_id, "Key": u.key, "Initiated": moment(u.initiated),
                     "StorageClass": "STANDARD", "Owner": owner_view(call),
                     "Initiator": owner_view(call)} for u in found[:limit]],
    }  # fmt: skip
