"""The fields of a browser upload (pure): ``${filename}``, who signed the policy (checked
against botocore's own signer, SigV4 and SigV2), what the object keeps of the fields, and
the answer to a stored upload."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config

from pocketcloud.api.s3 import post, post_form, post_policy
from pocketcloud.api.s3.post_form import Form, claim_of
from pocketcloud.errors import ClientError
from tests.api.s3.test_post_policy import AWS_EXAMPLE

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def presigned(signature_version: str, **kwargs: Any) -> dict[str, Any]:
    """A form botocore signs (no server is asked)."""
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key=SECRET,
        config=Config(signature_version=signature_version),
        **kwargs,
    )
    form: dict[str, Any] = client.generate_presigned_post("photos", "user/${filename}")
    return form


def refused(fields: dict[str, str]) -> ClientError:
    with pytest.raises(ClientError) as error:
        claim_of(Form.of(fields.items(), None))
    return error.value


class TestForm:
    def test_filename_expanded(self) -> None:
        """``${filename}`` in any field but the policy is the file's name after its last
        ``/`` or ``\\``; with no file name at all it stays as written."""
        pairs = [
            ("key", "u/${filename}"),
            ("x-amz-meta-n", "${filename}"),
            ("policy", "${filename}"),
        ]
        form = Form.of(pairs, "C:\\Users\\eric\\photo.jpg")
        assert form.values == {
            "key": "u/photo.jpg",
            "x-amz-meta-n": "photo.jpg",
            "policy": "${filename}",
        }
        assert Form.of(pairs, "").values["key"] == "u/"
        assert Form.of(pairs, None).values["key"] == "u/${filename}"

    def test_names_in_any_case_repeats_joined(self) -> None:
        """Fields are found by lower-case name; two of one name are one comma-joined value;
        the names are kept as sent, in order."""
        form = Form.of([("X-Amz-Meta-Tag", "a"), ("x-amz-meta-tag", "b"), ("Key", "k")], None)
        assert form.get("x-amz-meta-tag") == "a,b"
        assert form.get("key") == "k"
        assert form.names == ("X-Amz-Meta-Tag", "x-amz-meta-tag", "Key")


class TestClaim:
    @pytest.mark.parametrize("version", ["s3v4", "s3"])
    def test_botocore_signature_verifies(self, version: str) -> None:
        """A form botocore signed (SigV4 or SigV2) names its key, and its signature is what
        ``expected`` computes with the secret, and not with another."""
        form = presigned(version)
        claim = claim_of(Form.of(form["fields"].items(), "a.jpg"))
        assert claim is not None
        assert claim.access_key_id == "AKIAIOSFODNN7EXAMPLE"
        assert claim.expected(SECRET) == claim.signature
        assert claim.expected(SECRET + "x") != claim.signature
        if version == "s3v4":
            assert claim.credential is not None
            assert claim.credential.region == "eu-west-1"
        decoded = post_policy.decode(claim.policy)
        assert decoded.conditions[1].text == '["starts-with", "$key", "user/"]'

    def test_aws_example_signature(self) -> None:
        """AWS's documented example: its policy, signed with the example key on
        2015-12-29 in us-east-1, is 8afdbf40…699e."""
        fields = {
            "key": "user/user1/a.jpg",
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
            "X-Amz-Date": "20151229T000000Z",
            "Policy": AWS_EXAMPLE,
            "X-Amz-Signature": "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e",
        }
        claim = claim_of(Form.of(fields.items(), None))
        assert claim is not None
        assert claim.expected(SECRET) == claim.signature

    def test_session_token(self) -> None:
        """A session's form carries its token, which the claim keeps."""
        form = presigned("s3v4", aws_session_token="token-1")
        claim = claim_of(Form.of(form["fields"].items(), None))
        assert claim is not None
        assert claim.token == "token-1"

    def test_anonymous(self) -> None:
        """A form without signature fields is anonymous, even with a policy."""
        assert claim_of(Form.of([("key", "k"), ("policy", "e30=")], None)) is None

    def test_a_missing_field_is_named(self) -> None:
        """Once one signature field is sent, the rest are needed; the first missing one is
        named (InvalidArgument), SigV4's and SigV2's alike."""
        fields = dict(presigned("s3v4")["fields"])
        del fields["x-amz-signature"]
        error = refused(fields)
        assert error.message == (
            "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, "
            "please check the order of the fields."
        )
        assert error.details == (("ArgumentName", "X-Amz-Signature"), ("ArgumentValue", ""))
        del fields["x-amz-algorithm"], fields["x-amz-credential"]
        assert refused(fields).details[0] == ("ArgumentName", "X-Amz-Algorithm")
        assert refused({"key": "k", "signature": "s"}).details[0] == (
            "ArgumentName",
            "AWSAccessKeyId",
        )

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            (
                "x-amz-algorithm",
                "AWS4-HMAC-SHA1",
                'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
            ),
            ("x-amz-date", "2015-12-29", "X-Amz-Date must be formated via ISO8601 Long format"),
            (
                "x-amz-credential",
                "AKIA/20151229/us-east-1/s3",
                "Error parsing the X-Amz-Credential "
                "parameter; the Credential is mal-formed; expecting "
                '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            ),
            (
                "x-amz-credential",
                "/20151229/us-east-1/s3/aws4_request",
                "a non-empty Access Key (AKID) must be provided in the credential.",
            ),
            (
                "x-amz-credential",
                "AKIA/2015-12-29/us-east-1/s3/aws4_request",
                "Error parsing the "
                'X-Amz-Credential parameter; incorrect date format "2015-12-29". This date in the '
                'credential must be in the format "yyyyMMdd".',
            ),
            (
                "x-amz-credential",
                "AKIA/20151229/us-east-1/ec2/aws4_request",
                "Error parsing the X-Amz-Credential parameter; "
                'incorrect service "ec2". This endpoint belongs to "s3".',
            ),
        ],
    )
    def test_bad_signature_fields(self, field: str, value: str, message: str) -> None:
        """A wrong algorithm, a malformed date or credential is InvalidArgument naming it."""
        fields = dict(presigned("s3v4")["fields"])
        fields[field] = value
        error = refused(fields)
        assert (error.code, error.message) == ("InvalidArgument", message)


