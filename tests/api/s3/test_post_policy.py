"""The POST policy language (pure): decoding, each condition, the fields every policy must
name, expiration and the file's size, with S3's codes and messages."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from pocketcloud.api.s3 import post_policy
from pocketcloud.errors import ClientError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = "2026-12-01T13:00:00Z"
#: AWS's own example ("Example: Browser-Based Upload using HTTP POST"), CRLF line ends
AWS_EXAMPLE = (
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7"
    "ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91"
    "c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi"
    "OiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwi"
    "fSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRh"
    "LXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVT"
    "MjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNy"
    "ZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9"
    "LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAi"
    "MjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
)


def encode(document: Any) -> str:
    text = document if isinstance(document, str) else json.dumps(document)
    return base64.b64encode(text.encode()).decode()


def policy(*conditions: Any, expiration: str = LATER) -> post_policy.PostPolicy:
    return post_policy.decode(encode({"expiration": expiration, "conditions": list(conditions)}))


def refusal(document: Any) -> ClientError:
    with pytest.raises(ClientError) as refused:
        post_policy.decode(encode(document))
    return refused.value


def failure(
    decoded: post_policy.PostPolicy, fields: dict[str, str], bucket: str = "photos"
) -> str | None:
    """The message ``check`` refuses the form with (None: it passes)."""
    try:
        post_policy.check(decoded, fields, list(fields), bucket, NOW)
    except ClientError as error:
        refused = error
    else:
        return None
    assert (refused.code, refused.status) == ("AccessDenied", 403)
    return refused.message


class TestDecode:
    def test_aws_example(self) -> None:
        """AWS's example policy decodes: simple conditions are ``eq`` on ``$name``."""
        decoded = post_policy.decode(AWS_EXAMPLE)
        assert decoded.expiration == datetime(2015, 12, 30, 12, 0, tzinfo=UTC)
        first, second = decoded.conditions[:2]
        assert (first.op, first.field, first.value) == ("eq", "$bucket", "sigv4examplebucket")
        assert second.text == '["starts-with", "$key", "user/user1/"]'
        assert len(decoded.conditions) == 11

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            ("not json", "Invalid Policy: Invalid JSON."),
            ([1, 2], "Invalid Policy: Invalid JSON."),
            ({"conditions": []}, "Invalid Policy: Policy missing expiration."),
            ({"expiration": LATER}, "Invalid Policy: Policy missing conditions."),
            (
                {"expiration": LATER, "conditions": [], "Statement": []},
                "Invalid Policy: Unexpected: 'statement'",
            ),
            ({"EXPIRATION": LATER, "conditions": []}, "Invalid Policy: Unexpected: 'expiration'"),
            (
                {"expiration": "2026-12-01 13:00:00 UTC", "conditions": []},
                "Invalid Policy: Invalid 'expiration' value: '2026-12-01 13:00:00 UTC'",
            ),
            (
                {"expiration": LATER, "conditions": {}},
                "Invalid Policy: Invalid 'conditions' value: must be a List.",
            ),
            (
                {"expiration": LATER, "conditions": [{}]},
                "Invalid Policy: Invalid Simple-Condition: "
                "Simple-Conditions must have exactly one property specified.",
            ),
            (
                {"expiration": LATER, "conditions": [{"a": "1", "b": "2"}]},
                "Invalid Policy: Invalid "
                "Simple-Condition: Simple-Conditions must have exactly one property specified.",
            ),
            (
                {"expiration": LATER, "conditions": [{"Content-Length": 6199034}]},
                "Invalid Policy: Invalid Simple-Condition: value must be a string.",
            ),
            (
                {"expiration": LATER, "conditions": [{"success_action_redirect": None}]},
                "Invalid Policy: Invalid JSON.",
            ),
            (
                {"expiration": LATER, "conditions": [[]]},
                "Invalid Policy: Invalid Condition: missing operation identifier.",
            ),
            (
                {"expiration": LATER, "conditions": [["ends-with", "$key", "x"]]},
                "Invalid Policy: Invalid Condition: unknown operation 'ends-with'.",
            ),
            (
                {"expiration": LATER, "conditions": [["eq", "$key"]]},
                "Invalid Policy: Invalid eq: wrong number of arguments.",
            ),
            (
                {"expiration": LATER, "conditions": ["key"]},
                "Invalid Policy: Invalid condition test: must be a List or Object.",
            ),
            (
                {"expiration": LATER, "conditions": [["content-length-range", 0, 512.0]]},
                "Invalid Policy: Invalid JSON.",
            ),
            (
                {"expiration": LATER, "conditions": [["content-length-range", 0]]},
                "Invalid Policy: Invalid content-length-range: wrong number of arguments.",
            ),
        ],
    )
    def test_unreadable_policies(self, document: Any, message: str) -> None:
        """A policy S3 cannot read is InvalidPolicyDocument (400) saying why."""
        error = refusal(document)
        assert (error.code, error.status, error.message) == ("InvalidPolicyDocument", 400, message)

    def test_not_base64(self) -> None:
        """A policy field that is not base64 is InvalidPolicyDocument."""
        with pytest.raises(ClientError) as refused:
            post_policy.decode("not base64!")
        assert refused.value.message == "Invalid Policy: invalid Base64 encoding."

    def test_escapes_beyond_json(self) -> None:
        """``\\$`` is a dollar and ``\\v`` a vertical tab, as the policy language allows;
        ``\\\\$`` stays a backslash before a dollar."""
        text = '{"expiration": "' + LATER + '", "conditions": [["eq", "$key", "a\\$b\\v"], '
        text += '["starts-with", "$x-amz-meta-a", "\\\\$foo"]]}'
        decoded = post_policy.decode(encode(text))
        assert [cond.value for cond in decoded.conditions] == ["a$b\v", "\\$foo"]

    def test_milliseconds_in_expiration(self) -> None:
        """``2026-12-01T13:00:00.000Z`` and ``…:00Z`` are both read."""
        assert policy(expiration="2026-12-01T13:00:00.000Z").expiration == policy().expiration


