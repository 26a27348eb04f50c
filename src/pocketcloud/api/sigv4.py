"""AWS Signature Version 4 verification: pure functions, no I/O, the clock passed in.

``parse`` reads what a request claims (the ``Authorization`` header, or the
``X-Amz-*`` parameters of a presigned URL or form body); ``verify`` recomputes the
signature and compares it. The canonical request is built exactly as botocore
builds it (``botocore.auth.SigV4Auth`` / ``SigV4QueryAuth``), the reference client:

* canonical URI: the raw path, dot segments and empty segments removed, then
  percent-encoded once more (``safe="/~"``), so ``%20`` is signed as ``%2520``;
* canonical query: every ``key=value`` pair decoded (``+`` is a space) and
  re-encoded with ``safe="-_.~"``, sorted by (key, value); if that does not verify,
  the raw pairs sorted as received (botocore's path for URLs it did not build);
* canonical headers: the signed headers in the order given, values whitespace-folded;
* payload: ``x-amz-content-sha256`` when present and signed (and consistent with
  the body, when the caller passes one: S3 streams bodies and checks the digest itself),
  else SHA-256 of the body; a presigned S3 URL signs ``UNSIGNED-PAYLOAD``;
* S3 (the scope's service) signs the path as sent: no normalization, no second encoding.

botocore's ``SigV4QueryAuth`` does not use ``UNSIGNED-PAYLOAD`` for query-protocol
services: it hashes the (empty) body, so presigned requests are hashed the same way. When
the presigned parameters came in a form body, that body is the query string and the
payload is the empty string.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import parse_qsl, quote, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 7 * 24 * 3600
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
S3 = "s3"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"

_TIMESTAMP_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_DATE_RE = re.compile(r"[0-9]{8}")
_EXPIRES_RE = re.compile(r"[0-9]{1,7}")
_SIGV2_MARKERS = ("AWSAccessKeyId", "SignatureVersion", "SignatureMethod")
_PRESIGN_MARKERS = ("X-Amz-Algorithm", "X-Amz-Signature")
_PRESIGN_REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
)
_HEADER_REQUIRED = ("Credential", "SignedHeaders", "Signature")
_ENCODING_ERRORS = "surrogatepass"

MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
UNSUPPORTED_MESSAGE = (
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
)


@dataclass(frozen=True)
class HttpRequest:
    """A request as the ASGI server saw it.

    ``path`` and ``query`` are raw (still percent-encoded, ``query`` without ``?``);
    header names are lower-case, repeated headers joined with ``","``.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


def fold_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Raw header pairs as ``HttpRequest.headers``: names lower-case, repeats joined."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


@dataclass(frozen=True)
class Credential:
    """The credential scope: ``<access key>/<date>/<region>/<service>/aws4_request``."""

    access_key_id: str
    date: str
    region: str
    service: str


@dataclass(frozen=True)
class Signature:
    """What a request claims about its signature; ``verify`` checks the claim."""

    credential: Credential
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: datetime
    presigned: bool
    expires: int | None
    security_token: str | None


class SigV4ErrorKind(StrEnum):
    """Why a request's authentication failed."""

    MISSING = "missing"  # for callers: ``parse`` returns None rather than raise it
    INCOMPLETE = "incomplete"
    MISMATCH = "mismatch"
    EXPIRED = "expired"
    UNSUPPORTED = "unsupported"


