"""Multipart uploads on a live server: boto3's transfer manager (threads, 8 MiB parts) up and
down, the AWS CLI's ``cp`` of a large file, and S3's rules for completing an upload."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.api.s3.conftest import code
from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud
MIB = 1024 * 1024


def test_transfer_manager_round_trip(s3: Any, bucket: str, tmp_path: Path) -> None:
    """upload_file of 20 MiB in 5 MiB parts on 4 threads, then download_file in ranged
    parts: the same bytes come back, and the ETag is S3's multipart form (MD5 of the
    parts' MD5s, then ``-4``)."""
    data = os.urandom(20 * MIB)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB,
                            max_concurrency=4)  # fmt: skip
    s3.upload_file(str(source), bucket, "big.bin", Config=config)
    parts = [hashlib.md5(data[i : i + 5 * MIB], usedforsecurity=False).digest()
             for i in range(0, len(data), 5 * MIB)]  # fmt: skip
    expected = f'"{hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest()}-4"'
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ETag"] == expected
    back = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(back), Config=config)
    assert back.read_bytes() == data


def test_completion_rules(s3: Any, bucket: str) -> None:
    """A part under 5 MiB that is not the last is EntityTooSmall; parts out of order are
    InvalidPartOrder; a wrong ETag is InvalidPart; after abort the upload is NoSuchUpload.
    Nothing is visible until the upload completes."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k", ContentType="text/plain")
    uid = upload["UploadId"]
    one = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"a" * 100)
    two = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"b" * 100)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    parts = [{"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": two["ETag"]}]
    for wrong, expected in [
        (parts, "EntityTooSmall"),
        (parts[::-1], "InvalidPartOrder"),
        ([{"PartNumber": 1, "ETag": two["ETag"]}], "InvalidPart"),
    ]:
        with pytest.raises(ClientError) as refused:
            s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": wrong})  # fmt: skip
        assert code(refused) == expected
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                        MultipartUpload={"Parts": parts[:1]})  # fmt: skip
    assert done["ETag"].endswith('-1"')
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["ContentType"]) == (b"a" * 100, "text/plain")
    with pytest.raises(ClientError) as gone:
        s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert code(gone) == "NoSuchUpload"
    other = s3.create_multipart_upload(Bucket=bucket, Key="j")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="j", UploadId=other, PartNumber=1, Body=b"c")
    s3.abort_multipart_upload(Bucket=bucket, Key="j", UploadId=other)
    with pytest.raises(ClientError) as aborted:
        s3.upload_part(Bucket=bucket, Key="j", UploadId=other, PartNumber=2, Body=b"d")
    assert code(aborted) == "NoSuchUpload"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_cli_cp_of_a_large_file(cloud: Server, bucket: str, tmp_path: Path) -> None:
    """``aws s3 cp`` of a 12 MiB file (multipart at the CLI's 8 MiB threshold) and back."""
    data = os.urandom(12 * MIB)
    (tmp_path / "up.bin").write_bytes(data)
    done = cloud.aws("s3", "cp", str(tmp_path / "up.bin"), f"s3://{bucket}/up.bin", check=False)
    assert done.returncode == 0, done.stderr
    etag = cloud.client("s3").head_object(Bucket=bucket, Key="up.bin")["ETag"]
    assert etag.endswith('-2"')
    done = cloud.aws("s3", "cp", f"s3://{bucket}/up.bin", str(tmp_path / "down.bin"), check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "down.bin").read_bytes() == data
