"""Bucket policies on a live server: Put/Get/DeleteBucketPolicy and their errors, and how
a bucket policy and a user's own policies decide S3 calls together (a user named by the
policy needs no policy of its own; a Deny in either wins; a grant to the account alone
does not allow; conditions on the source address and the listed prefix)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.s3.conftest import code
from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud

Doc = dict[str, Any]
MakeUser = Callable[[str, Doc | None], tuple[str, Any]]


def _policy(*statements: Doc) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _grant(principal: str, action: str, resource: str, **extra: Any) -> Doc:
    """An Allow statement for one AWS principal (or ``*``, everyone)."""
    who: Any = principal if principal == "*" else {"AWS": principal}
    return {"Effect": "Allow", "Principal": who, "Action": action, "Resource": resource, **extra}


def _status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.fixture(autouse=True)
def unpoliced(s3: Any, bucket: str) -> Iterator[None]:
    """The test's bucket loses its policy before it is emptied and removed."""
    yield
    s3.delete_bucket_policy(Bucket=bucket)


@pytest.fixture
def account(cloud: Server) -> str:
    return str(cloud.client("sts").get_caller_identity()["Account"])


@pytest.fixture
def make_user(cloud: Server, request: pytest.FixtureRequest) -> MakeUser:
    """A new IAM user (named after the test) with an optional inline policy: its ARN and
    an S3 client signing as it."""
    iam: Any = cloud.client("iam")

    def make(suffix: str, identity: Doc | None) -> tuple[str, Any]:
        name = f"bp-{hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]}-{suffix}"
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        if identity is not None:
            doc = json.dumps({"Version": "2012-10-17", "Statement": [identity]})
            iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=doc)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return arn, cloud.client("s3", key["AccessKeyId"], key["SecretAccessKey"])

    return make


class TestDocument:
    def test_put_get_delete(self, s3: Any, bucket: str, account: str) -> None:
        """A bucket has no policy (NoSuchBucketPolicy, 404) until one is put; GetBucketPolicy
        answers the document as put; DeleteBucketPolicy removes it, and deleting none is
        no error."""
        with pytest.raises(ClientError) as none:
            s3.get_bucket_policy(Bucket=bucket)
        assert (code(none), _status(none)) == ("NoSuchBucketPolicy", 404)
        assert none.value.response["Error"]["Message"] == "The bucket policy does not exist"
        document = _policy(_grant(f"arn:aws:iam::{account}:root", "s3:GetObject",
                                  f"arn:aws:s3:::{bucket}/*", Sid="ro"))  # fmt: skip
        answer = s3.put_bucket_policy(Bucket=bucket, Policy=document)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == document
        s3.delete_bucket_policy(Bucket=bucket)
        with pytest.raises(ClientError) as gone:
            s3.get_bucket_policy(Bucket=bucket)
        assert code(gone) == "NoSuchBucketPolicy"
        s3.delete_bucket_policy(Bucket=bucket)
        with pytest.raises(ClientError) as status:
            s3.get_bucket_policy_status(Bucket=bucket)
        assert code(status) == "NoSuchBucketPolicy"

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            ("not json", "Policies must be valid JSON and the first byte must be '{'"),
            (
                _policy(_grant("bob", "s3:GetObject", "arn:aws:s3:::b/*")),
                "Invalid principal in policy",
            ),
            (
                _policy(_grant("*", "s3:GetObject", "arn:aws:s3:::somebody-elses/*")),
                "Policy has invalid resource",
            ),
            (_policy(_grant("*", "ec2:RunInstances", "*")), "Policy has invalid action"),
        ],
    )
    def test_malformed(self, s3: Any, bucket: str, document: str, message: str) -> None:
        """An invalid document is MalformedPolicy (400) with S3's reason, and nothing is kept:
        not JSON, a principal that is no ARN or account, a resource outside the bucket, an
        action of another service."""
        document = document.replace("arn:aws:s3:::b/", f"arn:aws:s3:::{bucket}/")
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_policy(Bucket=bucket, Policy=document)
        assert (code(refused), _status(refused)) == ("MalformedPolicy", 400)
        assert refused.value.response["Error"]["Message"] == message
        with pytest.raises(ClientError) as none:
            s3.get_bucket_policy(Bucket=bucket)
        assert code(none) == "NoSuchBucketPolicy"

    def test_through_the_cli(self, cloud: Server, bucket: str, account: str) -> None:
        """`aws s3api put-bucket-policy` stores a document `get-bucket-policy` gives back."""
        document = _policy(_grant(account, "s3:ListBucket", f"arn:aws:s3:::{bucket}"))
        cloud.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", document)
        answer = cloud.aws("s3api", "get-bucket-policy", "--bucket", bucket)
        assert json.loads(answer["Policy"]) == json.loads(document)


