"""Versioning on the wire: PutBucketVersioning, GetBucketVersioning, ListObjectVersions."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import moment, owner_view, registry
from pocketcloud.api.s3.objects import MAX_KEYS
from pocketcloud.services.s3 import objects
from pocketcloud.services.s3 import versioning as svc
from pocketcloud.services.s3.common import require_bucket


@registry.op("PutBucketVersioning")
def put_bucket_versioning(call: Call, p: Params) -> Result:
    status = (p.get("VersioningConfiguration") or {}).get("Status", "")
    svc.set_versioning(call.cloud, p["Bucket"], status)
    return {}


@registry.op("GetBucketVersioning")
def get_bucket_versioning(call: Call, p: Params) -> Result:
    require_bucket(call.cloud, p["Bucket"])
    status = objects.versioning(call.cloud, p["Bucket"])
    return {"Status": status} if status else {}


@registry.op("ListObjectVersions")
def list_object_versions(call: Call, p: Params) -> Result:
    wanted = p.get("MaxKeys")
    limit = MAX_KEYS if wanted is None else max(0, min(int(wanted), MAX_KEYS))
    page = svc.list_versions(call.cloud, p["Bucket"], p.get("Prefix") or "",
                             p.get("Delimiter") or "", p.get("KeyMarker") or "",
                             p.get("VersionIdMarker") or "", limit)  # fmt: skip
    out: Result = {
        "Name": p["Bucket"], "Prefix": p.get("Prefix") or "", "MaxKeys": limit,
        "IsTruncated": page.truncated, "KeyMarker": p.get("KeyMarker") or "",
        "VersionIdMarker": p.get("VersionIdMarker") or "",
        "Versions": [_version(call, v) for v in page.versions if not v.delete_marker],
        "DeleteMarkers": [_marker(call, v) for v in page.versions if v.delete_marker],
    }  # fmt: skip
    if page.common_prefixes:
        out["CommonPrefixes"] = [{"Prefix": c} for c in page.common_prefixes]
    if p.get("Delimiter"):
        out["Delimiter"] = p["Delimiter"]
    if page.truncated:
        out["NextKeyMarker"], out["NextVersionIdMarker"] = page.next_key, page.next_version
    return out


def _version(call: Call, v: objects.S3Object) -> Result:
    return {"Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
            "LastModified": moment(v.last_modified), "ETag": v.etag, "Size": v.size,
            "StorageClass": "STANDARD", "Owner": owner_view(call)}  # fmt: skip


def _marker(call: Call, v: objects.S3Object) -> Result:
    return {"Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
            "LastModified": moment(v.last_modified), "Owner": owner_view(call)}  # fmt: skip
