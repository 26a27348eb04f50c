"""IAM decides S3 calls with S3's actions and ARNs: a user allowed to read one bucket's
``public/`` prefix reads there and nowhere else, and cannot write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pc-iam/public/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::pc-iam"},
    ],
}


def test_a_reader_of_one_prefix(cloud: Server) -> None:
    """HeadObject is s3:GetObject, ListObjectsV2 s3:ListBucket on the bucket's ARN; a key
    outside public/, a PUT, a DELETE and ListBuckets are AccessDenied (403) with the
    action and resource named. A PUT refused before its body was sent (the client waited
    for 100 Continue) leaves the connection usable: the next call is answered, not 400."""
    admin: Any = cloud.client("s3")
    admin.create_bucket(Bucket="pc-iam")
    admin.put_object(Bucket="pc-iam", Key="public/a.txt", Body=b"open")
    admin.put_object(Bucket="pc-iam", Key="private/b.txt", Body=b"closed")
    iam: Any = cloud.client("iam")
    iam.create_user(UserName="s3-reader")
    iam.put_user_policy(UserName="s3-reader", PolicyName="read-public",
                        PolicyDocument=json.dumps(POLICY))  # fmt: skip
    key = iam.create_access_key(UserName="s3-reader")["AccessKey"]
    reader: Any = cloud.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    assert reader.get_object(Bucket="pc-iam", Key="public/a.txt")["Body"].read() == b"open"
    assert reader.head_object(Bucket="pc-iam", Key="public/a.txt")["ContentLength"] == 4
    assert reader.list_objects_v2(Bucket="pc-iam")["KeyCount"] == 2
    denied = [
        lambda: reader.get_object(Bucket="pc-iam", Key="private/b.txt"),
        lambda: reader.put_object(Bucket="pc-iam", Key="public/new.txt", Body=b"x"),
        lambda: reader.delete_object(Bucket="pc-iam", Key="public/a.txt"),
        reader.list_buckets,
    ]
    for call in denied:
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as named:
        reader.put_object(Bucket="pc-iam", Key="public/new.txt", Body=b"x")
    message = named.value.response["Error"]["Message"]
    assert "s3:PutObject" in message
    assert "arn:aws:s3:::pc-iam/public/new.txt" in message
    assert admin.list_objects_v2(Bucket="pc-iam")["KeyCount"] == 2  # nothing was written


def test_delete_objects_is_decided_key_by_key(cloud: Server) -> None:
    """DeleteObjects is s3:DeleteObject for each key: a user allowed to delete under tmp/
    deletes those keys, and every other key comes back in Errors as AccessDenied, kept."""
    admin: Any = cloud.client("s3")
    admin.create_bucket(Bucket="pc-iam-bulk")
    for key in ("tmp/a", "tmp/b", "keep/c"):
        admin.put_object(Bucket="pc-iam-bulk", Key=key, Body=b"x")
    allow = {"Effect": "Allow", "Action": "s3:DeleteObject",
             "Resource": "arn:aws:s3:::pc-iam-bulk/tmp/*"}  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [allow]}
    iam: Any = cloud.client("iam")
    iam.create_user(UserName="s3-cleaner")
    iam.put_user_policy(UserName="s3-cleaner", PolicyName="tmp",
                        PolicyDocument=json.dumps(policy))  # fmt: skip
    key = iam.create_access_key(UserName="s3-cleaner")["AccessKey"]
    cleaner: Any = cloud.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    answer = cleaner.delete_objects(Bucket="pc-iam-bulk", Delete={"Objects": [
        {"Key": "tmp/a"}, {"Key": "tmp/b"}, {"Key": "keep/c"}]})  # fmt: skip
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["tmp/a", "tmp/b"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("keep/c", "AccessDenied")]
    left = [c["Key"] for c in admin.list_objects_v2(Bucket="pc-iam-bulk")["Contents"]]
    assert left == ["keep/c"]
