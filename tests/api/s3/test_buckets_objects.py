"""S3 on a live server, through boto3 and the AWS CLI unchanged: buckets, objects, listings,
and S3's errors in S3's shape."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.s3.conftest import code
from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud


class TestBuckets:
    def test_create_list_head_delete(self, s3: Any) -> None:
        """A bucket appears in ListBuckets with its creation date and the owner, answers
        HeadBucket, and is gone after DeleteBucket (HeadBucket: 404)."""
        s3.create_bucket(Bucket="pc-photos")
        listed = s3.list_buckets()
        names = [b["Name"] for b in listed["Buckets"]]
        assert "pc-photos" in names
        assert len(listed["Owner"]["ID"]) == 64
        assert s3.head_bucket(Bucket="pc-photos")["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.get_bucket_location(Bucket="pc-photos")["LocationConstraint"] is None
        s3.delete_bucket(Bucket="pc-photos")
        with pytest.raises(ClientError) as gone:
            s3.head_bucket(Bucket="pc-photos")
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    @pytest.mark.parametrize("name", ["ab", "Upper", "a..b", "192.168.1.1", "-start", "x" * 64])
    def test_bad_names_are_refused(self, s3: Any, name: str) -> None:
        """A name against S3's rules is InvalidBucketName, and no bucket is made."""
        with pytest.raises(ClientError) as refused:
            s3.create_bucket(Bucket=name)
        assert code(refused) == "InvalidBucketName"
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    def test_other_region_constraint_is_refused(self, s3: Any) -> None:
        """A LocationConstraint naming another region than the endpoint's is refused."""
        with pytest.raises(ClientError) as refused:
            s3.create_bucket(
                Bucket="pc-elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        assert code(refused) == "IllegalLocationConstraintException"

    def test_a_bucket_with_objects_is_not_deleted(self, s3: Any, bucket: str) -> None:
        """DeleteBucket of a bucket holding an object is BucketNotEmpty (409)."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        with pytest.raises(ClientError) as refused:
            s3.delete_bucket(Bucket=bucket)
        assert code(refused) == "BucketNotEmpty"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    def test_list_buckets_in_pages(self, s3: Any) -> None:
        """ListBuckets with a Prefix and MaxBuckets gives pages joined by ContinuationToken
        (boto3's paginator walks them); a token S3 did not give is InvalidArgument."""
        names = [f"paged-{n}-{secrets.token_hex(2)}" for n in range(3)]
        for name in names:
            s3.create_bucket(Bucket=name)
        try:
            first = s3.list_buckets(Prefix="paged-", MaxBuckets=2)
            assert [b["Name"] for b in first["Buckets"]] == sorted(names)[:2]
            assert first["Prefix"] == "paged-"
            rest = s3.list_buckets(
                Prefix="paged-", MaxBuckets=2, ContinuationToken=first["ContinuationToken"]
            )
            assert [b["Name"] for b in rest["Buckets"]] == sorted(names)[2:]
            assert "ContinuationToken" not in rest
            pages = s3.get_paginator("list_buckets").paginate(
                Prefix="paged-", PaginationConfig={"PageSize": 1}
            )
            assert [b["Name"] for page in pages for b in page["Buckets"]] == sorted(names)
            with pytest.raises(ClientError) as refused:
                s3.list_buckets(ContinuationToken="%%%")
            assert code(refused) == "InvalidArgument"
        finally:
            for name in names:
                s3.delete_bucket(Bucket=name)

    def test_another_signing_region(self, cloud: Server, s3: Any, bucket: str) -> None:
        """A call on a bucket signed for another region is AuthorizationHeaderMalformed
        naming the bucket's region, which boto3 follows and signs again (its call succeeds);
        a presigned URL for another region is AuthorizationQueryParametersError."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"here")
        elsewhere = boto3.client(
            "s3", endpoint_url=cloud.endpoint, region_name="eu-west-1",
            aws_access_key_id=cloud.access_key_id, aws_secret_access_key=cloud.secret,
            config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
        )  # fmt: skip
        assert elsewhere.get_object(Bucket=bucket, Key="k")["Body"].read() == b"here"
        url = elsewhere.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)  # noqa: S310 (http to the test server)
        body = refused.value.read().decode()
        assert refused.value.code == 400
        assert "<Code>AuthorizationQueryParametersError</Code>" in body
        assert "<Region>us-east-1</Region>" in body

    def test_missing_bucket(self, s3: Any) -> None:
        """Calls on a bucket that does not exist are NoSuchBucket."""
        with pytest.raises(ClientError) as missing:
            s3.list_objects_v2(Bucket="pc-no-such-bucket")
        assert code(missing) == "NoSuchBucket"
        with pytest.raises(ClientError) as missing:
            s3.put_object(Bucket="pc-no-such-bucket", Key="k", Body=b"x")
        assert code(missing) == "NoSuchBucket"


class TestObjects:
    def test_put_get_head_delete(self, s3: Any, bucket: str) -> None:
        """An object comes back byte for byte with its ETag (the MD5), type, metadata and
        headers; HeadObject says the same without the body; after DeleteObject, NoSuchKey."""
        body = b"hello, bucket\n" * 1000
        put = s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=body,
                            ContentType="text/plain", Metadata={"owner": "kim"},
                            CacheControl="max-age=60", ContentDisposition="inline")  # fmt: skip
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        assert put["ETag"] == etag
        got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
        assert got["Body"].read() == body
        assert (got["ETag"], got["ContentType"], got["ContentLength"]) == (
            etag,
            "text/plain",
            len(body),
        )
        assert got["Metadata"] == {"owner": "kim"}
        assert (got["CacheControl"], got["ContentDisposition"]) == ("max-age=60", "inline")
        head = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
        assert (head["ContentLength"], head["ETag"]) == (len(body), etag)
        s3.delete_object(Bucket=bucket, Key="dir/hello.txt")
        with pytest.raises(ClientError) as gone:
            s3.get_object(Bucket=bucket, Key="dir/hello.txt")
        assert code(gone) == "NoSuchKey"

    def test_keys_are_kept_exactly(self, s3: Any, bucket: str) -> None:
        """Keys with spaces, unicode, '+', '%' and '//' are stored and listed as given."""
        keys = ["a b/c+d.txt", "한글/파일.txt", "100%/x", "double//slash", "q?x=1&y"]
        for key in keys:
            s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        listed = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert listed == sorted(keys, key=lambda k: k.encode())
        for key in keys:
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()

    def test_overwrite_replaces(self, s3: Any, bucket: str) -> None:
        """A second PUT of a key replaces the object."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"one")
        s3.put_object(Bucket=bucket, Key="k", Body=b"two!")
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two!"
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1

    def test_ranges(self, s3: Any, bucket: str) -> None:
        """Range GETs answer 206 with Content-Range; a range past the end is InvalidRange."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
        part = s3.get_object(Bucket=bucket, Key="k", Range="bytes=2-5")
        assert part["Body"].read() == b"2345"
        assert part["ContentRange"] == "bytes 2-5/10"
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=-3")["Body"].read() == b"789"
        assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=7-")["Body"].read() == b"789"
        with pytest.raises(ClientError) as refused:
            s3.get_object(Bucket=bucket, Key="k", Range="bytes=10-20")
        assert code(refused) == "InvalidRange"

    def test_a_wrong_content_md5_stores_nothing(self, s3: Any, bucket: str) -> None:
        """A body whose Content-MD5 does not match is BadDigest and nothing is stored."""
        wrong = base64.b64encode(hashlib.md5(b"other", usedforsecurity=False).digest()).decode()
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentMD5=wrong)
        assert code(refused) == "BadDigest"
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


class TestListing:
    KEYS: ClassVar[list[str]] = ["a.txt", "photos/2024/1.jpg", "photos/2024/2.jpg",
                                 "photos/2025/1.jpg", "photos/top.jpg", "z.txt"]  # fmt: skip

    @pytest.fixture
    def filled(self, s3: Any, bucket: str) -> str:
        """The bucket holding KEYS."""
        for key in self.KEYS:
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        return bucket

    def test_delimiter_rolls_up_common_prefixes(self, s3: Any, filled: str) -> None:
        """With a delimiter, keys below the next '/' are one CommonPrefix each."""
        top = s3.list_objects_v2(Bucket=filled, Delimiter="/")
        assert [c["Key"] for c in top["Contents"]] == ["a.txt", "z.txt"]
        assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["photos/"]
        inner = s3.list_objects_v2(Bucket=filled, Prefix="photos/", Delimiter="/")
        assert [c["Key"] for c in inner["Contents"]] == ["photos/top.jpg"]
        assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]

    def test_pages_cover_every_key_once(self, s3: Any, filled: str) -> None:
        """Pages of two, by continuation token, list every key once, in order."""
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=filled, PaginationConfig={"PageSize": 2}
        )
        seen = [c["Key"] for page in pages for c in page.get("Contents", [])]
        assert seen == self.KEYS

    def test_pages_with_a_delimiter(self, s3: Any, filled: str) -> None:
        """Paging with a delimiter lists each common prefix once."""
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": 1}
        )
        items = []
        for page in pages:
            items += [c["Key"] for c in page.get("Contents", [])]
            items += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert items == ["a.txt", "photos/", "z.txt"]

    def test_start_after_and_v1_marker(self, s3: Any, filled: str) -> None:
        """StartAfter (v2) and Marker (v1) list the keys after the one named."""
        after = s3.list_objects_v2(Bucket=filled, StartAfter="photos/2025/1.jpg")
        assert [c["Key"] for c in after["Contents"]] == ["photos/top.jpg", "z.txt"]
        v1 = s3.list_objects(Bucket=filled, Marker="photos/top.jpg")
        assert [c["Key"] for c in v1["Contents"]] == ["z.txt"]


class TestAwsCli:
    def test_mb_cp_ls_rm_rb(self, cloud: Server, tmp_path: Path) -> None:
        """The seed's kind of session: make a bucket, copy a file up and back, list, remove."""
        local = tmp_path / "notes.txt"
        local.write_text("from the AWS CLI\n")

        def cli(*args: str) -> str:
            done = cloud.aws("s3", *args, check=False)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
            return str(done.stdout)

        assert "make_bucket: pc-cli" in cli("mb", "s3://pc-cli")
        assert "upload:" in cli("cp", str(local), "s3://pc-cli/docs/notes.txt")
        assert "notes.txt" in cli("ls", "s3://pc-cli/docs/")
        assert "PRE docs/" in cli("ls", "s3://pc-cli/")
        back = tmp_path / "back.txt"
        cli("cp", "s3://pc-cli/docs/notes.txt", str(back))
        assert back.read_text() == "from the AWS CLI\n"
        assert "delete:" in cli("rm", "s3://pc-cli/docs/notes.txt")
        assert "remove_bucket: pc-cli" in cli("rb", "s3://pc-cli")


class TestPresigned:
    def test_presigned_get_and_put_with_plain_http(self, cloud: Server, bucket: str) -> None:
        """A presigned (SigV4) PUT URL takes a body from a client with no AWS code at all,
        and a presigned GET URL gives it back; a tampered or expired URL is refused."""
        s3 = cloud.client("s3", signature_version="s3v4")
        put_url = s3.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=300
        )
        request = urllib.request.Request(put_url, data=b"no keys needed", method="PUT")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (local)
            assert answer.status == 200
        get_url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=300
        )
        with urllib.request.urlopen(get_url, timeout=10) as answer:  # noqa: S310 (local)
            assert answer.read() == b"no keys needed"
        tampered = get_url.replace("shared.txt", "other.txt")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(tampered, timeout=10)  # noqa: S310 (local)
        assert refused.value.code == 403
        assert b"<Code>SignatureDoesNotMatch</Code>" in refused.value.read()
        expired = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=1
        )
        time.sleep(2.1)
        with pytest.raises(urllib.error.HTTPError) as late:
            urllib.request.urlopen(expired, timeout=10)  # noqa: S310 (local)
        assert late.value.code == 403
        assert b"<Message>Request has expired</Message>" in late.value.read()


