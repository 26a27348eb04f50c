"""The fields of a browser upload's form (S3's PostObject), pure: which are there, who
signed the policy (SigV4's ``x-amz-*`` fields or SigV2's ``AWSAccessKeyId``), what the
stored object gets from them, and the answer to a stored upload.

Field names are read in any case; two fields of one name are one value, joined with
commas; ``${filename}`` in any field is the file's name (its last path segment) when the
file part names one. A form without signature fields is anonymous.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit
from xml.sax.saxutils import escape

from pocketcloud.api import sigv4
from pocketcloud.errors import ClientError, DetailedError

#: S3 reads at most this much of the form before the file (names, values, part headers)
MAX_FIELDS = 20480
FILENAME = "${filename}"
META = "x-amz-meta-"
#: the form fields that become the object's stored headers
HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language",
           "expires")  # fmt: skip
#: SigV4's fields, in the order S3 names a missing one (all or none must be sent)
V4_FIELDS = (("x-amz-algorithm", "X-Amz-Algorithm"), ("x-amz-credential", "X-Amz-Credential"),
             ("x-amz-date", "X-Amz-Date"), ("x-amz-signature", "X-Amz-Signature"),
             ("policy", "Policy"))  # fmt: skip
V2_FIELDS = (("awsaccesskeyid", "AWSAccessKeyId"), ("signature", "Signature"),
             ("policy", "Policy"))  # fmt: skip
_STAMP = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_DATE = re.compile(r"[0-9]{8}")
_ORDER = "If it is specified, please check the order of the fields."
_SUCCESS = frozenset({"200", "201", "204"})
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


@dataclass(frozen=True)
class Form:
    """The fields before the file: ``values`` by lower-case name, ``names`` as sent."""

    values: dict[str, str]
    names: tuple[str, ...]
    filename: str | None = None

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]], filename: str | None) -> Form:
        """The form of ``pairs`` (name, value) with ``${filename}`` expanded when the file
        part named a file (its last path segment; ``""`` for an empty name)."""
        values: dict[str, str] = {}
        names = []
        base = None if filename is None else re.split(r"[/\\]", filename)[-1]
        for name, raw in pairs:
            value = raw if base is None or name.lower() == "policy" else raw.replace(FILENAME, base)
            lower = name.lower()
            values[lower] = f"{values[lower]},{value}" if lower in values else value
            names.append(name)
        return cls(values, tuple(names), base)

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def argument(message: str, name: str, value: str = "") -> ClientError:
    """S3's InvalidArgument naming the field at fault."""
    return DetailedError(
        "InvalidArgument", message, [("ArgumentName", name), ("ArgumentValue", value)]
    )


def missing(name: str) -> ClientError:
    return argument(f"Bucket POST must contain a field named '{name}'.  {_ORDER}", name)


def no_file() -> ClientError:
    return argument("POST requires exactly one file upload per request.", "file", "0")


def malformed() -> ClientError:
    return ClientError(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )


def not_multipart() -> ClientError:
    return DetailedError(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
        [("Condition", "Bucket POST must be of the enclosure-type multipart/form-data")],
        status=412,
    )  # fmt: skip


def fields_too_large() -> ClientError:
    return DetailedError(
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceeding the upload file was too large.",
        [("MaxPostPreDataLengthBytes", str(MAX_FIELDS))],
    )


# -- who signed it -------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What the form says about its signer: the key, the signature, the policy it signs,
    the session token; SigV4's scope (``credential``), or None for SigV2."""

    access_key_id: str
    signature: str
    policy: str
    token: str | None
    credential: sigv4.Credential | None = None

    def expected(self, secret: str) -> str:
        """The signature of the policy with ``secret``: SigV4's hex HMAC-SHA256 under the
        scope's signing key, or SigV2's base64 HMAC-SHA1."""
        text = self.policy.encode("utf-8")
        scope = self.credential
        if scope is None:
            digest = hmac.new(secret.encode("utf-8"), text, hashlib.sha1).digest()
            return base64.b64encode(digest).decode()
        key = sigv4.signing_key(secret, scope.date, scope.region, scope.service)
        return hmac.new(key, text, hashlib.sha256).hexdigest()


def claim_of(form: Form) -> Claim | None:
    """The form's signature claim; None for an anonymous form (no signature fields).
    InvalidArgument for one missing a field (``Bucket POST must contain …``), a malformed
    credential or date, or another algorithm."""
    v4 = any(form.get(name) is not None for name, _ in V4_FIELDS[:4])
    v2 = any(form.get(name) is not None for name, _ in V2_FIELDS[:2])
    if not v4 and not v2:
        return None
    for name, shown in V4_FIELDS if v4 else V2_FIELDS:
        if not form.get(name):
            raise missing(shown)
    policy, token = form.values["policy"], form.get("x-amz-security-token")
    if not v4:
        return Claim(form.values["awsaccesskeyid"], form.values["signature"], policy, token)
    algorithm = form.values["x-amz-algorithm"]
    if algorithm != sigv4.ALGORITHM:
        raise argument(f'X-Amz-Algorithm only supports "{sigv4.ALGORITHM}"', "X-Amz-Algorithm",
                       algorithm)  # fmt: skip
    stamp = form.values["x-amz-date"]
    if not _STAMP.fullmatch(stamp):
        raise argument("X-Amz-Date must be formated via ISO8601 Long format", "X-Amz-Date", stamp)
    scope = credential(form.values["x-amz-credential"])
    return Claim(scope.access_key_id, form.values["x-amz-signature"], policy, token, scope)