class TestDecisions:
    def test_a_named_user_needs_no_policy_of_its_own(
        self, s3: Any, bucket: str, make_user: MakeUser
    ) -> None:
        """A user without any policy reads what a bucket policy naming its ARN allows, and
        nothing else: the rest is AccessDenied because no identity-based policy allows it."""
        s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"shared")
        arn, user = make_user("reader", None)
        with pytest.raises(ClientError) as before:
            user.get_object(Bucket=bucket, Key="doc.txt")
        assert code(before) == "AccessDenied"
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
            {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/*"}))  # fmt: skip
        assert user.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"shared"
        with pytest.raises(ClientError) as write:
            user.put_object(Bucket=bucket, Key="new.txt", Body=b"x")
        assert (code(write), _status(write)) == ("AccessDenied", 403)
        assert write.value.response["Error"]["Message"] == (
            f"User: {arn} is not authorized to perform: s3:PutObject on resource: "
            f'"arn:aws:s3:::{bucket}/new.txt" because no identity-based policy allows the '
            "s3:PutObject action"
        )

    def test_a_bucket_deny_beats_an_identity_allow(
        self, s3: Any, bucket: str, make_user: MakeUser
    ) -> None:
        """A user whose own policy allows s3:* is refused what the bucket policy denies it,
        with the explicit deny in a resource-based policy named; the rest stays allowed."""
        s3.put_object(Bucket=bucket, Key="secret", Body=b"x")
        arn, user = make_user("admin", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
            {"Effect": "Deny", "Principal": {"AWS": arn}, "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/*"}))  # fmt: skip
        with pytest.raises(ClientError) as denied:
            user.get_object(Bucket=bucket, Key="secret")
        assert (code(denied), _status(denied)) == ("AccessDenied", 403)
        assert denied.value.response["Error"]["Message"] == (
            f"User: {arn} is not authorized to perform: s3:GetObject on resource: "
            f'"arn:aws:s3:::{bucket}/secret" with an explicit deny in a resource-based policy'
        )
        assert user.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
        assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"x"

    @pytest.mark.parametrize(("cidr", "allowed"), [("127.0.0.1/32", True), ("10.0.0.0/8", False)])
    def test_source_ip(
        self, s3: Any, bucket: str, make_user: MakeUser, cidr: str, allowed: bool
    ) -> None:
        """A grant conditioned on aws:SourceIp lets the user in from this machine (127.0.0.1)
        only when the CIDR holds that address."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        arn, user = make_user("ip", None)
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
            {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/*",
             "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}))  # fmt: skip
        if allowed:
            assert user.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
            return
        with pytest.raises(ClientError) as refused:
            user.get_object(Bucket=bucket, Key="k")
        assert code(refused) == "AccessDenied"

    def test_listing_prefix(self, s3: Any, bucket: str, make_user: MakeUser) -> None:
        """s3:prefix is the Prefix a listing asks for: a grant of s3:ListBucket for
        prefix "public/" lists that prefix, and neither another one nor the whole bucket."""
        for key in ("public/a", "private/b"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        arn, user = make_user("lister", None)
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
            {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:ListBucket",
             "Resource": f"arn:aws:s3:::{bucket}",
             "Condition": {"StringEquals": {"s3:prefix": "public/"}}}))  # fmt: skip
        listed = user.list_objects_v2(Bucket=bucket, Prefix="public/")
        assert [item["Key"] for item in listed["Contents"]] == ["public/a"]
        for refused_call in (
            lambda: user.list_objects_v2(Bucket=bucket, Prefix="private/"),
            lambda: user.list_objects_v2(Bucket=bucket),
        ):
            with pytest.raises(ClientError) as refused:
                refused_call()
            assert code(refused) == "AccessDenied"

    @pytest.mark.parametrize("form", ["root", "id"])
    def test_the_account_alone_does_not_allow(
        self, s3: Any, bucket: str, make_user: MakeUser, account: str, form: str
    ) -> None:
        """A grant to the account (its root ARN or its id) leaves the decision to the user's
        own policies: a user without one is refused, a user whose policy allows reads."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        principal = f"arn:aws:iam::{account}:root" if form == "root" else account
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/*"}))  # fmt: skip
        _, bare = make_user("bare", None)
        with pytest.raises(ClientError) as refused:
            bare.get_object(Bucket=bucket, Key="k")
        assert code(refused) == "AccessDenied"
        own = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        _, allowed = make_user("own", own)
        assert allowed.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"

    def test_delete_objects_key_by_key(self, s3: Any, bucket: str, make_user: MakeUser) -> None:
        """DeleteObjects asks the bucket policy for each key: a user granted s3:DeleteObject
        on tmp/* by the policy alone deletes those keys; the others come back AccessDenied."""
        for key in ("tmp/a", "keep/b"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        arn, user = make_user("cleaner", None)
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
            {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:DeleteObject",
             "Resource": f"arn:aws:s3:::{bucket}/tmp/*"}))  # fmt: skip
        answer = user.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "keep/b"}]}
        )
        assert [d["Key"] for d in answer["Deleted"]] == ["tmp/a"]
        assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("keep/b", "AccessDenied")]