class TestCopyAndBulkDelete:
    def test_copy_keeps_or_replaces_metadata(self, s3: Any, bucket: str) -> None:
        """CopyObject copies bytes and metadata (COPY); REPLACE takes the request's; a copy
        onto itself without REPLACE is refused."""
        s3.put_object(Bucket=bucket, Key="src.txt", Body=b"payload", ContentType="text/plain",
                      Metadata={"a": "1"})  # fmt: skip
        copied = s3.copy_object(Bucket=bucket, Key="dst.txt",
                                CopySource={"Bucket": bucket, "Key": "src.txt"})  # fmt: skip
        assert (
            copied["CopyObjectResult"]["ETag"]
            == s3.head_object(Bucket=bucket, Key="src.txt")["ETag"]
        )
        got = s3.get_object(Bucket=bucket, Key="dst.txt")
        assert (got["Body"].read(), got["Metadata"], got["ContentType"]) == (
            b"payload", {"a": "1"}, "text/plain",
        )  # fmt: skip
        s3.copy_object(Bucket=bucket, Key="src.txt", CopySource=f"{bucket}/src.txt",
                       MetadataDirective="REPLACE", Metadata={"b": "2"})  # fmt: skip
        assert s3.head_object(Bucket=bucket, Key="src.txt")["Metadata"] == {"b": "2"}
        with pytest.raises(ClientError) as refused:
            s3.copy_object(Bucket=bucket, Key="src.txt", CopySource=f"{bucket}/src.txt")
        assert code(refused) == "InvalidRequest"

    def test_delete_objects(self, s3: Any, bucket: str) -> None:
        """DeleteObjects removes the keys named and reports each one deleted."""
        for key in ("a", "b", "c"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
        assert sorted(d["Key"] for d in answer["Deleted"]) == ["a", "b"]
        assert [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]

    def test_cli_recursive_sync_and_rm(self, cloud: Server, bucket: str, tmp_path: Path) -> None:
        """``aws s3 sync`` uploads a tree, ``aws s3 rm --recursive`` (DeleteObjects) empties it."""
        for name in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(name)
        done = cloud.aws("s3", "sync", str(tmp_path), f"s3://{bucket}/tree", check=False)
        assert done.returncode == 0, done.stderr
        s3 = cloud.client("s3")
        keys = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c.txt"]
        done = cloud.aws("s3", "rm", "--recursive", f"s3://{bucket}/tree", check=False)
        assert done.returncode == 0, done.stderr
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


class TestPresignedV2:
    def test_boto3_default_presigned_urls(self, s3: Any, bucket: str) -> None:
        """boto3's generate_presigned_url with no signature setting (Signature Version 2)
        works for GET and PUT with plain HTTP; a tampered one is SignatureDoesNotMatch."""
        put_url = s3.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "v2.txt"}, ExpiresIn=300
        )
        assert "AWSAccessKeyId=" in put_url
        # Signature Version 2 signs the Content-Type: send none, as curl -T does
        request = urllib.request.Request(  # noqa: S310 (local)
            put_url, data=b"v2 body", method="PUT", headers={"Content-Type": ""}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (local)
            assert answer.status == 200
        get_url = s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": "v2.txt", "ResponseContentType": "text/csv"},
            ExpiresIn=300,
        )
        with urllib.request.urlopen(get_url, timeout=10) as answer:  # noqa: S310 (local)
            assert answer.read() == b"v2 body"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(get_url.replace("v2.txt", "v3.txt"), timeout=10)  # noqa: S310
        assert refused.value.code == 403
        assert b"<Code>SignatureDoesNotMatch</Code>" in refused.value.read()


