"""Object Ownership and ACLs on a live server: ACLs are disabled (BucketOwnerEnforced, a
new bucket's setting), so a read of an ACL answers the owner's FULL_CONTROL and a write
may only restate it; the ownership controls themselves are put, read and deleted."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.s3.conftest import code

pytestmark = pytest.mark.shared_cloud


def _status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _owner_grants(acl: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(g["Grantee"]["Type"], g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]]


class TestControls:
    def test_put_get_delete(self, s3: Any, bucket: str) -> None:
        """A new bucket is BucketOwnerEnforced; PutBucketOwnershipControls changes it;
        after DeleteBucketOwnershipControls there are none (OwnershipControlsNotFoundError,
        404)."""
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})  # fmt: skip
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
        s3.delete_bucket_ownership_controls(Bucket=bucket)
        with pytest.raises(ClientError) as none:
            s3.get_bucket_ownership_controls(Bucket=bucket)
        assert (code(none), _status(none)) == ("OwnershipControlsNotFoundError", 404)

    def test_create_bucket_with_an_ownership(self, s3: Any, request: pytest.FixtureRequest) -> None:
        """CreateBucket's ObjectOwnership is the new bucket's setting."""
        name = "own-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
        s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
        try:
            found = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]
            assert found["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
        finally:
            s3.delete_bucket(Bucket=name)

    def test_create_bucket_with_a_public_acl(self, s3: Any, request: pytest.FixtureRequest) -> None:
        """CreateBucket with a public ACL and ACLs disabled is
        InvalidBucketAclWithObjectOwnership (400), and no bucket is made; with the
        private ACL it is made."""
        name = "acl-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
        with pytest.raises(ClientError) as refused:
            s3.create_bucket(Bucket=name, ACL="public-read")
        assert (code(refused), _status(refused)) == ("InvalidBucketAclWithObjectOwnership", 400)
        assert refused.value.response["Error"]["Message"] == (
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        )
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        s3.create_bucket(Bucket=name, ACL="private")
        s3.delete_bucket(Bucket=name)


class TestAcls:
    def test_reads_answer_the_owners_full_control(self, s3: Any, bucket: str) -> None:
        """GetBucketAcl and GetObjectAcl answer one grant: the owner's FULL_CONTROL; an
        object's ACL needs the object (NoSuchKey)."""
        owner = s3.list_buckets()["Owner"]["ID"]
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        for acl in (s3.get_bucket_acl(Bucket=bucket), s3.get_object_acl(Bucket=bucket, Key="k")):
            assert acl["Owner"]["ID"] == owner
            assert _owner_grants(acl) == [("CanonicalUser", owner, "FULL_CONTROL")]
        with pytest.raises(ClientError) as missing:
            s3.get_object_acl(Bucket=bucket, Key="nothing")
        assert code(missing) == "NoSuchKey"

    def test_writes_that_grant_more_are_refused(self, s3: Any, bucket: str) -> None:
        """A public canned ACL or any x-amz-grant-* header on PutObject, CopyObject,
        CreateMultipartUpload, PutObjectAcl and PutBucketAcl is AccessControlListNotSupported
        (400, "The bucket does not allow ACLs"), and no object is written."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        grantee = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
        writes: list[Callable[[], object]] = [
            lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"x", ACL="public-read"),
            lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"x", GrantRead=grantee),
            lambda: s3.copy_object(
                Bucket=bucket, Key="p", CopySource=f"{bucket}/k", ACL="public-read"
            ),
            lambda: s3.create_multipart_upload(Bucket=bucket, Key="p", ACL="authenticated-read"),
            lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read"),
            lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write"),
        ]
        for write in writes:
            with pytest.raises(ClientError) as refused:
                write()
            assert (code(refused), _status(refused)) == ("AccessControlListNotSupported", 400)
            assert refused.value.response["Error"]["Message"] == "The bucket does not allow ACLs"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    def test_writes_that_restate_the_owner_are_accepted(self, s3: Any, bucket: str) -> None:
        """bucket-owner-full-control and private are accepted, and so is an
        AccessControlPolicy granting only the owner FULL_CONTROL (what GetBucketAcl says)."""
        s3.put_object(Bucket=bucket, Key="a", Body=b"x", ACL="bucket-owner-full-control")
        s3.put_object(Bucket=bucket, Key="b", Body=b"x", ACL="private")
        s3.put_object_acl(Bucket=bucket, Key="a", ACL="private")
        s3.put_bucket_acl(Bucket=bucket, ACL="private")
        acl = s3.get_bucket_acl(Bucket=bucket)
        del acl["ResponseMetadata"]
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=acl)
        acl["Grants"].append({"Grantee": {"Type": "Group",
                              "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                              "Permission": "READ"})  # fmt: skip
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=acl)
        assert code(refused) == "AccessControlListNotSupported"

    def test_other_ownership_settings_do_not_implement_acls(self, s3: Any, bucket: str) -> None:
        """With ACLs enabled (ObjectWriter) a public ACL is NotImplemented (501): pocketcloud
        has no ACLs, and says so rather than storing a grant it would not enforce."""
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]})  # fmt: skip
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
        assert (code(refused), _status(refused)) == ("NotImplemented", 501)
