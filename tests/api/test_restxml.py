"""Unit tests of pocketcloud.api.restxml: S3's rest-xml protocol against botocore itself.

Requests are made by a real botocore S3 client whose ``before-send`` hook records the
prepared request and answers it; each recorded request is routed and parsed here and must
give back the operation and the parameters the caller passed. Results are rendered here,
handed to the same client as its HTTP response, and must come back out of the client as
they went in.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.serialize
import botocore.session
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.utils import percent_encode_sequence

from pocketcloud.api.restxml import NAMESPACE, HttpCall, RestXml
from pocketcloud.errors import ClientError

REST = RestXml()
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = datetime(2025, 6, 7, 8, 9, 10, 123000, tzinfo=UTC)
# Members botocore fills in on its own (checksums, Content-Length): not the caller's.
SDK_ADDED = frozenset(
    {
        "ContentMD5",
        "ContentLength",
        "ChecksumAlgorithm",
        "ChecksumCRC32",
        "ChecksumMode",
        "EncodingType",  # ListObjects: botocore asks for url-encoded keys unless told
    }
)
Answer = tuple[int, list[tuple[str, str]], bytes]


class _Raw:
    """The raw stream botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body.read()

    def read(self, amt: int | None = None) -> bytes:
        return self._body.read(amt)


