"""Conditional requests as S3 judges them (RFC 9110 §13, S3's precedence): reads answer
304 or 412; writes (If-None-Match: *, If-Match) 412. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pocketcloud.errors import ClientError


@dataclass(frozen=True)
class Conditions:
    """The If-* headers of one request."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None


def failed() -> ClientError:
    return ClientError(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
        status=412,
    )  # fmt: skip


def not_modified() -> ClientError:
    return ClientError("NotModified", "Not Modified", status=304)


def _matches(header: str, etag: str) -> bool:
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return "*" in wanted or etag.strip('"') in wanted


def check_read(wanted: Conditions, etag: str, modified: datetime) -> None:
    """GET/HEAD: If-Match false → 412 (If-Unmodified-Since then ignored); If-None-Match
    true → 304 (If-Modified-Since then ignored)."""
    seconds = modified.replace(microsecond=0)
    if wanted.if_match is not None:
        if not _matches(wanted.if_match, etag):
            raise failed()
    elif wanted.if_unmodified_since is not None and seconds > wanted.if_unmodified_since:
        raise failed()
    if wanted.if_none_match is not None:
        if _matches(wanted.if_none_match, etag):
            raise not_modified()
    elif wanted.if_modified_since is not None and seconds <= wanted.if_modified_since:
        raise not_modified()


def check_write(wanted: Conditions, current_etag: str | None) -> None:
    """PUT: If-None-Match ``*`` fails when the key exists; If-Match fails unless the
    current object has that ETag (S3 answers NoSuchKey when there is none)."""
    none_match = wanted.if_none_match
    if none_match is not None and current_etag is not None and _matches(none_match, current_etag):
        raise failed()
    if wanted.if_match is not None:
        if current_etag is None:
            raise ClientError("NoSuchKey", "The specified key does not exist.", status=404)
        if not _matches(wanted.if_match, current_etag):
            raise failed()
