"""A session's token is checked on every call and ends on time (pure: the check itself)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketcloud.api.authenticate import check_token
from pocketcloud.api.sigv4 import HttpRequest
from pocketcloud.errors import ClientError
from pocketcloud.services.iam.principals import Principal

AT = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
SESSION = Principal(
    "web", "AROAEXAMPLE:s1", "arn:aws:sts::123456789012:assumed-role/web/s1", "ASIAKEY",
    "secret", True, "role", "the-token", AT.timestamp() + 900,
    "arn:aws:iam::123456789012:role/web",
)  # fmt: skip
USER = Principal("alice", "AIDAX", "arn:aws:iam::123456789012:user/alice", "AKIA", "s", True)


def _request(token: str | None = None, query: str = "") -> HttpRequest:
    headers = {} if token is None else {"x-amz-security-token": token}
    return HttpRequest("POST", "/", query, headers, b"")


def _code(principal: Principal, request: HttpRequest, at: datetime, service: str) -> str:
    with pytest.raises(ClientError) as refused:
        check_token(principal, request, at, service)
    return refused.value.code


def test_a_session_with_its_token_passes_until_it_expires() -> None:
    """The right token in the header or a presigned URL's query passes before Expiration."""
    check_token(SESSION, _request("the-token"), AT, "sts")
    check_token(SESSION, _request(query="X-Amz-Security-Token=the-token&x=1"), AT, "s3")


@pytest.mark.parametrize(
    ("service", "code"),
    [("sts", "ExpiredToken"), ("iam", "ExpiredToken"), ("ec2", "ExpiredToken"),
     ("s3", "ExpiredToken")],
)  # fmt: skip
def test_an_expired_session_is_refused(service: str, code: str) -> None:
    """At Expiration and after, each service answers ExpiredToken."""
    later = datetime.fromtimestamp(SESSION.expires or 0, UTC)
    assert _code(SESSION, _request("the-token"), later, service) == code


@pytest.mark.parametrize(
    ("service", "code"),
    [("sts", "InvalidClientTokenId"), ("ec2", "AuthFailure"), ("s3", "InvalidToken")],
)
def test_a_missing_or_wrong_token_is_refused(service: str, code: str) -> None:
    """No token, or another one, is refused in the service's words."""
    assert _code(SESSION, _request(), AT, service) == code
    assert _code(SESSION, _request("other"), AT, service) == code


def test_a_long_term_key_with_a_token_is_refused() -> None:
    """A token sent with a user's long-term key is refused; without one the key passes."""
    check_token(USER, _request(), AT, "iam")
    assert _code(USER, _request("x"), AT, "iam") == "InvalidClientTokenId"
