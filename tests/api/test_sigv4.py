"""SigV4 verification against requests signed by botocore itself.

Every positive case is signed by ``botocore.auth.SigV4Auth`` / ``SigV4QueryAuth`` (or
by a real boto3 client), then converted to what an ASGI server would see: method, raw
path, raw query string, lower-cased headers (plus the ``Host`` the HTTP client adds),
body bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketcloud.api.sigv4 import (
    EMPTY_SHA256,
    Credential,
    HttpRequest,
    Signature,
    SigV4Error,
    SigV4ErrorKind,
    canonical_request,
    parse,
    signing_key,
    string_to_sign,
    verify,
)

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDH+token/with+reserved=chars"
FROZEN = datetime(2026, 11, 25, 10, 30, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded; charset=utf-8"
TRICKY = "a b+c&d=e/f?g%h~i*j'k(l)m!n:o;p,q@r$s#t[u]v é中文🙂"
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()))  # lone surrogates too


# ------------------------------------------------------------------------- helpers


@contextmanager
def frozen(moment: datetime = FROZEN) -> Iterator[None]:
    """Freeze the clock botocore.auth reads (``get_current_datetime`` in this version)."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=naive):
        yield


def http_date(moment: datetime, offset_minutes: int) -> str:
    """An RFC 5322 date with an arbitrary (possibly absurd) zone offset."""
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes) % 6000, 60)
    return f"{moment:%a, %d %b %Y %H:%M:%S} {sign}{hours:02d}{minutes:02d}"


def to_http(prepared: AWSPreparedRequest) -> HttpRequest:
    """What an ASGI server sees of a prepared botocore request sent by urllib3."""
    parts = urlsplit(prepared.url)
    headers = {
        name.lower(): value.decode("latin-1") if isinstance(value, bytes) else value
        for name, value in prepared.headers.items()
    }
    headers.setdefault("host", parts.netloc)
    headers.setdefault("user-agent", "Boto3/1.0 test")
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return HttpRequest(prepared.method, parts.path or "/", parts.query, headers, body)


def credentials(token: str | None = None) -> Credentials:
    """botocore's own credentials object."""
    return Credentials(ACCESS_KEY, SECRET, token)


def header_signed(
    request: AWSRequest,
    service: str,
    *,
    token: str | None = None,
    region: str = "us-east-1",
    at: datetime = FROZEN,
) -> HttpRequest:
    """Sign ``request`` with SigV4Auth (Authorization header) at ``at``."""
    with frozen(at):
        botocore.auth.SigV4Auth(credentials(token), service, region).add_auth(request)
    return to_http(request.prepare())


def presigned(
    request: AWSRequest,
    service: str,
    *,
    token: str | None = None,
    expires: int = 3600,
    at: datetime = FROZEN,
) -> HttpRequest:
    """Sign ``request`` with SigV4QueryAuth (presigned query string) at ``at``."""
    with frozen(at):
        signer = botocore.auth.SigV4QueryAuth(credentials(token), service, "us-east-1", expires)
        signer.add_auth(request)
    return to_http(request.prepare())


def form_post(url: str, data: dict[str, str]) -> AWSRequest:
    """A POST as boto3's query serializer builds it: a form body."""
    return AWSRequest(method="POST", url=url, data=data, headers={"Content-Type": FORM})