class TestConditions:
    def test_conditional_get_and_put(self, s3: Any, bucket: str) -> None:
        """If-None-Match with the current ETag is 304; If-Match with another is 412; a
        create-only PUT (If-None-Match: *) of an existing key is 412 and changes nothing."""
        etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
        with pytest.raises(ClientError) as same:
            s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
        assert same.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
        with pytest.raises(ClientError) as other:
            s3.get_object(Bucket=bucket, Key="k", IfMatch='"0000"')
        assert code(other) == "PreconditionFailed"
        with pytest.raises(ClientError) as exists:
            s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfNoneMatch="*")
        assert code(exists) == "PreconditionFailed"
        assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"v1"
        s3.put_object(Bucket=bucket, Key="new", Body=b"n", IfNoneMatch="*")
        assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == b"n"


class TestChecksums:
    def test_crc32_and_sha256_are_checked_kept_and_given_back(self, s3: Any, bucket: str) -> None:
        """boto3 sends a CRC32 of the body (its default); a SHA-256 asked for is checked
        too; a reader asking for checksums gets them back, and botocore verifies the body."""
        body = b"checked bytes" * 100
        s3.put_object(Bucket=bucket, Key="crc", Body=body)
        got = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        assert got["ChecksumCRC32"] == crc
        assert got["Body"].read() == body
        put = s3.put_object(Bucket=bucket, Key="sha", Body=body, ChecksumAlgorithm="SHA256")
        sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert put["ChecksumSHA256"] == sha
        head = s3.head_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == sha

    def test_a_wrong_checksum_stores_nothing(self, s3: Any, bucket: str) -> None:
        """A body whose declared CRC32 is not its own is BadDigest; nothing is stored."""
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key="bad", Body=b"body", ChecksumCRC32="AAAAAA==")
        assert code(refused) == "BadDigest"
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


