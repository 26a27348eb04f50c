"""S3's conditional requests, judged as RFC 9110 and S3's precedence say (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pocketcloud.api.s3.conditions import Conditions, check_read, check_write
from pocketcloud.errors import ClientError

ETAG = '"abc"'
WHEN = datetime(2026, 12, 7, 10, 0, 0, 500000, tzinfo=UTC)
BEFORE, AFTER = WHEN - timedelta(hours=1), WHEN + timedelta(hours=1)


def _status(call: object) -> int:
    try:
        call()  # type: ignore[operator]
    except ClientError as error:
        return error.status
    return 200


@pytest.mark.parametrize(
    ("wanted", "status"),
    [
        (Conditions(), 200),
        (Conditions(if_match='"abc"'), 200),
        (Conditions(if_match='"other", "abc"'), 200),
        (Conditions(if_match="*"), 200),
        (Conditions(if_match='"other"'), 412),
        (Conditions(if_none_match='"abc"'), 304),
        (Conditions(if_none_match='"other"'), 200),
        (Conditions(if_modified_since=AFTER), 304),
        (Conditions(if_modified_since=WHEN.replace(microsecond=0)), 304),  # whole seconds
        (Conditions(if_modified_since=BEFORE), 200),
        (Conditions(if_unmodified_since=BEFORE), 412),
        (Conditions(if_unmodified_since=AFTER), 200),
        # S3's precedence: If-Match true wins over If-Unmodified-Since false ...
        (Conditions(if_match='"abc"', if_unmodified_since=BEFORE), 200),
        # ... and If-None-Match false over If-Modified-Since true
        (Conditions(if_none_match='"other"', if_modified_since=AFTER), 200),
    ],
)
def test_reads(wanted: Conditions, status: int) -> None:
    """GET and HEAD answer 200, 304 Not Modified or 412 PreconditionFailed."""
    assert _status(lambda: check_read(wanted, ETAG, WHEN)) == status


@pytest.mark.parametrize(
    ("wanted", "current", "status"),
    [
        (Conditions(if_none_match="*"), None, 200),
        (Conditions(if_none_match="*"), ETAG, 412),
        (Conditions(if_match=ETAG), ETAG, 200),
        (Conditions(if_match='"other"'), ETAG, 412),
        (Conditions(if_match=ETAG), None, 404),
    ],
)
def test_writes(wanted: Conditions, current: str | None, status: int) -> None:
    """A conditional PUT: create-only (If-None-Match: *) and compare-and-swap (If-Match)."""
    assert _status(lambda: check_write(wanted, current)) == status