class Captured(Exception):
    """Raised from botocore's before-send hook to hand the wire request to the test."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def capture(service: str, call: Callable[[Any], object], token: str | None = None) -> HttpRequest:
    """Run ``call`` on a real boto3 client and capture the request it would send."""
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        region_name="us-east-1",
    )
    client = session.client(
        service, endpoint_url="http://localhost:4566", config=Config(retries={"max_attempts": 0})
    )

    def stop(request: AWSPreparedRequest, **_: object) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", stop)
    with frozen(), pytest.raises(Captured) as caught:
        call(client)
    return to_http(caught.value.request)


def replace(request: HttpRequest, **changes: Any) -> HttpRequest:
    """A copy of ``request`` with some fields changed."""
    return dataclasses.replace(request, **changes)


def with_header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    """A copy of ``request`` with one header set."""
    return replace(request, headers={**request.headers, name: value})


def check(request: HttpRequest, *, secret: str = SECRET, now: datetime = FROZEN) -> Signature:
    """Parse and verify; return the parsed signature."""
    sig = parse(request)
    assert sig is not None
    verify(request, sig, secret, now)
    return sig


def failure(request: HttpRequest, *, secret: str = SECRET, now: datetime = FROZEN) -> SigV4Error:
    """Parse and verify, expecting a SigV4Error; return it."""
    with pytest.raises(SigV4Error) as caught:
        check(request, secret=secret, now=now)
    return caught.value


def parse_error(request: HttpRequest, form: dict[str, str] | None = None) -> SigV4Error:
    """Parse, expecting a SigV4Error; return it."""
    with pytest.raises(SigV4Error) as caught:
        parse(request, form)
    return caught.value


def bare(query: str = "", headers: dict[str, str] | None = None, body: bytes = b"") -> HttpRequest:
    """A hand-made request to example.com."""
    return HttpRequest("GET", "/", query, {"host": "example.com", **(headers or {})}, body)


EC2_URL = "https://ec2.us-east-1.amazonaws.com/"
IAM_URL = "https://iam.amazonaws.com/"
STS_URL = "https://sts.amazonaws.com/"


def ec2_form_request() -> HttpRequest:
    """An EC2 DescribeInstances POST with reserved and unicode characters, header-signed."""
    data = {
        "Action": "DescribeInstances",
        "Version": "2016-11-15",
        "Filter.1.Name": "tag:Name",
        "Filter.1.Value.1": TRICKY,
    }
    return header_signed(form_post(EC2_URL, data), "ec2")


def sts_presigned(expires: int = 3600) -> HttpRequest:
    """An STS GetCallerIdentity GET, presigned with a session token."""
    request = AWSRequest(
        method="GET",
        url=STS_URL,
        params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
    )
    return presigned(request, "sts", token=TOKEN, expires=expires)


# --------------------------------------------------------------------------- parse


class TestParse:
    """``parse`` reads the claim without checking it."""

    def test_unsigned_request_is_none(self) -> None:
        """A request with no Authorization header and no X-Amz-* parameters is not an error."""
        request = bare("Action=DescribeRegions&Version=2016-11-15")
        assert parse(request) is None
        assert parse(request, {"Action": "DescribeRegions"}) is None

    def test_header_fields(self) -> None:
        """Header auth yields the scope, signed headers, aware UTC timestamp and token."""
        request = header_signed(
            form_post(STS_URL, {"Action": "GetCallerIdentity"}), "sts", token=TOKEN
        )
        sig = parse(request)
        assert sig is not None
        assert sig == Signature(
            credential=Credential(ACCESS_KEY, "20261125", "us-east-1", "sts"),
            signed_headers=("content-type", "host", "x-amz-date", "x-amz-security-token"),
            signature=request.headers["authorization"].rpartition("Signature=")[2],
            timestamp=FROZEN,
            presigned=False,
            expires=None,
            security_token=TOKEN,
        )
        assert sig.timestamp.utcoffset() == timedelta(0)
        assert len(sig.signature) == 64

    def test_presigned_fields(self) -> None:
        """Presigned query auth yields presigned=True, X-Amz-Expires and the token."""
        sig = parse(sts_presigned(expires=900))
        assert sig is not None
        assert sig.presigned
        assert sig.expires == 900
        assert sig.security_token == TOKEN
        assert sig.signed_headers == ("host",)
        assert sig.credential.service == "sts"

    def test_presigned_in_form(self) -> None:
        """X-Amz-* parameters in a decoded form body are read as a presigned claim."""
        request = sts_presigned()
        form = dict(parse_qsl(request.query, keep_blank_values=True))
        moved = replace(request, method="POST", query="", body=request.query.encode())
        sig = parse(moved, form)
        assert sig is not None
        assert sig.presigned

    def test_truncated_authorization_header(self) -> None:
        """An Authorization header cut before its Signature is INCOMPLETE, naming it."""
        request = ec2_form_request()
        header = request.headers["authorization"]
        truncated = with_header(request, "authorization", header[: header.index(", Signature=")])
        error = parse_error(truncated)
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        assert "Authorization header requires 'Signature' parameter." in error.message
        assert "SignedHeaders" not in error.message.split(" Authorization=")[0]

    def test_bare_algorithm_lists_every_missing_part(self) -> None:
        """An Authorization header holding only the algorithm names all three parameters."""
        error = parse_error(bare(headers={"authorization": "AWS4-HMAC-SHA256"}))
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        for name in ("Credential", "SignedHeaders", "Signature"):
            assert f"Authorization header requires '{name}' parameter." in error.message
        assert "'X-Amz-Date' or a 'Date' header" in error.message

    def test_empty_authorization_header(self) -> None:
        """An empty Authorization header is INCOMPLETE, not unsigned."""
        error = parse_error(bare(headers={"authorization": ""}))
        assert error.kind is SigV4ErrorKind.INCOMPLETE

    def test_missing_date(self) -> None:
        """Header auth without X-Amz-Date or Date is INCOMPLETE."""
        request = ec2_form_request()
        headers = {k: v for k, v in request.headers.items() if k != "x-amz-date"}
        error = parse_error(replace(request, headers=headers))
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        assert "'X-Amz-Date' or a 'Date' header" in error.message

    @pytest.mark.parametrize(
        ("credential", "fragment"),
        [
            ("AKID/20261125/us-east-1/ec2", "mal-formed"),
            ("AKID/20261125/us-east-1/ec2/aws4_request/x", "mal-formed"),
            ("AKID//us-east-1/ec2/aws4_request", "mal-formed"),
            ("AKID/20261125/us-east-1/ec2/aws5_request", "valid terminator"),
            ("AKID/2026-11-25/us-east-1/ec2/aws4_request", "valid date"),
        ],
    )
    def test_malformed_credential(self, credential: str, fragment: str) -> None:
        """A scope other than AKID/YYYYMMDD/region/service/aws4_request is INCOMPLETE."""
        header = f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=ab"
        error = parse_error(
            bare(headers={"authorization": header, "x-amz-date": "20261125T103000Z"})
        )
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        assert fragment in error.message

    def test_component_without_equal_sign(self) -> None:
        """A component that is not key=value is INCOMPLETE."""
        header = "AWS4-HMAC-SHA256 Credential=A/20261125/r/s/aws4_request, SignedHeaders, Sig=a"
        error = parse_error(bare(headers={"authorization": header}))
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        assert "missing equal-sign" in error.message

    def test_host_must_be_signed(self) -> None:
        """SignedHeaders without host is INCOMPLETE."""
        header = (
            "AWS4-HMAC-SHA256 Credential=A/20261125/us-east-1/ec2/aws4_request, "
            "SignedHeaders=x-amz-date, Signature=abcd"
        )
        error = parse_error(
            bare(headers={"authorization": header, "x-amz-date": "20261125T103000Z"})
        )
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        assert "'Host'" in error.message

    def test_malformed_amz_date(self) -> None:
        """An X-Amz-Date not in ISO 8601 basic format is INCOMPLETE."""
        request = with_header(ec2_form_request(), "x-amz-date", "2026-11-25T10:30:00Z")
        assert parse_error(request).kind is SigV4ErrorKind.INCOMPLETE

    @pytest.mark.parametrize(
        "date", ["yesterday", "Fri, 31 Dec 9999 23:59:59 -0100", "Mon, 32 Jan 2026 00:00:00 GMT"]
    )
    def test_bad_date_header(self, date: str) -> None:
        """A Date header that is no HTTP date (or out of range in UTC) is INCOMPLETE."""
        request = ec2_form_request()
        headers = {k: v for k, v in request.headers.items() if k != "x-amz-date"}
        error = parse_error(replace(request, headers={**headers, "date": date}))
        assert error.kind is SigV4ErrorKind.INCOMPLETE

    def test_presigned_missing_parameters(self) -> None:
        """Presigned auth missing X-Amz-Credential and X-Amz-Date names both."""
        query = (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab"
            "&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
        )
        error = parse_error(bare(query))
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        assert "must include 'X-Amz-Credential'" in error.message
        assert "must include 'X-Amz-Date'" in error.message

    @pytest.mark.parametrize("expires", ["-1", "soon", "604801", ""])
    def test_presigned_bad_expires(self, expires: str) -> None:
        """X-Amz-Expires that is not a number of seconds up to a week is INCOMPLETE."""
        request = sts_presigned()
        pairs = [(k, expires if k == "X-Amz-Expires" else v) for k, v in parse_qsl(request.query)]
        assert (
            parse_error(replace(request, query=urlencode(pairs))).kind is SigV4ErrorKind.INCOMPLETE
        )

    def test_both_header_and_query_auth(self) -> None:
        """An Authorization header together with presigned parameters is INCOMPLETE."""
        request = sts_presigned()
        both = with_header(request, "authorization", ec2_form_request().headers["authorization"])
        error = parse_error(both)
        assert error.kind is SigV4ErrorKind.INCOMPLETE
        assert "Only one auth mechanism" in error.message

    def test_sigv2_query_is_unsupported(self) -> None:
        """A request signed by botocore's SigV2Auth is UNSUPPORTED."""
        request = form_post(EC2_URL, {"Action": "DescribeRegions", "Version": "2016-11-15"})
        with frozen():
            botocore.auth.SigV2Auth(credentials()).add_auth(request)
        http = to_http(request.prepare())
        form = dict(parse_qsl(http.body.decode()))
        assert "SignatureVersion" in form
        assert parse_error(http, form).kind is SigV4ErrorKind.UNSUPPORTED
        query = urlencode(form)
        assert parse_error(replace(http, method="GET", query=query, body=b"")).kind is (
            SigV4ErrorKind.UNSUPPORTED
        )

    @pytest.mark.parametrize(
        "header",
        [
            "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
            "AWS4-ECDSA-P256-SHA256 Credential=A/20261125/ec2/aws4_request, SignedHeaders=host, "
            "Signature=3045",
            "Bearer abc",
        ],
    )
    def test_other_algorithms_are_unsupported(self, header: str) -> None:
        """S3 SigV2 headers, SigV4a and other schemes are UNSUPPORTED."""
        assert (
            parse_error(bare(headers={"authorization": header})).kind is SigV4ErrorKind.UNSUPPORTED
        )

    def test_presigned_other_algorithm_is_unsupported(self) -> None:
        """A presigned X-Amz-Algorithm other than AWS4-HMAC-SHA256 is UNSUPPORTED."""
        request = sts_presigned()
        query = request.query.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")
        assert parse_error(replace(request, query=query)).kind is SigV4ErrorKind.UNSUPPORTED

    @settings(max_examples=200, deadline=None)
    @given(
        header=st.one_of(st.none(), ANY_TEXT, ANY_TEXT.map(lambda t: "AWS4-HMAC-SHA256 " + t)),
        query=ANY_TEXT,
        amz_date=st.one_of(
            st.none(), ANY_TEXT, st.datetimes().map(lambda d: f"{d:%Y%m%dT%H%M%SZ}")
        ),
        date=st.one_of(st.none(), ANY_TEXT, st.builds(http_date, st.datetimes(), st.integers())),
    )
    def test_never_raises_anything_else(
        self, header: str | None, query: str, amz_date: str | None, date: str | None
    ) -> None:
        """On arbitrary text parse returns None or a Signature, or raises SigV4Error."""
        headers = {"host": "example.com"}
        for name, value in (("authorization", header), ("x-amz-date", amz_date), ("date", date)):
            if value is not None:
                headers[name] = value
        request = HttpRequest("GET", "/", query, headers, b"")
        try:
            sig = parse(request, dict(parse_qsl(query)))
        except SigV4Error:
            return
        assert sig is None or isinstance(sig, Signature)