class SigV4Error(Exception):
    """An authentication failure with its kind and an AWS-like message."""

    def __init__(self, kind: SigV4ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __repr__(self) -> str:
        return f"SigV4Error({self.kind.value!r}, {self.message!r})"


def _incomplete(message: str) -> SigV4Error:
    return SigV4Error(SigV4ErrorKind.INCOMPLETE, message)


# --------------------------------------------------------------------------- parse


def parse(request: HttpRequest, form: Mapping[str, str] | None = None) -> Signature | None:
    """Read the SigV4 claim of ``request``, or None when it carries no signature at all.

    The claim is the ``Authorization`` header, or presigned ``X-Amz-*`` parameters in
    the query string, or (as some clients send them) in the decoded form ``form``.
    Raises ``SigV4Error``: INCOMPLETE for a partial or malformed claim, UNSUPPORTED
    for another algorithm or Signature Version 2.
    """
    query = dict(parse_qsl(request.query, keep_blank_values=True)) if request.query else {}
    header = request.headers.get("authorization")
    in_query = _has_presign(query)
    in_form = form is not None and _has_presign(form)
    if header is not None:
        if in_query or in_form:
            raise _incomplete(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be "
                "specified"
            )
        return _parse_header(request, header)
    if in_query:
        return _parse_presigned(query)
    if form is not None and in_form:
        return _parse_presigned(form)
    if _has_sigv2(query) or (form is not None and _has_sigv2(form)):
        raise SigV4Error(SigV4ErrorKind.UNSUPPORTED, UNSUPPORTED_MESSAGE)
    return None


def _has_presign(params: Mapping[str, str]) -> bool:
    return any(name in params for name in _PRESIGN_MARKERS)


def _has_sigv2(params: Mapping[str, str]) -> bool:
    return any(name in params for name in _SIGV2_MARKERS)


def _check_algorithm(algorithm: str) -> None:
    if algorithm != ALGORITHM:
        raise SigV4Error(SigV4ErrorKind.UNSUPPORTED, UNSUPPORTED_MESSAGE)


def _parse_header(request: HttpRequest, header: str) -> Signature:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm:
        _check_algorithm(algorithm)
    params = _header_params(rest, header)
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in _HEADER_REQUIRED
        if not params.get(name)
    ]
    timestamp = _header_timestamp(request.headers)
    if timestamp is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        raise _incomplete(" ".join(problems) + f" Authorization={header}")
    assert timestamp is not None
    return Signature(
        credential=_parse_credential(params["Credential"]),
        signed_headers=_parse_signed_headers(params["SignedHeaders"]),
        signature=params["Signature"],
        timestamp=timestamp,
        presigned=False,
        expires=None,
        security_token=request.headers.get("x-amz-security-token"),
    )


def _header_params(rest: str, header: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for raw in rest.split(","):
        part = raw.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise _incomplete(
                f"'{part}' not a valid key=value pair (missing equal-sign) "
                f"in Authorization header: '{header}'."
            )
        params[name.strip()] = value.strip()
    return params


def _header_timestamp(headers: Mapping[str, str]) -> datetime | None:
    amz_date = headers.get("x-amz-date")
    if amz_date is not None:
        return _parse_timestamp(amz_date.strip(), "X-Amz-Date")
    date = headers.get("date")
    if date is None:
        return None
    try:
        parsed = parsedate_to_datetime(date)
        return _as_utc(parsed)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise _incomplete(f"Date header is not a valid HTTP date: '{date}'.") from None


def _parse_timestamp(value: str, name: str) -> datetime:
    message = f"{name} must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got '{value}'."
    if not _TIMESTAMP_RE.fullmatch(value):
        raise _incomplete(message)
    try:  # the regex guarantees the digits; datetime() checks the ranges (faster than strptime)
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        raise _incomplete(message) from None


def _parse_credential(value: str) -> Credential:
    parts = value.split("/")
    if len(parts) != 5 or not all(parts):
        raise _incomplete(
            "Error parsing the Credential parameter; the Credential is mal-formed; "
            f"expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\", got '{value}'."
        )
    access_key_id, date, region, service, terminator = parts
    if terminator != TERMINATOR:
        raise _incomplete(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'."
        )
    if not _DATE_RE.fullmatch(date):
        raise _incomplete(f"Credential should be scoped to a valid date (YYYYMMDD), not '{date}'.")
    return Credential(access_key_id, date, region, service)


def _parse_signed_headers(value: str) -> tuple[str, ...]:
    names = tuple(value.split(";"))
    if not all(names):
        raise _incomplete(f"SignedHeaders is mal-formed: '{value}'.")
    if "host" not in (name.lower() for name in names):
        raise _incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    return names


def _parse_presigned(params: Mapping[str, str]) -> Signature:
    algorithm = params.get("X-Amz-Algorithm")
    if algorithm:
        _check_algorithm(algorithm)
    missing = [name for name in _PRESIGN_REQUIRED if not params.get(name)]
    if missing:
        problems = [f"AWS query-string parameters must include '{name}'." for name in missing]
        raise _incomplete(" ".join(problems) + " Re-examine the query-string parameters.")
    return Signature(
        credential=_parse_credential(params["X-Amz-Credential"]),
        signed_headers=_parse_signed_headers(params["X-Amz-SignedHeaders"]),
        signature=params["X-Amz-Signature"],
        timestamp=_parse_timestamp(params["X-Amz-Date"], "X-Amz-Date"),
        presigned=True,
        expires=_parse_expires(params["X-Amz-Expires"]),
        security_token=params.get("X-Amz-Security-Token"),
    )


def _parse_expires(value: str) -> int:
    if not _EXPIRES_RE.fullmatch(value):
        raise _incomplete(f"X-Amz-Expires should be a non-negative number, got '{value}'.")
    expires = int(value)
    if expires > MAX_EXPIRES:
        raise _incomplete(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES}."
        )
    return expires