def credential(value: str) -> sigv4.Credential:
    """``<key>/<yyyymmdd>/<region>/s3/aws4_request`` (InvalidArgument otherwise)."""
    parts = value.split("/")
    prefix = "Error parsing the X-Amz-Credential parameter; "
    if len(parts) != 5 or not all(parts[1:]) or parts[4] != sigv4.TERMINATOR:
        raise argument(
            prefix + "the Credential is mal-formed; expecting "
            '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".', "X-Amz-Credential", value,
        )  # fmt: skip
    key, date, region, service, _ = parts
    if not key:
        raise argument("a non-empty Access Key (AKID) must be provided in the credential.",
                       "X-Amz-Credential", value)  # fmt: skip
    if not _DATE.fullmatch(date):
        raise argument(prefix + f'incorrect date format "{date}". This date in the credential '
                       'must be in the format "yyyyMMdd".', "X-Amz-Credential", value)  # fmt: skip
    if service != sigv4.S3:
        raise argument(prefix + f'incorrect service "{service}". This endpoint belongs to "s3".',
                       "X-Amz-Credential", value)  # fmt: skip
    return sigv4.Credential(key, date, region, service)


# -- what the object gets ------------------------------------------------------------------


def stored_headers(form: Form) -> dict[str, str]:
    """Cache-Control, Content-Disposition, … as the object keeps them (their UTF-8 bytes,
    as a header would carry them)."""
    return {name: _header(name, form.values[name]) for name in HEADERS if form.get(name)}


def content_type(form: Form) -> str | None:
    """The object's Content-Type: the form's field (the file part's own is not used)."""
    found = form.get("content-type")
    return _header("content-type", found) if found else None


def _header(name: str, value: str) -> str:
    """A field's value as a header's (its UTF-8 bytes); a header cannot carry a line
    break or another control character (InvalidArgument: our choice, S3 documents none)."""
    if _CONTROL.search(value):
        raise argument(f"The {name} field may not hold control characters.", name, "")
    return _octets(value)


def metadata(form: Form) -> dict[str, str]:
    """``x-amz-meta-*`` fields as user metadata: names lower-case (an HTTP token, as a
    header's name must be: InvalidArgument otherwise), values outside printable US-ASCII
    encoded as RFC 2047 words (as S3 returns them)."""
    found = {}
    for name, value in form.values.items():
        if name.startswith(META) and len(name) > len(META):
            if not _TOKEN.fullmatch(name):
                raise argument("Your metadata field name is not a valid header name.", name, "")
            found[name.removeprefix(META)] = mail_safe(value)
    return found


def mail_safe(value: str) -> str:
    """``value`` as S3 keeps a metadata value: itself if printable US-ASCII, else an RFC 2047
    encoded word (Q for printable text, B otherwise)."""
    if all(" " <= char <= "~" for char in value):
        return value
    raw = value.encode("utf-8")
    if not value.isprintable():
        return f"=?UTF-8?B?{base64.b64encode(raw).decode()}?="
    q = "".join("_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in raw)
    return f"=?UTF-8?Q?{q}?="


def _octets(value: str) -> str:
    return value.encode("utf-8").decode("latin-1")


# -- the answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The status, headers and body answering a stored upload."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


def location(scheme: str, host: str, bucket: str, key: str, virtual: bool) -> str:
    """The object's URL as S3 writes it in ``Location``: the key percent-encoded, ``/``
    included."""
    path = quote(key, safe="")
    return f"{scheme}://{host}/{path}" if virtual else f"{scheme}://{host}/{bucket}/{path}"


def answer(form: Form, bucket: str, key: str, etag: str, url: str) -> Answer:
    """A redirect (303) to ``success_action_redirect`` (or ``redirect``) with the bucket,
    key and ETag added to its query, when it is an http(s) URL; else the
    ``success_action_status``: 201 with a PostResponse document, 200, or 204 (the default,
    also for any other value)."""
    headers = [("ETag", etag), ("Location", url)]
    target = form.get("success_action_redirect") or form.get("redirect")
    if target and _absolute(target):
        query = urlencode([("bucket", bucket), ("key", key), ("etag", etag)])
        sep = "&" if "?" in target else "?"
        return Answer(303, [("ETag", etag), ("Location", _octets(target + sep + query))])
    status = form.get("success_action_status")
    if status not in _SUCCESS or status == "204":
        return Answer(204, headers)
    if status == "200":
        return Answer(200, headers)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<PostResponse><Location>{escape(url)}</Location><Bucket>{escape(bucket)}</Bucket>"
        f"<Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>"
    )
    return Answer(201, [*headers, ("Content-Type", "application/xml")], body.encode())


def _absolute(url: str) -> bool:
    if _CONTROL.search(url) or "\t" in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