# -------------------------------------------------------------------------- verify


class TestVerify:
    """``verify`` accepts what botocore signs and rejects anything altered."""

    def test_ec2_form_post(self) -> None:
        """An EC2 POST form body with reserved and unicode characters verifies."""
        request = ec2_form_request()
        assert request.headers["content-type"] == FORM
        assert check(request).credential.service == "ec2"

    def test_ec2_boto3_client(self) -> None:
        """A real boto3 EC2 client's DescribeInstances request verifies."""
        request = capture(
            "ec2",
            lambda c: c.describe_instances(Filters=[{"Name": "tag:Name", "Values": [TRICKY]}]),
        )
        assert request.method == "POST"
        assert request.headers["content-type"] == FORM
        check(request)

    def test_iam_boto3_client(self) -> None:
        """A real boto3 IAM client's CreateUser (path, unicode tags) verifies."""
        request = capture(
            "iam",
            lambda c: c.create_user(
                UserName="alice+ops@example.com",
                Path="/division_abc/subdivision_xyz/",
                Tags=[{"Key": "Team é", "Value": TRICKY}],
            ),
        )
        assert check(request).credential.service == "iam"

    def test_sts_boto3_client_with_session_token(self) -> None:
        """A real boto3 STS client with a session token signs X-Amz-Security-Token; it verifies."""
        request = capture("sts", lambda c: c.get_caller_identity(), token=TOKEN)
        sig = check(request)
        assert sig.security_token == TOKEN
        assert "x-amz-security-token" in sig.signed_headers

    def test_sts_form_post_with_token(self) -> None:
        """An STS AssumeRole POST header-signed with a session token verifies."""
        data = {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::123456789012:role/demo",
            "RoleSessionName": "s=1&2 é",
        }
        check(header_signed(form_post(STS_URL, data), "sts", token=TOKEN))

    @pytest.mark.parametrize("service", ["ec2", "iam", "sts"])
    def test_get_with_params(self, service: str) -> None:
        """A GET whose params botocore encodes (spaces sent as '+') verifies."""
        params = {"Action": "ListThings", "Version": "2010-05-08", "Name": TRICKY, "Empty": ""}
        request = AWSRequest(method="GET", url=f"https://{service}.amazonaws.com/", params=params)
        http = header_signed(request, service)
        assert "+" in http.query
        check(http)

    def test_get_with_query_in_url(self) -> None:
        """A GET whose query string was already in the URL (botocore's raw path) verifies."""
        url = f"{IAM_URL}?Version=2010-05-08&Action=ListUsers&PathPrefix=%2Fa%2Fb%2F"
        check(header_signed(AWSRequest(method="GET", url=url), "iam"))

    def test_get_with_unusual_raw_query(self) -> None:
        """A raw query botocore signs verbatim (unencoded '/', repeated keys) verifies."""
        url = f"{IAM_URL}?b=2&a=z&a=y&path=/x/y&flag"
        check(header_signed(AWSRequest(method="GET", url=url), "iam"))

    def test_path_and_port(self) -> None:
        """A non-default port and a path with dot segments and escapes verifies."""
        url = "http://localhost:4566/a/./b/../c%20d/~e//f/"
        request = header_signed(form_post(url, {"Action": "DescribeRegions"}), "ec2")
        assert request.headers["host"] == "localhost:4566"
        check(request)

    def test_date_header_instead_of_amz_date(self) -> None:
        """Header auth using the Date header (no X-Amz-Date) verifies."""
        request = form_post(EC2_URL, {"Action": "DescribeRegions"})
        request.headers["Date"] = "placeholder"
        http = header_signed(request, "ec2")
        assert "x-amz-date" not in http.headers
        assert check(http).timestamp == FROZEN

    def test_signed_content_sha256_header(self) -> None:
        """A signed x-amz-content-sha256 matching the body is used as the payload hash."""
        body = b"Action=DescribeRegions&Version=2016-11-15"
        request = AWSRequest(method="POST", url=EC2_URL, data=body, headers={"Content-Type": FORM})
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        check(header_signed(request, "ec2"))

    def test_unsigned_header_may_change(self) -> None:
        """Headers outside SignedHeaders (user-agent) can change without breaking the signature."""
        check(with_header(ec2_form_request(), "user-agent", "something/else"))

    def test_presigned_get_with_token(self) -> None:
        """An STS GET presigned by SigV4QueryAuth with a session token verifies."""
        request = sts_presigned()
        assert "X-Amz-Security-Token" in request.query
        assert check(request).presigned

    def test_presigned_by_boto3_client(self) -> None:
        """A URL from a real boto3 STS client's generate_presigned_url verifies as a GET."""
        session = boto3.session.Session(ACCESS_KEY, SECRET, TOKEN, region_name="us-east-1")
        client = session.client("sts", endpoint_url="https://sts.amazonaws.com")
        with frozen():
            url = client.generate_presigned_url(
                "get_caller_identity", ExpiresIn=60, HttpMethod="GET"
            )
        parts = urlsplit(url)
        request = HttpRequest("GET", parts.path or "/", parts.query, {"host": parts.netloc}, b"")
        sig = check(request)
        assert sig.expires == 60

    def test_presigned_form_post_moved_to_query(self) -> None:
        """SigV4QueryAuth moves a form body into the query; that presigned URL verifies."""
        data = {"Action": "DescribeInstances", "Version": "2016-11-15", "Filter.1.Value.1": TRICKY}
        request = presigned(form_post(EC2_URL, data), "ec2")
        assert request.body == b""
        assert "Filter.1.Value.1" in request.query
        check(request)

    def test_presigned_parameters_in_form_body(self) -> None:
        """Presigned parameters of a POST, sent as its form body instead of a query, verify."""
        data = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
        request = presigned(form_post(STS_URL, data), "sts", token=TOKEN)
        assert request.method == "POST"
        moved = HttpRequest(
            "POST",
            "/",
            "",
            {"host": request.headers["host"], "content-type": FORM},
            request.query.encode(),
        )
        form = dict(parse_qsl(moved.body.decode(), keep_blank_values=True))
        sig = parse(moved, form)
        assert sig is not None
        verify(moved, sig, SECRET, FROZEN)

    @pytest.mark.parametrize("minutes", [-14, 14, 15, -15])
    def test_skew_within_15_minutes(self, minutes: int) -> None:
        """A header-signed request verifies with the server clock up to 15 minutes off."""
        check(ec2_form_request(), now=FROZEN + timedelta(minutes=minutes))

    def test_naive_now_is_utc(self) -> None:
        """A naive ``now`` is taken as UTC."""
        check(ec2_form_request(), now=FROZEN.replace(tzinfo=None))

    def test_wrong_secret(self) -> None:
        """A different secret key is MISMATCH with AWS's message."""
        error = failure(ec2_form_request(), secret=SECRET + "x")
        assert error.kind is SigV4ErrorKind.MISMATCH
        assert error.message.startswith("The request signature we calculated does not match")

    def test_body_tampered(self) -> None:
        """Changing one byte of the form body is MISMATCH."""
        request = ec2_form_request()
        tampered = replace(
            request, body=request.body.replace(b"DescribeInstances", b"DescribeInstancez")
        )
        assert tampered.body != request.body
        assert failure(tampered).kind is SigV4ErrorKind.MISMATCH

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "ec2.eu-west-1.amazonaws.com"),
        ],
    )
    def test_signed_header_changed(self, name: str, value: str) -> None:
        """Changing a header listed in SignedHeaders is MISMATCH."""
        request = ec2_form_request()
        assert name in request.headers["authorization"]
        assert failure(with_header(request, name, value)).kind is SigV4ErrorKind.MISMATCH

    def test_security_token_changed(self) -> None:
        """Changing a signed X-Amz-Security-Token header is MISMATCH."""
        request = capture("sts", lambda c: c.get_caller_identity(), token=TOKEN)
        changed = with_header(request, "x-amz-security-token", TOKEN + "x")
        assert failure(changed).kind is SigV4ErrorKind.MISMATCH

    def test_method_changed(self) -> None:
        """Changing the HTTP method is MISMATCH."""
        assert failure(replace(ec2_form_request(), method="PUT")).kind is SigV4ErrorKind.MISMATCH

    def test_query_value_changed(self) -> None:
        """Changing a query parameter of a signed GET is MISMATCH."""
        request = AWSRequest(
            method="GET", url=IAM_URL, params={"Action": "ListUsers", "MaxItems": "5"}
        )
        http = header_signed(request, "iam")
        changed = replace(http, query=http.query.replace("MaxItems=5", "MaxItems=6"))
        assert failure(changed).kind is SigV4ErrorKind.MISMATCH

    def test_plus_is_not_percent_2b(self) -> None:
        """A signed literal '+' (%2B) cannot be replaced by '+' (a space): MISMATCH."""
        request = AWSRequest(method="GET", url=IAM_URL, params={"Action": "ListUsers", "P": "a+b"})
        http = header_signed(request, "iam")
        assert "a%2Bb" in http.query
        check(http)
        changed = replace(http, query=http.query.replace("a%2Bb", "a+b"))
        assert failure(changed).kind is SigV4ErrorKind.MISMATCH

    def test_content_sha256_inconsistent_with_body(self) -> None:
        """A signed x-amz-content-sha256 that is not the body's hash is MISMATCH."""
        request = AWSRequest(
            method="POST", url=EC2_URL, data=b"Action=A", headers={"Content-Type": FORM}
        )
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(b"Action=B").hexdigest()
        error = failure(header_signed(request, "ec2"))
        assert error.kind is SigV4ErrorKind.MISMATCH
        assert "x-amz-content-sha256" in error.message

    def test_scope_date_differs_from_timestamp(self) -> None:
        """A credential scope date other than X-Amz-Date's day is MISMATCH."""
        request = ec2_form_request()
        header = request.headers["authorization"].replace("/20261125/", "/20261124/")
        error = failure(with_header(request, "authorization", header))
        assert error.kind is SigV4ErrorKind.MISMATCH
        assert "Date in Credential scope does not match" in error.message

    def test_skew_16_minutes_late(self) -> None:
        """A server clock 16 minutes after X-Amz-Date is EXPIRED with AWS's message."""
        error = failure(ec2_form_request(), now=FROZEN + timedelta(minutes=16))
        assert error.kind is SigV4ErrorKind.EXPIRED
        assert error.message == (
            "Signature expired: 20261125T103000Z is now earlier than 20261125T103100Z "
            "(20261125T104600Z - 15 min.)"
        )

    def test_skew_16_minutes_early(self) -> None:
        """A server clock 16 minutes before X-Amz-Date is EXPIRED (not yet current)."""
        error = failure(ec2_form_request(), now=FROZEN - timedelta(minutes=16))
        assert error.kind is SigV4ErrorKind.EXPIRED
        assert error.message == (
            "Signature not yet current: 20261125T103000Z is still later than 20261125T102900Z "
            "(20261125T101400Z + 15 min.)"
        )

    def test_presigned_expired(self) -> None:
        """A presigned URL used after X-Amz-Expires seconds is EXPIRED; just before, it verifies."""
        request = sts_presigned(expires=60)
        check(request, now=FROZEN + timedelta(seconds=60))
        error = failure(request, now=FROZEN + timedelta(seconds=61))
        assert error.kind is SigV4ErrorKind.EXPIRED
        assert "X-Amz-Expires 60" in error.message

    def test_presigned_from_the_future(self) -> None:
        """A presigned URL dated more than 15 minutes ahead is EXPIRED; 14 minutes is fine."""
        request = sts_presigned()
        check(request, now=FROZEN - timedelta(minutes=14))
        assert failure(request, now=FROZEN - timedelta(minutes=16)).kind is SigV4ErrorKind.EXPIRED

    def test_presigned_lifetime_cannot_be_extended(self) -> None:
        """Raising X-Amz-Expires on a presigned URL is MISMATCH."""
        request = sts_presigned(expires=60)
        longer = replace(
            request, query=request.query.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
        )
        assert failure(longer, now=FROZEN + timedelta(minutes=5)).kind is SigV4ErrorKind.MISMATCH

    def test_presigned_action_changed(self) -> None:
        """Changing the Action of a presigned URL is MISMATCH."""
        request = sts_presigned()
        changed = replace(
            request, query=request.query.replace("GetCallerIdentity", "GetSessionToken")
        )
        assert failure(changed).kind is SigV4ErrorKind.MISMATCH

    def test_presigned_body_added(self) -> None:
        """A body added to a presigned request is MISMATCH (the empty payload was signed)."""
        request = replace(sts_presigned(), method="GET", body=b"Action=CreateUser")
        assert failure(request).kind is SigV4ErrorKind.MISMATCH

    @settings(max_examples=200, deadline=None)
    @given(
        timestamp=st.datetimes(timezones=st.just(UTC)),
        now=st.datetimes(timezones=st.just(UTC)),
        presigned=st.booleans(),
        expires=st.integers(0, 604800),
    )
    def test_any_clock_raises_only_sigv4_error(
        self, timestamp: datetime, now: datetime, presigned: bool, expires: int
    ) -> None:
        """Any claimed timestamp and server clock give a clean result or SigV4Error."""
        request = ec2_form_request()
        sig = parse(request)
        assert sig is not None
        moved = dataclasses.replace(sig, timestamp=timestamp, presigned=presigned, expires=expires)
        with pytest.raises(SigV4Error):
            verify(request, moved, SECRET, now)

    @settings(max_examples=100, deadline=None)
    @given(signature=ANY_TEXT, query=ANY_TEXT, path=ANY_TEXT, header=ANY_TEXT)
    def test_never_raises_anything_else(
        self, signature: str, query: str, path: str, header: str
    ) -> None:
        """On arbitrary signatures, paths, queries and headers verify raises only SigV4Error."""
        base = ec2_form_request()
        request = replace(with_header(base, "host", header), query=query, path=path)
        sig = parse(base)
        assert sig is not None
        forged = dataclasses.replace(sig, signature=signature)
        with pytest.raises(SigV4Error):
            verify(request, forged, SECRET, FROZEN)