# -------------------------------------------------------------------------- verify


def verify(request: HttpRequest, sig: Signature, secret_key: str, now: datetime) -> None:
    """Check ``sig`` against ``request`` signed with ``secret_key``, at time ``now``.

    Returns None when the signature holds; raises ``SigV4Error`` EXPIRED (clock skew
    beyond 15 minutes, or a presigned request past ``X-Amz-Expires``) or MISMATCH.
    A naive ``now`` is taken as UTC. Whether the scope's region and service are the
    ones this endpoint serves is the caller's check (``sig.credential``).
    """
    stamp = _format(sig.timestamp)
    _check_clock(sig, _as_utc(now), stamp)
    _check_scope_date(sig, stamp)
    in_form = sig.presigned and not _query_has_signature(request.query)
    scope = sig.credential
    if scope.service == S3 and sig.presigned:
        payload = UNSIGNED_PAYLOAD  # botocore's S3SigV4QueryAuth signs no payload
    else:
        payload = EMPTY_SHA256 if in_form else _payload_hash(request, sig.signed_headers)
    key = signing_key(secret_key, scope.date, scope.region, scope.service)
    provided = sig.signature.encode("utf-8", _ENCODING_ERRORS)
    for query in _canonical_queries(request, sig.presigned, in_form):
        canonical = canonical_request(
            request, sig.signed_headers, query, payload, normalize=scope.service != S3
        )
        message = string_to_sign(sig, canonical, stamp).encode("utf-8", _ENCODING_ERRORS)
        expected = hmac.new(key, message, hashlib.sha256).hexdigest().encode()
        if hmac.compare_digest(expected, provided):
            return
    raise SigV4Error(SigV4ErrorKind.MISMATCH, MISMATCH_MESSAGE)


@functools.lru_cache(maxsize=256)
def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """Derive the SigV4 signing key for one day, region and service (cached)."""
    key = ("AWS4" + secret_key).encode("utf-8", _ENCODING_ERRORS)
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8", _ENCODING_ERRORS), hashlib.sha256).digest()
    return key


def canonical_request(
    request: HttpRequest,
    signed_headers: Iterable[str],
    query: str,
    payload: str,
    normalize: bool = True,
) -> str:
    """The canonical request over ``signed_headers``, with a canonical query given.

    ``normalize=False`` is S3's way (``botocore.auth.S3SigV4Auth``): the path is signed as
    sent, neither normalized nor encoded again."""
    names = tuple(signed_headers)
    lines = [
        request.method.upper(),
        _canonical_uri(request.path) if normalize else request.path or "/",
        query,
        _canonical_headers(request.headers, names) + "\n",
        ";".join(names),
        payload,
    ]
    return "\n".join(lines)


