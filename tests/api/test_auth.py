"""SigV4 authentication and the AWS error answers around it, against a live server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.rawclient import FORM, presigned_url, send, signed
from tests.plugin.clouds import Server

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]

EC2 = {"Action": "DescribeKeyPairs", "Version": "2016-11-15"}
IAM = {"Action": "ListUsers", "Version": "2010-05-08"}


class TestSignatures:
    def test_header_auth_works(self, server: Server) -> None:
        """A request signed by botocore's signer is accepted."""
        answer = signed(server.endpoint, "ec2", EC2, server.access_key_id, server.secret)
        assert answer.status == 200, answer.body
        assert "<DescribeKeyPairsResponse" in answer.body

    def test_unsigned(self, server: Server) -> None:
        """An unsigned request is refused with MissingAuthenticationToken."""
        answer = send(
            server.endpoint + "/",
            b"Action=DescribeKeyPairs&Version=2016-11-15",
            {"Content-Type": FORM},
        )
        assert (answer.status, answer.code) == (403, "MissingAuthenticationToken")

    @pytest.mark.parametrize(
        ("service", "params", "status", "code"),
        [
            ("ec2", EC2, 401, "AuthFailure"),
            ("iam", IAM, 403, "InvalidClientTokenId"),
            (
                "sts",
                {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                403,
                "InvalidClientTokenId",
            ),
        ],
    )
    def test_unknown_key(
        self, server: Server, service: str, params: dict[str, str], status: int, code: str
    ) -> None:
        """An access key nobody has is refused with each service's code."""
        answer = signed(server.endpoint, service, params, "AKIANOBODYHASTHISKEY", "x" * 40)
        assert (answer.status, answer.code) == (status, code)

    @pytest.mark.parametrize(
        ("service", "params", "status", "code"),
        [
            ("ec2", EC2, 401, "AuthFailure"),
            ("iam", IAM, 403, "SignatureDoesNotMatch"),
        ],
    )
    def test_wrong_secret(
        self, server: Server, service: str, params: dict[str, str], status: int, code: str
    ) -> None:
        """The right key with the wrong secret is refused with each service's code."""
        answer = signed(server.endpoint, service, params, server.access_key_id, "y" * 40)
        assert (answer.status, answer.code) == (status, code)

    @pytest.mark.parametrize("minutes", [16, -16])
    def test_clock_skew(self, server: Server, minutes: int) -> None:
        """More than 15 minutes of clock skew either way is RequestExpired."""
        at = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
        answer = signed(server.endpoint, "ec2", EC2, server.access_key_id, server.secret, at=at)
        assert answer.code == "RequestExpired"

    def test_small_skew_is_fine(self, server: Server) -> None:
        """Fourteen minutes of skew is still accepted."""
        at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=14)
        answer = signed(server.endpoint, "ec2", EC2, server.access_key_id, server.secret, at=at)
        assert answer.status == 200

    def test_presigned_url(self, server: Server) -> None:
        """A presigned query-string URL is accepted until it expires."""
        url = presigned_url(server.endpoint, "ec2", EC2, server.access_key_id, server.secret)
        assert send(url, None, {}, method="GET").status == 200
        old = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
        url = presigned_url(
            server.endpoint, "ec2", EC2, server.access_key_id, server.secret, expires=60, at=old
        )
        answer = send(url, None, {}, method="GET")
        assert answer.code == "RequestExpired"

    def test_tampered_presigned_url(self, server: Server) -> None:
        """Changing a presigned URL's parameters breaks its signature."""
        url = presigned_url(server.endpoint, "ec2", EC2, server.access_key_id, server.secret)
        answer = send(url.replace("DescribeKeyPairs", "DescribeVpcs"), None, {}, method="GET")
        assert answer.code == "AuthFailure"


class TestAccessKeyLifecycle:
    def test_inactive_and_deleted_keys_stop_at_once(self, server: Server, iam: Any) -> None:
        """A key made Inactive, or deleted, is refused on the very next request."""
        iam.create_user(UserName="keyholder")
        iam.attach_user_policy(
            UserName="keyholder", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
        )
        key = iam.create_access_key(UserName="keyholder")["AccessKey"]
        ec2 = server.client("ec2", key["AccessKeyId"], key["SecretAccessKey"])
        ec2.describe_key_pairs()
        iam.update_access_key(
            UserName="keyholder", AccessKeyId=key["AccessKeyId"], Status="Inactive"
        )
        with pytest.raises(ClientError) as info:
            ec2.describe_key_pairs()
        assert info.value.response["Error"]["Code"] == "AuthFailure"
        iam.update_access_key(UserName="keyholder", AccessKeyId=key["AccessKeyId"], Status="Active")
        ec2.describe_key_pairs()
        iam.delete_access_key(UserName="keyholder", AccessKeyId=key["AccessKeyId"])
        with pytest.raises(ClientError) as info:
            ec2.describe_key_pairs()
        assert info.value.response["Error"]["Code"] == "AuthFailure"


class TestMalformedRequests:
    def test_unknown_action(self, server: Server) -> None:
        """A signed request for an action that does not exist is InvalidAction."""
        answer = signed(
            server.endpoint,
            "ec2",
            {"Action": "LaunchRockets", "Version": "2016-11-15"},
            server.access_key_id,
            server.secret,
        )
        assert (answer.status, answer.code) == (400, "InvalidAction")

    def test_missing_parameter(self, server: Server) -> None:
        """A missing required parameter is MissingParameter, naming it."""
        answer = signed(
            server.endpoint,
            "ec2",
            {"Action": "CreateKeyPair", "Version": "2016-11-15"},
            server.access_key_id,
            server.secret,
        )
        assert (answer.status, answer.code) == (400, "MissingParameter")
        assert "KeyName" in answer.body

    def test_bad_integer(self, server: Server) -> None:
        """A parameter of the wrong type is InvalidParameterValue."""
        params = {"Action": "DescribeSecurityGroups", "Version": "2016-11-15", "MaxResults": "many"}
        answer = signed(server.endpoint, "ec2", params, server.access_key_id, server.secret)
        assert (answer.status, answer.code) == (400, "InvalidParameterValue")

    def test_bad_encoding(self, server: Server) -> None:
        """A body that is not UTF-8 gets a 4xx AWS error, not a 500."""
        answer = send(
            server.endpoint + "/", b"Action=%FF%FE&Version=2016-11-15", {"Content-Type": FORM}
        )
        assert 400 <= answer.status < 500
        assert "<Response><Errors><Error>" in answer.body

    def test_huge_body(self, server: Server) -> None:
        """A body over the limit gets a 413 AWS error."""
        answer = send(
            server.endpoint + "/",
            b"Action=DescribeVpcs&X=" + b"a" * (2 * 1024 * 1024),
            {"Content-Type": FORM},
        )
        assert answer.status == 413
        assert answer.code == "RequestEntityTooLarge"

    def test_request_ids_are_unique(self, server: Server) -> None:
        """Every answer carries its own request id."""
        ids = set()
        for _ in range(5):
            answer = signed(server.endpoint, "ec2", EC2, server.access_key_id, server.secret)
            start = answer.body.index("<requestId>") + len("<requestId>")
            ids.add(answer.body[start : answer.body.index("</requestId>")])
        assert len(ids) == 5