class TestObject:
    def test_metadata_and_headers(self) -> None:
        """x-amz-meta-* fields are metadata (names lower-case); Cache-Control,
        Content-Disposition, … are kept as headers; Content-Type is the field's."""
        form = Form.of(
            [
                ("X-Amz-Meta-Owner", "eric"),
                ("Cache-Control", "max-age=60"),
                ("Content-Type", "image/png"),
                ("x-amz-meta-", "nameless"),
            ],
            None,
        )
        assert post_form.metadata(form) == {"owner": "eric"}
        assert post_form.stored_headers(form) == {"cache-control": "max-age=60"}
        assert post_form.content_type(form) == "image/png"

    def test_what_a_header_cannot_carry(self) -> None:
        """A header field with a line break, or a metadata name that is no header name, is
        InvalidArgument (a header could not carry it back)."""
        with pytest.raises(ClientError) as broken:
            post_form.stored_headers(Form.of([("Cache-Control", "a\r\nSet-Cookie: x")], None))
        assert broken.value.code == "InvalidArgument"
        with pytest.raises(ClientError):
            post_form.metadata(Form.of([("x-amz-meta-two words", "v")], None))
        kept = post_form.stored_headers(Form.of([("Content-Disposition", "inline; é")], None))
        assert kept == {"content-disposition": "inline; é".encode().decode("latin-1")}

    @pytest.mark.parametrize(
        ("value", "kept"),
        [
            ("plain text", "plain text"),
            ("ÄMÄZÕÑ S3", "=?UTF-8?Q?=C3=84M=C3=84Z=C3=95=C3=91_S3?="),
            ("\x00\x01\x02\x03\x04", "=?UTF-8?B?AAECAwQ=?="),
        ],
    )
    def test_metadata_values_made_mail_safe(self, value: str, kept: str) -> None:
        """A value outside printable US-ASCII is kept as an RFC 2047 word, as S3 returns
        it: Q-encoded when printable, B-encoded otherwise."""
        assert post_form.mail_safe(value) == kept


class TestAnswer:
    URL = "http://s3.test/photos/a%2Fb.txt"

    def answer(self, **fields: str) -> post_form.Answer:
        form = Form.of(fields.items(), None)
        return post_form.answer(form, "photos", "a/b c.txt", '"abc"', self.URL)

    def test_statuses(self) -> None:
        """204 by default and for a status S3 does not offer; 200 empty; 201 the
        PostResponse document. Each has the ETag and the object's Location."""
        for status, want in (("", 204), ("404", 204), ("204", 204), ("200", 200)):
            answer = self.answer(success_action_status=status)
            assert (answer.status, answer.body) == (want, b"")
            assert ("Location", self.URL) in answer.headers
        created = self.answer(success_action_status="201")
        assert created.status == 201
        assert created.body.decode() == (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<PostResponse><Location>{self.URL}</Location><Bucket>photos</Bucket>"
            '<Key>a/b c.txt</Key><ETag>"abc"</ETag></PostResponse>'
        )

    def test_redirect(self) -> None:
        """An http(s) redirect URL answers 303 to it, its query kept, with bucket, key and
        etag form-encoded; ``redirect`` is the older name; another URL is ignored."""
        answer = self.answer(success_action_redirect="https://app.test/done?x=1")
        assert answer.status == 303
        assert dict(answer.headers)["Location"] == (
            "https://app.test/done?x=1&bucket=photos&key=a%2Fb+c.txt&etag=%22abc%22"
        )
        assert self.answer(redirect="http://app.test/").status == 303
        assert self.answer(success_action_redirect="/relative").status == 204
        assert self.answer(success_action_redirect="https://a.test/\r\nX: y").status == 204

    def test_location(self) -> None:
        """The object's URL: path-style or virtual-hosted, the key's ``/`` encoded."""
        assert (
            post_form.location("http", "h:1", "b", "a/é", virtual=False)
            == "http://h:1/b/a%2F%C3%A9"
        )
        assert post_form.location("https", "b.s3.localhost", "b", "k", virtual=True) == (
            "https://b.s3.localhost/k"
        )


@pytest.mark.parametrize(
    ("method", "path", "query", "routed"),
    [
        ("POST", "/photos", "", True),
        ("POST", "/photos/", "", True),
        ("POST", "/photos", "delete", False),
        ("POST", "/photos/key", "uploads", False),
        ("POST", "/photos/key", "", False),
        ("POST", "/", "", False),
        ("PUT", "/photos", "", False),
    ],
)
def test_routing(method: str, path: str, query: str, routed: bool) -> None:
    """PostObject is a POST to a bucket (path-style) with no subresource; DeleteObjects,
    multipart uploads and the rest keep their routes."""
    assert post.addresses(method, path, query) is routed