def string_to_sign(sig: Signature, canonical: str, stamp: str | None = None) -> str:
    """The string to sign for ``sig``'s timestamp (``stamp``, its text, if known) and scope
    over a canonical request."""
    scope = sig.credential
    digest = hashlib.sha256(canonical.encode("utf-8", _ENCODING_ERRORS)).hexdigest()
    return "\n".join(
        [
            ALGORITHM,
            stamp or _format(sig.timestamp),
            f"{scope.date}/{scope.region}/{scope.service}/{TERMINATOR}",
            digest,
        ]
    )


def format_timestamp(moment: datetime) -> str:
    """``20130524T000000Z``: a request's timestamp as SigV4 signs it."""
    return _format(moment)


def _format(moment: datetime) -> str:
    """``TIMESTAMP_FORMAT`` in UTC (by hand: a third of strftime's cost, on every request)."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _check_clock(sig: Signature, now: datetime, stamp: str) -> None:
    if sig.timestamp - now > MAX_SKEW:
        raise SigV4Error(
            SigV4ErrorKind.EXPIRED,
            f"Signature not yet current: {stamp} is still later than "
            f"{_format(now + MAX_SKEW)} ({_format(now)} + 15 min.)",
        )
    if sig.presigned:
        expires = sig.expires or 0
        if (now - sig.timestamp).total_seconds() > expires:
            raise SigV4Error(
                SigV4ErrorKind.EXPIRED,
                f"Request has expired: X-Amz-Date {stamp} plus X-Amz-Expires {expires} "
                f"seconds is earlier than {_format(now)}.",
            )
    elif now - sig.timestamp > MAX_SKEW:
        raise SigV4Error(
            SigV4ErrorKind.EXPIRED,
            f"Signature expired: {stamp} is now earlier than "
            f"{_format(now - MAX_SKEW)} ({_format(now)} - 15 min.)",
        )


def _check_scope_date(sig: Signature, stamp: str) -> None:
    if sig.credential.date != stamp[:8]:
        raise SigV4Error(
            SigV4ErrorKind.MISMATCH,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{sig.credential.date}' != '{stamp[:8]}', from '{stamp}'.",
        )


def _payload_hash(request: HttpRequest, signed_headers: tuple[str, ...]) -> str:
    actual = hashlib.sha256(request.body).hexdigest()
    declared = request.headers.get("x-amz-content-sha256")
    if declared is None or "x-amz-content-sha256" not in signed_headers:
        return actual
    if request.body and declared.lower() != actual:
        raise SigV4Error(
            SigV4ErrorKind.MISMATCH,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return declared


def _canonical_uri(path: str) -> str:
    normalized = _remove_dot_segments(path) if path else "/"
    return quote(normalized, safe="/~", errors=_ENCODING_ERRORS)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 plus removal of empty segments, as ``botocore.utils`` does it."""
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment and segment != ".":
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return first + "/".join(output) + last


def _canonical_headers(headers: Mapping[str, str], names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        value = headers.get(name.lower(), "")
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join(lines)


def _query_has_signature(query: str) -> bool:
    return any(name == "X-Amz-Signature" for name, _ in parse_qsl(query, keep_blank_values=True))


def _canonical_queries(request: HttpRequest, presigned: bool, in_form: bool) -> list[str]:
    """The canonical query strings to try: re-encoded first, then raw (if different)."""
    pairs = _raw_pairs(request.query)
    if in_form:
        pairs += _raw_pairs(request.body.decode("utf-8", "replace"))
    if presigned:
        pairs = [(k, v) for k, v in pairs if _unquote(k) != b"X-Amz-Signature"]
    encoded = sorted((_requote(k), _requote(v)) for k, v in pairs if k or v)
    candidates = [_join(encoded), _join(sorted(pairs))]
    return list(dict.fromkeys(candidates))


def _raw_pairs(text: str) -> list[tuple[str, str]]:
    if not text:
        return []
    pairs = []
    for item in text.split("&"):
        name, _, value = item.partition("=")
        pairs.append((name, value))
    return pairs


def _unquote(text: str) -> bytes:
    return unquote_to_bytes(text.replace("+", " ").encode("utf-8", _ENCODING_ERRORS))


def _requote(text: str) -> str:
    return quote(_unquote(text), safe="-_.~")


def _join(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{name}={value}" for name, value in pairs)