class Wire:
    """A botocore S3 client (path-style) whose requests stop at ``before-send``: each is
    recorded and answered with ``answer`` or, when that is None, with this module's own
    rendering of an empty result."""

    def __init__(self) -> None:
        session = botocore.session.get_session()
        self.client = session.create_client(
            "s3",
            endpoint_url="http://127.0.0.1:9",
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="x",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0}),
        )
        self.client.meta.events.register("before-send.s3", self._send)
        self.sent: list[AWSPreparedRequest] = []
        self.answer: Answer | None = None

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.sent.append(request)
        status, headers, body = self.answer or REST.serialize(self._operation(request), {})
        return AWSResponse(request.url, status, dict(headers), _Raw(body))

    @staticmethod
    def _operation(request: AWSPreparedRequest) -> str:
        return REST.operation(http_call(request)[0])

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` through the client; return what the client answers."""
        method = getattr(self.client, xform_name(operation))
        result: dict[str, Any] = method(**params)
        return result


def http_call(request: AWSPreparedRequest) -> tuple[HttpCall, bytes | None]:
    """What a server sees of ``request``: method, raw path and query, lower-case headers."""
    url = urlsplit(request.url)
    headers = {
        name.lower(): value.decode() if isinstance(value, bytes) else value
        for name, value in request.headers.items()
    }
    body = request.body
    if isinstance(body, str):
        body = body.encode()
    return HttpCall(request.method, url.path, url.query, headers), (
        body if isinstance(body, bytes) else None
    )


@pytest.fixture
def wire() -> Wire:
    return Wire()


def sent(wire: Wire, operation: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """Send ``operation`` with botocore; route and parse the request it made."""
    wire.call(operation, **params)
    call, body = http_call(wire.sent[-1])
    name = REST.operation(call)
    return name, REST.parse(name, call, body)


def answered(wire: Wire, operation: str, params: Mapping[str, Any], result: Any) -> Any:
    """Render ``result`` as ``operation``'s response; return what botocore's client reads."""
    wire.answer = REST.serialize(operation, result)
    parsed = wire.call(operation, **params)
    parsed.pop("ResponseMetadata")
    return parsed


# -- requests: (operation, what the caller passes, what is not parsed back) ----------------

POLICY = '{"Version":"2012-10-17","Statement":[]}'
GRANT = {
    "Grantee": {"Type": "CanonicalUser", "ID": "abc123", "DisplayName": "me"},
    "Permission": "FULL_CONTROL",
}
CORS_RULE = {
    "ID": "web",
    "AllowedHeaders": ["*"],
    "AllowedMethods": ["GET", "PUT"],
    "AllowedOrigins": ["https://a.example", "https://b.example"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 300,
}
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("ListBuckets", {}),
    ("ListBuckets", {"MaxBuckets": 10, "Prefix": "logs", "ContinuationToken": "t"}),
    (
        "CreateBucket",
        {
            "Bucket": "b",
            "ACL": "private",
            "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"},
        },
    ),
    ("HeadBucket", {"Bucket": "b", "ExpectedBucketOwner": "123456789012"}),
    ("DeleteBucket", {"Bucket": "b"}),
    (
        "PutObject",
        {
            "Bucket": "b",
            "Key": "docs/readme.txt",
            "Body": b"hello",
            "Metadata": {"color": "red", "size": "x-large"},
            "ContentType": "text/plain",
            "CacheControl": "max-age=60",
            "Expires": WHEN,
            "BucketKeyEnabled": True,
            "ObjectLockRetainUntilDate": LATER.replace(microsecond=0),
        },
    ),
    (
        "GetObject",
        {
            "Bucket": "b",
            "Key": "k",
            "Range": "bytes=0-9",
            "IfMatch": '"etag"',
            "IfModifiedSince": WHEN,
            "VersionId": "v1",
            "PartNumber": 2,
            "ResponseContentType": "text/csv",
            "ResponseExpires": WHEN,
        },
    ),
    ("HeadObject", {"Bucket": "b", "Key": "k", "IfNoneMatch": '"e"', "IfUnmodifiedSince": WHEN}),
    ("DeleteObject", {"Bucket": "b", "Key": "k", "VersionId": "v1"}),
    (
        "CopyObject",
        {
            "Bucket": "b",
            "Key": "copy",
            "CopySource": "src/orig.txt",
            "MetadataDirective": "REPLACE",
            "Metadata": {"a": "1"},
            "CopySourceIfModifiedSince": WHEN,
        },
    ),
    (
        "ListObjectsV2",
        {
            "Bucket": "b",
            "Prefix": "a/",
            "Delimiter": "/",
            "MaxKeys": 50,
            "ContinuationToken": "tok",
            "StartAfter": "a/m",
            "EncodingType": "url",
            "FetchOwner": True,
        },
    ),
    ("ListObjects", {"Bucket": "b", "Prefix": "p", "Marker": "m", "MaxKeys": 3}),
    (
        "DeleteObjects",
        {
            "Bucket": "b",
            "Delete": {"Objects": [{"Key": "a"}, {"Key": "b c", "VersionId": "v"}], "Quiet": True},
        },
    ),
    (
        "CreateMultipartUpload",
        {"Bucket": "b", "Key": "big", "ContentType": "video/mp4", "Metadata": {"m": "n"}},
    ),
    ("UploadPart", {"Bucket": "b", "Key": "big", "PartNumber": 3, "UploadId": "u1", "Body": b"x"}),
    (
        "UploadPartCopy",
        {
            "Bucket": "b",
            "Key": "big",
            "PartNumber": 1,
            "UploadId": "u1",
            "CopySource": "src/part",
            "CopySourceRange": "bytes=0-99",
        },
    ),
    (
        "CompleteMultipartUpload",
        {
            "Bucket": "b",
            "Key": "big",
            "UploadId": "u1",
            "MultipartUpload": {
                "Parts": [{"ETag": '"e1"', "PartNumber": 1}, {"ETag": '"e2"', "PartNumber": 2}]
            },
        },
    ),
    ("AbortMultipartUpload", {"Bucket": "b", "Key": "big", "UploadId": "u1"}),
    ("ListParts", {"Bucket": "b", "Key": "big", "UploadId": "u1", "MaxParts": 5}),
    ("ListMultipartUploads", {"Bucket": "b", "Prefix": "p", "MaxUploads": 7}),
    (
        "PutBucketVersioning",
        {"Bucket": "b", "VersioningConfiguration": {"Status": "Enabled", "MFADelete": "Disabled"}},
    ),
    (
        "PutBucketTagging",
        {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "env", "Value": "prod"}]}},
    ),
    ("PutBucketCors", {"Bucket": "b", "CORSConfiguration": {"CORSRules": [CORS_RULE]}}),
    ("GetBucketLocation", {"Bucket": "b"}),
    (
        "PutPublicAccessBlock",
        {
            "Bucket": "b",
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": False,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": False,
            },
        },
    ),
    ("PutBucketPolicy", {"Bucket": "b", "Policy": POLICY}),
    (
        "PutObjectAcl",
        {
            "Bucket": "b",
            "Key": "k",
            "AccessControlPolicy": {"Grants": [GRANT], "Owner": {"ID": "abc123"}},
        },
    ),
    (
        "GetObjectAttributes",
        {"Bucket": "b", "Key": "k", "ObjectAttributes": ["ETag", "ObjectSize"], "MaxParts": 4},
    ),
    ("GetObjectTagging", {"Bucket": "b", "Key": "k", "VersionId": "v"}),
    ("GetBucketVersioning", {"Bucket": "b"}),
]


def _expected(params: dict[str, Any]) -> dict[str, Any]:
    """What parse gives back: the caller's params without the blob Body (streamed)."""
    return {k: v for k, v in params.items() if k != "Body"}


class TestRequestRoundTrip:
    """A request made by botocore is routed to its operation and parsed to its params."""

    @pytest.mark.parametrize(
        ("operation", "params"),
        REQUESTS,
        ids=[f"{op}-{i}" for i, (op, _) in enumerate(REQUESTS)],
    )
    def test_operation_and_params(self, wire: Wire, operation: str, params: dict[str, Any]) -> None:
        """The operation and every param the caller passed come back, typed; only members
        botocore fills in itself (checksums, Content-Length) may be added."""
        name, parsed = sent(wire, operation, **params)
        assert name == operation
        expected = _expected(params)
        assert {k: parsed.get(k) for k in expected} == expected
        assert set(parsed) - set(expected) <= SDK_ADDED

    def test_awkward_key_decodes_exactly(self, wire: Wire) -> None:
        """A key with spaces, unicode, a literal "%2F", "+", "~" and slashes decodes to
        exactly the key the client encoded."""
        key = "dir/a b/ünïcødé %2F+plus~tilde/日本.txt"
        name, parsed = sent(wire, "PutObject", Bucket="b", Key=key, Body=b"x")
        assert (name, parsed["Bucket"], parsed["Key"]) == ("PutObject", "b", key)

    def test_key_with_leading_and_double_slashes(self, wire: Wire) -> None:
        """The {Key+} label is greedy: it keeps a leading slash and empty segments."""
        _, parsed = sent(wire, "GetObject", Bucket="b", Key="/lead//x/")
        assert parsed["Key"] == "/lead//x/"

    def test_copy_source_arrives_as_sent(self, wire: Wire) -> None:
        """CopySource is a plain header member: it arrives percent-encoded as botocore
        sends it, with a versionId when the caller gave one."""
        source = {"Bucket": "src", "Key": "a b.txt", "VersionId": "v9"}
        _, parsed = sent(wire, "CopyObject", Bucket="b", Key="k", CopySource=source)
        assert parsed["CopySource"] == "src/a%20b.txt?versionId=v9"

    def test_metadata_keys_come_lower_case(self, wire: Wire) -> None:
        """x-amz-meta- headers arrive lower-cased, so Metadata keys do too."""
        _, parsed = sent(wire, "PutObject", Bucket="b", Key="k", Body=b"", Metadata={"Mixed": "V"})
        assert parsed["Metadata"] == {"mixed": "V"}


class TestRouting:
    """RestXml.operation picks the most specific operation for a request."""

    def test_every_operation_routes_to_itself(self) -> None:
        """Each operation of the model, serialized by botocore with its required members,
        routes back to itself; only a deprecated twin or S3 Express's ListDirectoryBuckets
        goes to the operation it shares its wire with."""
        model = botocore.session.get_session().get_service_model("s3")
        serializer = botocore.serialize.create_serializer("rest-xml", include_validation=False)
        shared = {
            "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
            "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
            "GetBucketNotification": "GetBucketNotificationConfiguration",
            "PutBucketNotification": "PutBucketNotificationConfiguration",
            "ListDirectoryBuckets": "ListBuckets",
        }
        for name in model.operation_names:
            op = model.operation_model(name)
            request = serializer.serialize_to_request(_required(op.input_shape), op)
            call = _call_of(request)
            assert REST.operation(call) == shared.get(name, name), name

    @pytest.mark.parametrize(
        ("method", "path", "query", "headers", "operation"),
        [
            ("GET", "/", "", {}, "ListBuckets"),
            ("GET", "/b", "", {}, "ListObjects"),
            ("GET", "/b/", "", {}, "ListObjects"),
            ("GET", "/b", "list-type=2", {}, "ListObjectsV2"),
            ("GET", "/b", "list-type=1", {}, "ListObjects"),
            ("GET", "/b", "versions&prefix=a", {}, "ListObjectVersions"),
            ("GET", "/b", "uploads", {}, "ListMultipartUploads"),
            ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
            ("PUT", "/b/k", "versionId=v", {}, "PutObject"),
            ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
            ("PUT", "/b/k", "", {"x-amz-copy-source": "s/k"}, "CopyObject"),
            (
                "PUT",
                "/b/k",
                "partNumber=1&uploadId=u",
                {"x-amz-copy-source": "s/k"},
                "UploadPartCopy",
            ),
            ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
            ("GET", "/b/k", "versionId=v", {}, "GetObject"),
            ("GET", "/b/k", "tagging", {}, "GetObjectTagging"),
            ("GET", "/b", "tagging", {}, "GetBucketTagging"),
            ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
            ("DELETE", "/b/k", "", {}, "DeleteObject"),
            ("GET", "/b", "analytics", {}, "ListBucketAnalyticsConfigurations"),
            ("GET", "/b", "analytics&id=a", {}, "GetBucketAnalyticsConfiguration"),
        ],
    )
    def test_most_specific_wins(
        self, method: str, path: str, query: str, headers: dict[str, str], operation: str
    ) -> None:
        """Subresource keys, then required query and header members, decide; a
        ``versionId`` is a plain member, not a subresource."""
        assert REST.operation(HttpCall(method, path, query, headers)) == operation

    @pytest.mark.parametrize(("method", "path"), [("PATCH", "/b"), ("DELETE", "/"), ("HEAD", "/")])
    def test_method_not_allowed(self, method: str, path: str) -> None:
        """No operation of the method addresses the path: MethodNotAllowed, 405."""
        with pytest.raises(ClientError) as caught:
            REST.operation(HttpCall(method, path, "", {}))
        assert (caught.value.code, caught.value.status) == ("MethodNotAllowed", 405)

    def test_missing_subresource_is_invalid_request(self) -> None:
        """POST on an object without ?uploads, uploadId, ?restore or ?select: 400."""
        with pytest.raises(ClientError) as caught:
            REST.operation(HttpCall("POST", "/b/k", "", {}))
        assert (caught.value.code, caught.value.status) == ("InvalidRequest", 400)

    @pytest.mark.parametrize(("path", "query"), [("b", ""), ("/b", "prefix=%FF")])
    def test_undecodable_uri(self, path: str, query: str) -> None:
        """A path not starting with / or a query escape that is not UTF-8: InvalidURI."""
        with pytest.raises(ClientError) as caught:
            REST.operation(HttpCall("GET", path, query, {}))
        assert (caught.value.code, caught.value.status) == ("InvalidURI", 400)

    def test_undecodable_label(self) -> None:
        """A key whose escapes are not UTF-8: InvalidURI."""
        with pytest.raises(ClientError) as caught:
            REST.parse("GetObject", HttpCall("GET", "/b/%FF", "", {}), None)
        assert caught.value.code == "InvalidURI"


def _required(shape: Any) -> dict[str, Any]:
    """A value for each required member of ``shape``, by type."""
    samples: dict[str, Any] = {
        "string": "x",
        "integer": 1,
        "long": 1,
        "boolean": True,
        "timestamp": WHEN,
        "blob": b"x",
        "list": ["x"],
        "structure": {},
        "map": {},
    }
    if shape is None:
        return {}
    return {name: samples[shape.members[name].type_name] for name in shape.required_members}


def _call_of(request: Mapping[str, Any]) -> HttpCall:
    path, _, literal = request["url_path"].partition("?")
    encoded = percent_encode_sequence(request["query_string"])
    query = "&".join(filter(None, [literal, encoded]))
    headers = {k.lower(): str(v) for k, v in request["headers"].items()}
    return HttpCall(request["method"], path, query, headers)


class TestParse:
    """RestXml.parse: typed values, bodies, and S3's errors."""

    def test_header_timestamp_forms(self) -> None:
        """A header timestamp may be RFC 7231, ISO 8601 or epoch seconds."""
        for text in ("Tue, 02 Jan 2024 03:04:05 GMT", "2024-01-02T03:04:05Z", "1704164645"):
            call = HttpCall("GET", "/b/k", "", {"if-modified-since": text})
            assert REST.parse("GetObject", call, None)["IfModifiedSince"] == WHEN

    def test_bad_header_value_is_invalid_argument(self) -> None:
        """An integer header that is not one: InvalidArgument."""
        call = HttpCall("GET", "/b/k", "attributes", {"x-amz-max-parts": "many"})
        with pytest.raises(ClientError) as caught:
            REST.parse("GetObjectAttributes", call, None)
        assert (caught.value.code, caught.value.status) == ("InvalidArgument", 400)

    def test_quoted_list_header(self) -> None:
        """List headers split at commas outside quotes; quotes and escapes are removed."""
        call = HttpCall("GET", "/b/k", "attributes", {"x-amz-object-attributes": 'ETag, "a,\\"b"'})
        parsed = REST.parse("GetObjectAttributes", call, None)
        assert parsed["ObjectAttributes"] == ["ETag", 'a,"b']

    @pytest.mark.parametrize(
        "body",
        [
            b"<Tagging><TagSet>",
            b"not xml",
            b'<!DOCTYPE t [<!ENTITY x "y">]><Tagging><TagSet/></Tagging>',
            b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging><Extra/>",
        ],
    )
    def test_malformed_xml(self, body: bytes) -> None:
        """A body that is not one well-formed XML document without a DTD: MalformedXML."""
        call = HttpCall("PUT", "/b", "tagging", {})
        with pytest.raises(ClientError) as caught:
            REST.parse("PutBucketTagging", call, body)
        assert (caught.value.code, caught.value.status) == ("MalformedXML", 400)

    def test_bad_xml_value_is_malformed(self) -> None:
        """An XML value of the wrong type (a boolean that is not one): MalformedXML."""
        body = b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
        body += b"</PublicAccessBlockConfiguration>"
        with pytest.raises(ClientError) as caught:
            REST.parse("PutPublicAccessBlock", HttpCall("PUT", "/b", "publicAccessBlock", {}), body)
        assert caught.value.code == "MalformedXML"

    def test_namespaces_and_unknown_elements_are_ignored(self) -> None:
        """Elements match by local name whatever their namespace; unknown ones are skipped."""
        body = (
            b'<v:VersioningConfiguration xmlns:v="urn:any"><v:Status>Suspended</v:Status>'
            b"<Other>1</Other></v:VersioningConfiguration>"
        )
        call = HttpCall("PUT", "/b", "versioning", {})
        parsed = REST.parse("PutBucketVersioning", call, body)
        assert parsed["VersioningConfiguration"] == {"Status": "Suspended"}

    def test_empty_body_leaves_payload_out(self) -> None:
        """CreateBucket without a body has no CreateBucketConfiguration."""
        assert REST.parse("CreateBucket", HttpCall("PUT", "/b", "", {}), b"") == {"Bucket": "b"}

    def test_unknown_operation(self) -> None:
        """parse and serialize take only the model's operation names."""
        with pytest.raises(ValueError, match="NoSuchThing"):
            REST.parse("NoSuchThing", HttpCall("GET", "/", "", {}), None)


class TestResponseRoundTrip:
    """A result rendered by RestXml.serialize is read back by botocore's client unchanged."""

    def test_list_buckets(self, wire: Wire) -> None:
        """Owner and two buckets, under AWS's root element and S3's namespace."""
        result = {
            "Owner": {"DisplayName": "me", "ID": "abc123"},
            "Buckets": [
                {"Name": "one", "CreationDate": WHEN, "BucketRegion": "us-east-1"},
                {"Name": "two & more", "CreationDate": LATER},
            ],
        }
        status, _, body = REST.serialize("ListBuckets", result)
        assert status == 200
        assert body.startswith(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="'
            + NAMESPACE.encode()
            + b'">'
        )
        assert b"<CreationDate>2025-06-07T08:09:10.123Z</CreationDate>" in body
        assert answered(wire, "ListBuckets", {}, result) == result

    def test_list_objects_v2(self, wire: Wire) -> None:
        """Flattened Contents and CommonPrefixes, counts, truncation and the next token."""
        result = {
            "Name": "b",
            "Prefix": "a/",
            "Delimiter": "/",
            "MaxKeys": 2,
            "KeyCount": 2,
            "IsTruncated": True,
            "NextContinuationToken": "next<&>",
            "Contents": [
                {"Key": "a/1", "LastModified": WHEN, "ETag": '"e1"', "Size": 1},
                {
                    "Key": "a/2",
                    "LastModified": LATER,
                    "ETag": '"e2"',
                    "Size": 22,
                    "StorageClass": "STANDARD",
                },
            ],
            "CommonPrefixes": [{"Prefix": "a/x/"}, {"Prefix": "a/y/"}],
        }
        assert answered(wire, "ListObjectsV2", {"Bucket": "b"}, result) == result

    def test_head_object_headers(self, wire: Wire) -> None:
        """Header members, typed: length, ETag, RFC 7231 dates, booleans and metadata."""
        result = {
            "ContentLength": 11,
            "ETag": '"abc"',
            "LastModified": WHEN,
            "ContentType": "text/plain",
            "Metadata": {"color": "red"},
            "VersionId": "v1",
            "BucketKeyEnabled": False,
            "ObjectLockRetainUntilDate": LATER,
        }
        status, headers, body = REST.serialize("HeadObject", result)
        assert (status, body) == (200, b"")
        assert ("Last-Modified", "Tue, 02 Jan 2024 03:04:05 GMT") in headers
        assert ("x-amz-meta-color", "red") in headers
        assert ("x-amz-server-side-encryption-bucket-key-enabled", "false") in headers
        assert answered(wire, "HeadObject", {"Bucket": "b", "Key": "k"}, result) == result

    def test_get_object_body_is_left_to_the_caller(self) -> None:
        """GetObject's streaming Body is not rendered; its headers are."""
        status, headers, body = REST.serialize("GetObject", {"Body": b"data", "ETag": '"e"'})
        assert (status, headers, body) == (200, [("ETag", '"e"')], b"")

    def test_create_multipart_upload(self, wire: Wire) -> None:
        """Bucket, Key and UploadId in InitiateMultipartUploadResult."""
        result = {"Bucket": "b", "Key": "big", "UploadId": "u1", "ServerSideEncryption": "AES256"}
        _, _, body = REST.serialize("CreateMultipartUpload", result)
        assert b"<InitiateMultipartUploadResult " in body
        assert answered(wire, "CreateMultipartUpload", {"Bucket": "b", "Key": "big"}, result) == (
            result
        )

    def test_complete_multipart_upload(self, wire: Wire) -> None:
        """Location, Bucket, Key, ETag in the body; VersionId as a header."""
        result = {
            "Location": "http://h/b/big",
            "Bucket": "b",
            "Key": "big",
            "ETag": '"e-2"',
            "VersionId": "v2",
        }
        params = {"Bucket": "b", "Key": "big", "UploadId": "u1"}
        assert answered(wire, "CompleteMultipartUpload", params, result) == result

    def test_delete_objects(self, wire: Wire) -> None:
        """Deleted and Errors, both flattened lists."""
        result = {
            "Deleted": [{"Key": "a"}, {"Key": "b", "VersionId": "v", "DeleteMarker": True}],
            "Errors": [{"Key": "c", "Code": "AccessDenied", "Message": "Access Denied"}],
        }
        params = {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}]}}
        assert answered(wire, "DeleteObjects", params, result) == result

    @pytest.mark.parametrize("region", ["eu-west-1", None])
    def test_get_bucket_location(self, wire: Wire, region: str | None) -> None:
        """The region is the LocationConstraint root's own text; empty for us-east-1."""
        result = {"LocationConstraint": region}
        assert answered(wire, "GetBucketLocation", {"Bucket": "b"}, result) == result

    def test_copy_object(self, wire: Wire) -> None:
        """The CopyObjectResult payload is the root; version ids are headers."""
        result = {
            "CopyObjectResult": {"ETag": '"e"', "LastModified": WHEN},
            "VersionId": "v2",
            "CopySourceVersionId": "v1",
        }
        _, _, body = REST.serialize("CopyObject", result)
        assert b'<CopyObjectResult xmlns="' in body
        params = {"Bucket": "b", "Key": "k", "CopySource": "s/k"}
        assert answered(wire, "CopyObject", params, result) == result

    def test_get_bucket_versioning(self, wire: Wire) -> None:
        """Status and MFADelete under VersioningConfiguration."""
        result = {"Status": "Enabled", "MFADelete": "Disabled"}
        assert answered(wire, "GetBucketVersioning", {"Bucket": "b"}, result) == result

    def test_get_object_tagging(self, wire: Wire) -> None:
        """A wrapped TagSet of Tag elements; VersionId as a header."""
        result = {
            "VersionId": "v",
            "TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}],
        }
        assert answered(wire, "GetObjectTagging", {"Bucket": "b", "Key": "k"}, result) == result

    def test_get_bucket_acl_grantee_type_attribute(self, wire: Wire) -> None:
        """The Grantee's Type is the xsi:type attribute, its namespace declared."""
        result = {"Owner": {"ID": "abc123"}, "Grants": [GRANT]}
        _, _, body = REST.serialize("GetBucketAcl", result)
        assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' in body
        assert b'xsi:type="CanonicalUser"' in body
        assert answered(wire, "GetBucketAcl", {"Bucket": "b"}, result) == result

    def test_get_bucket_policy_is_raw_text(self, wire: Wire) -> None:
        """A string payload is the body itself."""
        result = {"Policy": POLICY}
        assert REST.serialize("GetBucketPolicy", result)[2] == POLICY.encode()
        assert answered(wire, "GetBucketPolicy", {"Bucket": "b"}, result) == result

    @pytest.mark.parametrize(
        ("operation", "status"),
        [
            ("DeleteObject", 204),
            ("DeleteBucket", 204),
            ("AbortMultipartUpload", 204),
            ("DeleteBucketTagging", 204),
            ("PutBucketTagging", 204),
            ("PutBucketPolicy", 204),
            ("DeleteObjects", 200),
            ("PutObject", 200),
        ],
    )
    def test_status(self, operation: str, status: int) -> None:
        """204 where S3 answers No Content, else 200."""
        assert REST.serialize(operation, {})[0] == status

    def test_empty_output_has_no_body(self) -> None:
        """An output of headers only (PutObject) has an empty body."""
        assert REST.serialize("PutObject", {"ETag": '"e"'}) == (200, [("ETag", '"e"')], b"")


class TestTimestamps:
    """Timestamps on the wire: headers in RFC 7231 form, XML in ISO 8601."""

    def test_header_forms(self) -> None:
        """Naive datetimes are UTC; a header shape saying iso8601 gets ISO 8601."""
        result = {"LastModified": WHEN.replace(tzinfo=None), "ObjectLockRetainUntilDate": WHEN}
        headers = dict(REST.serialize("HeadObject", result)[1])
        assert headers["Last-Modified"] == "Tue, 02 Jan 2024 03:04:05 GMT"
        assert headers["x-amz-object-lock-retain-until-date"] == "2024-01-02T03:04:05.000Z"

    def test_xml_form(self) -> None:
        """Inside XML: ISO 8601 with milliseconds and Z, from an epoch number too."""
        result = {"CopyObjectResult": {"LastModified": WHEN.timestamp()}}
        assert (
            b"<LastModified>2024-01-02T03:04:05.000Z</LastModified>"
            in (REST.serialize("CopyObject", result)[2])
        )

    @pytest.mark.parametrize("text", ["soon", "Tue, 99 Foo 2024 GMT", "9" * 30])
    def test_garbage_is_invalid_argument(self, text: str) -> None:
        """Text that is no timestamp: InvalidArgument."""
        with pytest.raises(ClientError) as caught:
            REST.parse("GetObject", HttpCall("GET", "/b/k", "", {"if-modified-since": text}), None)
        assert caught.value.code == "InvalidArgument"