class TestConditions:
    def test_exact_and_starts_with(self) -> None:
        """``{"f": v}`` and ``["eq", "$f", v]`` need the value exactly (case counts);
        ``starts-with`` a prefix; a failure names the condition as S3 prints it."""
        decoded = policy({"acl": "private"}, ["starts-with", "$key", "user/"])
        assert failure(decoded, {"acl": "private", "key": "user/a"}) is None
        assert failure(decoded, {"acl": "Private", "key": "user/a"}) == (
            'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]'
        )
        assert failure(decoded, {"acl": "private", "key": "other/a"}) == (
            'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]'
        )

    def test_names_in_any_case(self) -> None:
        """Field names in conditions and operators are matched in any case."""
        decoded = policy(["StArTs-WiTh", "$CoNtEnT-TyPe", "text/"], {"X-Amz-Meta-Tag": "a"})
        assert failure(decoded, {"content-type": "text/plain", "x-amz-meta-tag": "a"}) is None

    def test_empty_prefix_needs_the_field(self) -> None:
        """``starts-with ""`` admits any value, but the field must be sent."""
        decoded = policy(["starts-with", "$success_action_redirect", ""])
        assert failure(decoded, {"success_action_redirect": "https://x.test/"}) is None
        assert failure(decoded, {}) is not None

    def test_content_type_lists(self) -> None:
        """A Content-Type ``starts-with`` judges each item of a comma-separated value; other
        fields are plain strings."""
        decoded = policy(["starts-with", "$Content-Type", "image/"])
        assert failure(decoded, {"content-type": "image/jpg,image/png, image/gif"}) is None
        assert failure(decoded, {"content-type": "image/jpg,text/plain"}) is not None
        meta = policy(["starts-with", "$x-amz-meta-a", "x"])
        assert failure(meta, {"x-amz-meta-a": "x1,y2"}) is None

    def test_bucket_is_the_bucket_posted_to(self) -> None:
        """``bucket`` is judged against the bucket the form was posted to, not a field."""
        decoded = policy({"bucket": "photos"})
        assert failure(decoded, {}, bucket="photos") is None
        assert failure(decoded, {"bucket": "photos"}, bucket="other") == (
            'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "photos"]'
        )

    def test_a_name_without_dollar_fails(self) -> None:
        """``["eq", "key", v]`` (no ``$``) never holds."""
        assert failure(policy(["eq", "key", "k"]), {"key": "k"}) is not None

    def test_extra_fields(self) -> None:
        """Every field sent needs a condition naming it, except the signature, the file,
        the policy and ``x-ignore-*``; all the others are listed as sent."""
        decoded = policy({"key": "k"})
        exempt = {
            "key": "k",
            "Policy": "p",
            "X-Amz-Signature": "s",
            "signature": "s",
            "AWSAccessKeyId": "a",
            "x-ignore-me": "1",
        }
        assert failure(decoded, exempt) is None
        assert failure(decoded, {"key": "k", "Filename": "a", "zeta": "z"}) == (
            "Invalid according to Policy: Extra input fields: Filename, zeta"
        )

    def test_expired(self) -> None:
        """Past its expiration the policy is AccessDenied, whatever its conditions."""
        decoded = policy(expiration="2026-12-01T11:59:59Z")
        assert failure(decoded, {}) == "Invalid according to Policy: Policy expired."


class TestSize:
    def test_range_is_inclusive(self) -> None:
        """Sizes from the lower to the upper bound pass; outside, EntityTooSmall or
        EntityTooLarge (400) with the proposed size and the bound."""
        decoded = policy(["content-length-range", 5, 10])
        post_policy.check_size(decoded, 5)
        post_policy.check_size(decoded, 10)
        with pytest.raises(ClientError) as large:
            post_policy.check_size(decoded, 12)
        assert (large.value.code, large.value.status) == ("EntityTooLarge", 400)
        assert large.value.details == (("ProposedSize", "12"), ("MaxSizeAllowed", "10"))
        with pytest.raises(ClientError) as small:
            post_policy.check_size(decoded, 1)
        assert (
            small.value.message == "Your proposed upload is smaller than the minimum allowed size"
        )
        assert small.value.details == (("ProposedSize", "1"), ("MinSizeAllowed", "5"))

    def test_bounds_as_strings(self) -> None:
        """Bounds may be numeric strings; a bound that is not a number fails the condition;
        a negative one is refused."""
        assert policy(["content-length-range", "5", "10"]).size_range() == (5, 10)
        assert failure(policy(["content-length-range", "test", "10"]), {}) == (
            'Invalid according to Policy: Policy Condition failed: ["content-length-range", '
            '"test", "10"]'
        )
        assert refusal({"expiration": LATER, "conditions": [["content-length-range", -1, 0]]})

    def test_no_range(self) -> None:
        """Without a range any size passes."""
        post_policy.check_size(policy(), 10**12)
        assert policy().size_range() is None
