"""Block Public Access and anonymous callers on a live server: a new bucket blocks public
policies; once that is off, a public-read policy lets unsigned requests (boto3 UNSIGNED,
a plain HTTP GET) read objects and nothing more; RestrictPublicBuckets takes that away;
GetBucketPolicyStatus says whether the policy is public."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import botocore
import pytest
from botocore.exceptions import ClientError

from tests.api.s3.conftest import code
from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}  # fmt: skip


def _named(bucket: str, arn: str) -> str:
    """The public-read policy for one principal only."""
    return _public_read(bucket).replace('"Principal": "*"', f'"Principal": {{"AWS": "{arn}"}}')


def _public_read(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]})  # fmt: skip


def _status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.fixture(autouse=True)
def unpoliced(s3: Any, bucket: str) -> Iterator[None]:
    """The test's bucket loses its policy before it is emptied and removed."""
    yield
    s3.delete_bucket_policy(Bucket=bucket)


@pytest.fixture
def anonymous(cloud: Server) -> Any:
    """An S3 client that signs nothing."""
    return cloud.client("s3", signature_version=botocore.UNSIGNED)


def _http_get(url: str) -> tuple[int, bytes]:
    """A plain GET, as a browser sends it: the status and body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (our own http URL)
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


class TestSettings:
    def test_a_new_bucket_blocks_all(self, s3: Any, bucket: str) -> None:
        """A new bucket has all four settings on (S3's default since April 2023)."""
        found = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert found == ALL_ON

    def test_put_get_delete(self, s3: Any, bucket: str) -> None:
        """PutPublicAccessBlock replaces the four settings (an omitted one is off); after
        DeletePublicAccessBlock there is none (NoSuchPublicAccessBlockConfiguration, 404)."""
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "RestrictPublicBuckets": True})  # fmt: skip
        found = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert found == {**ALL_ON, "IgnorePublicAcls": False, "BlockPublicPolicy": False}
        s3.delete_public_access_block(Bucket=bucket)
        with pytest.raises(ClientError) as none:
            s3.get_public_access_block(Bucket=bucket)
        assert (code(none), _status(none)) == ("NoSuchPublicAccessBlockConfiguration", 404)


class TestPublicPolicies:
    def test_block_public_policy_refuses_a_public_policy(
        self, s3: Any, bucket: str, cloud: Server
    ) -> None:
        """While BlockPublicPolicy is on, a public policy is AccessDenied (403) with S3's
        reason, and nothing is stored; a policy naming one user is accepted."""
        arn = cloud.client("sts").get_caller_identity()["Arn"]
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_policy(Bucket=bucket, Policy=_public_read(bucket))
        assert (code(refused), _status(refused)) == ("AccessDenied", 403)
        assert refused.value.response["Error"]["Message"] == (
            f"User: {arn} is not authorized to perform: s3:PutBucketPolicy on resource: "
            f'"arn:aws:s3:::{bucket}" because public policies are blocked by the '
            "BlockPublicPolicy block public access setting."
        )
        with pytest.raises(ClientError) as none:
            s3.get_bucket_policy(Bucket=bucket)
        assert code(none) == "NoSuchBucketPolicy"
        s3.put_bucket_policy(Bucket=bucket, Policy=_named(bucket, arn))
        assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}

    def test_policy_status(self, s3: Any, bucket: str) -> None:
        """GetBucketPolicyStatus: a public-read policy is public; one limited to a CIDR by
        aws:SourceIp is not."""
        s3.delete_public_access_block(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=_public_read(bucket))
        assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": True}
        limited = json.loads(_public_read(bucket))
        limited["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(limited))
        assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}


class TestAnonymous:
    def test_refused_without_a_policy(
        self, s3: Any, bucket: str, anonymous: Any, cloud: Server
    ) -> None:
        """Without a bucket policy an unsigned GET, listing or ListBuckets is AccessDenied
        (403, "Access Denied"), from boto3 and from a plain HTTP GET."""
        s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hi</p>")
        for call in (
            lambda: anonymous.get_object(Bucket=bucket, Key="page.html"),
            lambda: anonymous.list_objects_v2(Bucket=bucket),
            anonymous.list_buckets,
        ):
            with pytest.raises(ClientError) as refused:
                call()
            assert (code(refused), _status(refused)) == ("AccessDenied", 403)
            assert refused.value.response["Error"]["Message"] == "Access Denied"
        status, body = _http_get(f"{cloud.endpoint}/{bucket}/page.html")
        assert status == 403
        assert b"<Code>AccessDenied</Code>" in body

    def test_public_read_once_block_public_access_is_off(
        self, s3: Any, bucket: str, anonymous: Any, cloud: Server
    ) -> None:
        """With Block Public Access off and a public-read policy, an unsigned GetObject and
        HeadObject (boto3) and a plain HTTP GET read the object; an unsigned PutObject, a
        listing and a delete stay AccessDenied. RestrictPublicBuckets on again ignores the
        policy's grant to anonymous callers, not the owner's access."""
        s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hi</p>", ContentType="text/html")
        s3.delete_public_access_block(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=_public_read(bucket))
        got = anonymous.get_object(Bucket=bucket, Key="page.html")
        assert (got["Body"].read(), got["ContentType"]) == (b"<p>hi</p>", "text/html")
        assert anonymous.head_object(Bucket=bucket, Key="page.html")["ContentLength"] == 9
        assert _http_get(f"{cloud.endpoint}/{bucket}/page.html") == (200, b"<p>hi</p>")
        for call in (
            lambda: anonymous.put_object(Bucket=bucket, Key="spam", Body=b"x"),
            lambda: anonymous.list_objects_v2(Bucket=bucket),
            lambda: anonymous.delete_object(Bucket=bucket, Key="page.html"),
        ):
            with pytest.raises(ClientError) as refused:
                call()
            assert (code(refused), _status(refused)) == ("AccessDenied", 403)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True})  # fmt: skip
        with pytest.raises(ClientError) as restricted:
            anonymous.get_object(Bucket=bucket, Key="page.html")
        assert code(restricted) == "AccessDenied"
        assert _http_get(f"{cloud.endpoint}/{bucket}/page.html")[0] == 403
        assert s3.get_object(Bucket=bucket, Key="page.html")["Body"].read() == b"<p>hi</p>"

    def test_a_grant_to_one_user_does_not_admit_anonymous(
        self, s3: Any, bucket: str, anonymous: Any, cloud: Server
    ) -> None:
        """A policy granting one user (not everyone) leaves unsigned requests refused."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        arn = cloud.client("sts").get_caller_identity()["Arn"]
        s3.put_bucket_policy(Bucket=bucket, Policy=_named(bucket, arn))
        with pytest.raises(ClientError) as refused:
            anonymous.get_object(Bucket=bucket, Key="k")
        assert code(refused) == "AccessDenied"