# ---------------------------------------------------------------- canonical request


class TestCanonicalRequest:
    """``canonical_request`` and ``string_to_sign`` follow AWS's published example."""

    def test_aws_documented_example(self) -> None:
        """AWS's IAM ListUsers example yields its documented signature."""
        request = HttpRequest(
            "GET",
            "/",
            "Action=ListUsers&Version=2010-05-08",
            {
                "host": "iam.amazonaws.com",
                "content-type": "application/x-www-form-urlencoded; charset=utf-8",
                "x-amz-date": "20150830T123600Z",
            },
            b"",
        )
        sig = Signature(
            credential=Credential("AKIDEXAMPLE", "20150830", "us-east-1", "iam"),
            signed_headers=("content-type", "host", "x-amz-date"),
            signature="5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            timestamp=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
            presigned=False,
            expires=None,
            security_token=None,
        )
        query = "Action=ListUsers&Version=2010-05-08"
        canonical = canonical_request(request, sig.signed_headers, query, EMPTY_SHA256)
        assert hashlib.sha256(canonical.encode()).hexdigest() == (
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        )
        secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        verify(request, sig, secret, sig.timestamp)
        key = signing_key(secret, "20150830", "us-east-1", "iam")
        digest = hmac.new(key, string_to_sign(sig, canonical).encode(), hashlib.sha256).hexdigest()
        assert digest == sig.signature

    def test_header_whitespace_folded(self) -> None:
        """Header values are trimmed and inner runs of whitespace folded, as botocore does."""
        request = HttpRequest("GET", "/", "", {"host": "h", "x-a": "  a   b\t c  "}, b"")
        canonical = canonical_request(request, ("host", "x-a"), "", EMPTY_SHA256)
        assert "\nx-a:a b c\n" in canonical


