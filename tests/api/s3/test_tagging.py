"""Tags on a live server: a bucket's tag set, an object's (at PUT with x-amz-tagging, and
on its own), S3's rules for them, and tags kept by a copy."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.s3.conftest import code

pytestmark = pytest.mark.shared_cloud


def test_bucket_tags(s3: Any, bucket: str) -> None:
    """A bucket has no tag set (NoSuchTagSet) until one is put; delete takes it away."""
    with pytest.raises(ClientError) as none:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(none) == "NoSuchTagSet"
    tag_set = [{"Key": "team", "Value": "web"}, {"Key": "env", "Value": ""}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set})
    tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", ""), ("team", "web")]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(gone) == "NoSuchTagSet"


def test_object_tags(s3: Any, bucket: str) -> None:
    """Tags given at PUT (x-amz-tagging) come back, are counted on GET, replaced by
    PutObjectTagging, removed by DeleteObjectTagging, and kept by a copy."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="color=blue&size=L%20XL")
    tags = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("color", "blue"), ("size", "L XL")]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/k")
    assert len(s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"]) == 2
    s3.put_object_tagging(Bucket=bucket, Key="k",
                          Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})  # fmt: skip
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "only", "Value": "one"}
    ]
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


@pytest.mark.parametrize(
    "tag_set",
    [
        [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
        [{"Key": "aws:reserved", "Value": "x"}],
        [{"Key": "k" * 129, "Value": "x"}],
        [{"Key": f"k{i}", "Value": "v"} for i in range(11)],
    ],
)
def test_tag_rules(s3: Any, bucket: str, tag_set: list[dict[str, str]]) -> None:
    """Duplicate keys, the aws: prefix, a key over 128 characters and more than 10 tags on
    an object are InvalidTag, and the object's tags stay as they were."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=me")
    with pytest.raises(ClientError) as refused:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tag_set})
    assert code(refused) == "InvalidTag"
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "keep", "Value": "me"}
    ]