class TestCors:
    def test_preflight_and_allowed_origin(self, cloud: Server, s3: Any, bucket: str) -> None:
        """With a CORS rule, a browser's preflight from an allowed origin gets the allowed
        methods, and the GET itself carries Access-Control-Allow-Origin; another origin's
        preflight is 403; DeleteBucketCors takes the rules away (NoSuchCORSConfiguration)."""
        rule = {
            "AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://app.test"],
            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300,
        }  # fmt: skip
        rules = [rule]
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")

        def options(origin: str) -> tuple[int, Any]:
            request = urllib.request.Request(  # noqa: S310 (local)
                f"{cloud.endpoint}/{bucket}/k", method="OPTIONS",
                headers={"Origin": origin, "Access-Control-Request-Method": "PUT",
                         "Access-Control-Request-Headers": "content-type"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                    return answer.status, answer.headers
            except urllib.error.HTTPError as error:
                return error.code, error.headers

        status, headers = options("https://app.test")
        assert status == 200
        assert headers["Access-Control-Allow-Origin"] == "https://app.test"
        assert headers["Access-Control-Allow-Methods"] == "GET, PUT"
        assert headers["Access-Control-Max-Age"] == "300"
        assert options("https://other.test")[0] == 403
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
        request = urllib.request.Request(url, headers={"Origin": "https://app.test"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (local)
            assert answer.headers["Access-Control-Allow-Origin"] == "https://app.test"
            assert answer.headers["Access-Control-Expose-Headers"] == "ETag"
        s3.delete_bucket_cors(Bucket=bucket)
        with pytest.raises(ClientError) as gone:
            s3.get_bucket_cors(Bucket=bucket)
        assert code(gone) == "NoSuchCORSConfiguration"


class TestDeleteWhileReading:
    def test_a_body_being_sent_is_sent_whole(self, cloud: Server, s3: Any, bucket: str) -> None:
        """An object deleted while a client is still reading it arrives whole (the open
        file outlives the unlink)."""
        body = os.urandom(8 * 1024 * 1024)
        s3.put_object(Bucket=bucket, Key="big", Body=body)
        url = cloud.client("s3", signature_version="s3v4").generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "big"}
        )
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 (local)
            first = answer.read(1)
            s3.delete_object(Bucket=bucket, Key="big")
            rest = answer.read()
        assert first + rest == body
