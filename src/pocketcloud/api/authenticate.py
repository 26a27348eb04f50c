"""Who is calling: a request's SigV4 claim checked against the caller's secret key.

Each failure carries the code its service answers with: EC2 says ``AuthFailure``, IAM and
STS ``InvalidClientTokenId`` / ``SignatureDoesNotMatch``, S3 ``InvalidAccessKeyId`` /
``SignatureDoesNotMatch`` / ``RequestTimeTooSkewed``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from pocketcloud.api import sigv2, sigv4
from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.principals import Principal, by_access_key


def authenticate(
    cloud: Cloud,
    http: sigv4.HttpRequest,
    signature: sigv4.Signature | None,
    now: datetime,
    service: str,
) -> Principal:
    """The principal whose key signed the request (ClientError in the service's words)."""
    if signature is None:
        raise ClientError(
            "MissingAuthenticationToken", "Request is missing Authentication Token", status=403
        )
    principal = by_access_key(cloud, signature.credential.access_key_id)
    if principal is None or not principal.active:
        raise _unknown_key(service)
    try:
        sigv4.verify(http, signature, principal.secret, now)
    except sigv4.SigV4Error as error:
        raise signature_error(service, error, signature.presigned) from error
    check_token(principal, http, now, service)
    return principal


def check_token(principal: Principal, http: sigv4.HttpRequest, now: datetime, service: str) -> None:
    """A session's calls must name its token, before it expires; a long-term key's, none."""
    sent = http.headers.get("x-amz-security-token")
    if sent is None and "ecurity-" in http.query:
        pairs = parse_qs(http.query, keep_blank_values=True)
        found = pairs.get("X-Amz-Security-Token") or pairs.get("x-amz-security-token")
        sent = found[0] if found else None
    if principal.token is None:
        if sent:
            raise _bad_token(service)
        return
    if sent is None or not hmac.compare_digest(sent.encode(), principal.token.encode()):
        raise _bad_token(service)
    if principal.expires is not None and now.timestamp() >= principal.expires:
        raise _expired_token(service)


def _bad_token(service: str) -> ClientError:
    if service == "s3":
        return ClientError(
            "InvalidToken", "The provided token is malformed or otherwise invalid.", status=400
        )
    if service == "ec2":
        return _unknown_key(service)
    return ClientError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        status=403,
    )


def _expired_token(service: str) -> ClientError:
    if service == "s3":
        return ClientError("ExpiredToken", "The provided token has expired.", status=400)
    return ClientError(
        "ExpiredToken", "The security token included in the request is expired", status=403
    )


def _unknown_key(service: str) -> ClientError:
    if service == "ec2":
        return ClientError(
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
            status=401,
        )
    if service == "s3":
        return ClientError(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            status=403,
        )
    return ClientError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        status=403,
    )


def signature_error(service: str, error: sigv4.SigV4Error, presigned: bool) -> ClientError:
    """The service's answer to a SigV4 failure."""
    kind = error.kind
    if service == "s3":
        return _s3_signature_error(error, presigned)
    if kind is sigv4.SigV4ErrorKind.EXPIRED:
        return ClientError("RequestExpired", error.message, status=400)
    if kind is sigv4.SigV4ErrorKind.MISMATCH:
        if service == "ec2":
            return ClientError("AuthFailure", error.message, status=401)
        return ClientError("SignatureDoesNotMatch", error.message, status=403)
    if kind is sigv4.SigV4ErrorKind.INCOMPLETE:
        return ClientError("IncompleteSignature", error.message, status=400)
    return ClientError("InvalidSignatureException", error.message, status=400)


def _s3_signature_error(error: sigv4.SigV4Error, presigned: bool) -> ClientError:
    kind = error.kind
    if kind is sigv4.SigV4ErrorKind.EXPIRED:
        if presigned:
            return ClientError("AccessDenied", "Request has expired", status=403)
        return ClientError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            status=403,
        )
    if kind is sigv4.SigV4ErrorKind.MISMATCH:
        return ClientError("SignatureDoesNotMatch", error.message, status=403)
    if kind is sigv4.SigV4ErrorKind.INCOMPLETE:
        return ClientError("AuthorizationQueryParametersError", error.message, status=400)
    return ClientError("InvalidRequest", error.message, status=400)


def authenticate_v2(
    cloud: Cloud, http: sigv4.HttpRequest, claim: sigv2.PresignedV2, now: datetime
) -> Principal:
    """The principal whose key signed an S3 presigned URL of Signature Version 2."""
    principal = by_access_key(cloud, claim.access_key_id)
    if principal is None or not principal.active:
        raise _unknown_key("s3")
    try:
        sigv2.verify(claim, http.method, http.path, http.query, http.headers, principal.secret,
                     now.timestamp())  # fmt: skip
    except sigv2.SigV2Error as error:
        if error.kind == "mismatch":
            raise ClientError("SignatureDoesNotMatch", error.message, status=403) from error
        raise ClientError("AccessDenied", error.message, status=403) from error
    check_token(principal, http, now, "s3")
    return principal


#: S3's words for a POST policy signed with another key or not as sent
POST_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


def authenticate_form(
    cloud: Cloud,
    access_key_id: str,
    signature: str,
    expected: Callable[[str], str],
    token: str | None,
    now: datetime,
) -> Principal:
    """The principal whose key signed an S3 POST form's policy: ``expected`` computes the
    signature from a secret key; the form's ``x-amz-security-token`` is checked as a
    header's would be."""
    principal = by_access_key(cloud, access_key_id)
    if principal is None or not principal.active:
        raise _unknown_key("s3")
    if not hmac.compare_digest(expected(principal.secret).encode(), signature.encode()):
        raise ClientError("SignatureDoesNotMatch", POST_MISMATCH, status=403)
    headers = {} if token is None else {"x-amz-security-token": token}
    check_token(principal, sigv4.HttpRequest("POST", "/", "", headers, b""), now, "s3")
    return principal
