"""The flexible checksums S3 takes with a body (``x-amz-checksum-<algorithm>``, base64 of
the digest): computed while the body streams in, compared when it ends (BadDigest), kept
with the object, and given back when a reader asks (``x-amz-checksum-mode: ENABLED``).

CRC32, SHA-1 and SHA-256 are computed here; CRC32C and CRC64NVME need a library this
machine does not have (botocore only sends them with awscrt installed): a request naming
one is refused rather than stored unchecked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Mapping
from typing import Protocol

from pocketcloud.errors import ClientError

PREFIX = "x-amz-checksum-"
#: response members by algorithm (GetObject's and HeadObject's ChecksumCRC32, …)
MEMBERS = {"crc32": "ChecksumCRC32", "crc32c": "ChecksumCRC32C", "sha1": "ChecksumSHA1",
           "sha256": "ChecksumSHA256", "crc64nvme": "ChecksumCRC64NVME"}  # fmt: skip


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class Crc32:
    """zlib's CRC32 as a hasher (big-endian digest, as S3 encodes it)."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes, /) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def _hasher(algorithm: str) -> Hasher:
    if algorithm == "crc32":
        return Crc32()
    if algorithm in ("sha1", "sha256"):
        return hashlib.new(algorithm)
    if algorithm in MEMBERS:
        raise ClientError(
            "InvalidRequest",
            f"pocketcloud cannot compute {algorithm.upper()} checksums; use CRC32, SHA1 or SHA256",
        )
    raise ClientError("InvalidRequest", f"Invalid checksum algorithm: {algorithm[:32]}")


def wanted(headers: Mapping[str, str], trailing: bool = False) -> dict[str, Hasher]:
    """A hasher for each checksum the request declares a value for, in a header or, for an
    aws-chunked body (``trailing``), in a trailer its ``x-amz-trailer`` names."""
    names = [name for name in headers if name not in (PREFIX + "mode", PREFIX + "type")]
    if trailing:
        names += [name.strip().lower() for name in headers.get("x-amz-trailer", "").split(",")]
    return {
        name.removeprefix(PREFIX): _hasher(name.removeprefix(PREFIX))
        for name in names
        if name.startswith(PREFIX)
    }


def check(headers: Mapping[str, str], hashers: Mapping[str, Hasher]) -> dict[str, str]:
    """The declared checksums, each matching the body's (BadDigest otherwise), as headers
    to keep with the object."""
    kept = {}
    for algorithm, hasher in hashers.items():
        declared = headers.get(PREFIX + algorithm, "").strip()
        if base64.b64encode(hasher.digest()).decode() != declared:
            raise ClientError(
                "BadDigest",
                f"The {algorithm.upper()} you specified did not match the calculated checksum.",
            )
        kept[PREFIX + algorithm] = declared
    return kept


def members(stored: Mapping[str, str]) -> dict[str, str]:
    """The response members for the checksums kept with an object."""
    return {
        MEMBERS[name.removeprefix(PREFIX)]: value
        for name, value in stored.items()
        if name.startswith(PREFIX) and name.removeprefix(PREFIX) in MEMBERS
    }


def check_md5(declared: str | None, md5: bytes) -> None:
    """A ``Content-MD5`` (base64) against the body's MD5: InvalidDigest when it is not one,
    BadDigest when it differs; nothing when none was declared."""
    if declared is None:
        return
    try:
        wanted = base64.b64decode(declared, validate=True)
    except (binascii.Error, ValueError):
        wanted = b""
    if len(wanted) != 16:
        raise ClientError("InvalidDigest", "The Content-MD5 you specified was invalid.")
    if wanted != md5:
        raise ClientError(
            "BadDigest", "The Content-MD5 you specified did not match what we received."
        )