# --------------------------------------------------------------------- signing key


class TestSigningKey:
    """``signing_key`` derives kSigning and caches it."""

    def test_matches_botocore(self) -> None:
        """The derived key signs exactly as botocore's SigV4Auth.signature does."""
        signer = botocore.auth.SigV4Auth(credentials(), "ec2", "eu-west-3")
        request = AWSRequest(method="GET", url=EC2_URL)
        request.context["timestamp"] = "20261125T103000Z"
        expected = signer.signature("string to sign", request)
        key = signing_key(SECRET, "20261125", "eu-west-3", "ec2")
        assert hmac.new(key, b"string to sign", hashlib.sha256).hexdigest() == expected

    def test_aws_documented_key(self) -> None:
        """AWS's documented derivation example gives its documented kSigning."""
        key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"
        )
        assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"

    def test_cached(self) -> None:
        """A second derivation for the same day, region and service is a cache hit."""
        signing_key(SECRET, "20261126", "us-east-1", "sts")
        hits = signing_key.cache_info().hits
        signing_key(SECRET, "20261126", "us-east-1", "sts")
        assert signing_key.cache_info().hits == hits + 1

    def test_frozen_clock_reaches_botocore(self) -> None:
        """The test clock freeze reaches botocore's signer (guards the other tests)."""
        sig = parse(ec2_form_request())
        assert sig is not None
        assert sig.timestamp == FROZEN
