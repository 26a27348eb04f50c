"""S3's presigned URLs in Signature Version 2 (``?AWSAccessKeyId=…&Expires=…&Signature=…``):
what boto3's ``generate_presigned_url`` makes for S3 unless told ``s3v4``. Pure; the
clock is passed in.

The string signed is botocore's (``botocore.auth.HmacV1QueryAuth``)::

    METHOD \\n Content-MD5 \\n Content-Type \\n Expires \\n [x-amz-… headers \\n] resource

where the resource is the path as sent (a bucket alone as ``/bucket/``) plus the
sub-resources S3 signs (``?uploadId=…``,
``response-content-type=…``), sorted; the signature is base64(HMAC-SHA1(secret, string)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

#: the query keys S3 signs as part of the resource (botocore's HmacV1Auth.QSAOfInterest)
SUBRESOURCES = frozenset({
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
    "policy", "requestPayment", "torrent", "versioning", "versionId", "versions", "website",
    "uploads", "uploadId", "response-content-type", "response-content-language",
    "response-expires", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "delete", "lifecycle", "tagging", "restore", "storageClass",
    "notification", "replication", "analytics", "metrics", "inventory", "select",
    "select-type", "object-lock",
})  # fmt: skip
_MARKERS = ("AWSAccessKeyId", "Signature", "Expires")


@dataclass(frozen=True)
class PresignedV2:
    """What a SigV2 presigned URL claims."""

    access_key_id: str
    signature: str
    expires: int


class SigV2Error(Exception):
    """The URL is malformed, expired or its signature does not match (``kind``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def parse(query: str) -> PresignedV2 | None:
    """The claim of a query string, or None when it carries no SigV2 parameters."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    if not any(name in params for name in _MARKERS):
        return None
    missing = [name for name in _MARKERS if not params.get(name)]
    if missing:
        raise SigV2Error("incomplete", "Query-string authentication requires the Signature, "
                         "Expires and AWSAccessKeyId parameters")  # fmt: skip
    try:
        expires = int(params["Expires"])
    except ValueError:
        raise SigV2Error("incomplete", "Invalid date (should be seconds since epoch)") from None
    return PresignedV2(params["AWSAccessKeyId"], params["Signature"], expires)


def string_to_sign(
    method: str, path: str, query: str, headers: Mapping[str, str], expires: int
) -> str:
    """The string a SigV2 presigned URL's signature covers. The signer moved its x-amz-…
    headers (a session's ``x-amz-security-token``), Content-Type and Content-MD5 into the
    query: they are signed as the headers they were."""
    headers = {**_signed_query_headers(query), **headers}
    lines = [method.upper(), headers.get("content-md5", ""), headers.get("content-type", ""),
             str(expires)]  # fmt: skip
    amz = sorted(
        (name, ",".join(part.strip() for part in value.split(",")))
        for name, value in headers.items()
        if name.startswith("x-amz-")
    )
    lines += [f"{name}:{value}" for name, value in amz]
    return "\n".join([*lines, _resource(path, query)])


def _signed_query_headers(query: str) -> dict[str, str]:
    """The query's parameters that botocore's query signer signed as headers."""
    if "x-amz-" not in query and "content-" not in query:
        return {}
    return {
        name.lower(): value
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name.lower().startswith("x-amz-") or name.lower() in ("content-md5", "content-type")
    }


def _resource(path: str, query: str) -> str:
    if path.count("/") == 1 and len(path) > 1:
        path += "/"  # a bucket alone is signed as "/bucket/" (S3's and botocore's rule)
    pairs = []
    for item in query.split("&") if query else []:
        name, sep, value = item.partition("=")
        if name in SUBRESOURCES:
            pairs.append((name, unquote(value)) if sep else (name,))
    if not pairs:
        return path
    pairs.sort(key=lambda pair: pair[0])
    return path + "?" + "&".join("=".join(pair) for pair in pairs)


def verify(
    claim: PresignedV2,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    secret: str,
    now: float,
) -> None:
    """Raise SigV2Error ``expired`` past ``Expires`` (epoch seconds), ``mismatch`` when the
    signature is not the one ``secret`` makes."""
    if now > claim.expires:
        raise SigV2Error("expired", "Request has expired")
    signed = string_to_sign(method, path, query, headers, claim.expires).encode("utf-8")
    expected = base64.b64encode(hmac.digest(secret.encode(), signed, hashlib.sha1)).decode()
    if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
        raise SigV2Error(
            "mismatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
