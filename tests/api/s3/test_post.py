"""Browser uploads (S3's PostObject) on a live server: boto3's ``generate_presigned_post``
builds a form, posted as ``multipart/form-data`` by ``requests``, ``http.client`` and
headless Chromium; the object is read back with boto3."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.plugin.clouds import Server

pytestmark = pytest.mark.live

#: Debian's chromium, never a downloaded build (as tests/console drives it)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]
MIB = 1024 * 1024
_real_getaddrinfo = socket.getaddrinfo


def post(
    presigned: dict[str, Any],
    content: bytes = b"hello world",
    filename: str | None = "hello.txt",
    extra: list[tuple[str, str]] | None = None,
    drop: tuple[str, ...] = (),
    url: str | None = None,
) -> requests.Response:
    """The presigned form posted as a browser posts it: its fields, then ``extra``, then
    the file (named ``filename``; no file name at all when None)."""
    fields = [(k, v) for k, v in presigned["fields"].items() if k not in drop]
    fields += extra or []
    file = (filename, content) if filename is not None else (None, content)
    return requests.post(
        url or presigned["url"],
        data=fields,
        files={"file": file},
        allow_redirects=False,
        timeout=60,
    )


def multipart(
    fields: list[tuple[str, str]], content: bytes, after: list[tuple[str, str]] | None = None
) -> tuple[bytes, str]:
    """A form's body and Content-Type, written by hand: ``fields``, the file, ``after``."""
    boundary = "pocketcloud-boundary-0123456789"

    def part(name: str, value: str) -> bytes:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        return head.encode() + value.encode() + b"\r\n"

    body = b"".join(part(name, value) for name, value in fields)
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'.encode()
    )
    body += b"\r\n" + content + b"\r\n" + b"".join(part(n, v) for n, v in after or [])
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def error(answer: requests.Response) -> dict[str, str]:
    """The elements of an S3 error answer (Code, Message, ArgumentName, …)."""
    root = ET.fromstring(answer.content)  # noqa: S314 (our own test server's answer)
    assert root.tag == "Error", answer.content
    return {child.tag: child.text or "" for child in root}


def etag(content: bytes) -> str:
    return '"' + hashlib.md5(content, usedforsecurity=False).hexdigest() + '"'


def user_client(cloud: Server, name: str, statements: list[dict[str, Any]], **config: Any) -> Any:
    """An S3 client of a new IAM user whose one inline policy has ``statements``."""
    iam: Any = cloud.client("iam")
    iam.create_user(UserName=name)
    document = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return cloud.client("s3", key["AccessKeyId"], key["SecretAccessKey"], **config)


@pytest.fixture
def forms(cloud: Server) -> Any:
    """The admin's S3 client signing forms with SigV4 (boto3's default outside us-east-1;
    in us-east-1 it signs them with SigV2 unless told ``s3v4``)."""
    return cloud.client("s3", signature_version="s3v4")


@pytest.fixture(params=["s3v4", "s3"])
def signing(request: pytest.FixtureRequest) -> str:
    """Each signature version boto3 signs forms with: SigV4, and SigV2 (its default in
    us-east-1)."""
    return str(request.param)


class TestUpload:
    def test_presigned_post_stores_the_object(
        self, cloud: Server, s3: Any, bucket: str, signing: str
    ) -> None:
        """A form from generate_presigned_post (SigV4 or SigV2), with Content-Type and user
        metadata fields its conditions name, stores the file: 204 with the ETag and the
        object's URL; the object reads back with its body, Content-Type and metadata (names
        lower-case)."""
        forms: Any = cloud.client("s3", signature_version=signing)
        fields = {"Content-Type": "text/plain", "x-amz-meta-Owner": "eric"}
        conditions = [{"Content-Type": "text/plain"}, ["eq", "$x-amz-meta-owner", "eric"]]
        form = forms.generate_presigned_post(
            bucket, "docs/a b.txt", Fields=fields, Conditions=conditions, ExpiresIn=300
        )
        answer = post(form, b"hello world")
        assert answer.status_code == 204, answer.content
        assert answer.content == b""
        assert answer.headers["ETag"] == etag(b"hello world")
        assert answer.headers["Location"] == f"{form['url']}/docs%2Fa%20b.txt"
        got = s3.get_object(Bucket=bucket, Key="docs/a b.txt")
        assert got["Body"].read() == b"hello world"
        assert got["ContentType"] == "text/plain"
        assert got["Metadata"] == {"owner": "eric"}
        assert got["ETag"] == etag(b"hello world")

    def test_filename_variable(self, s3: Any, forms: Any, bucket: str) -> None:
        """``${filename}`` in the key is the file's name (its last path segment); boto3
        then signs a ``starts-with`` on the key's prefix. A file part naming no file leaves
        ``${filename}`` as written."""
        form = forms.generate_presigned_post(bucket, "uploads/${filename}")
        assert post(form, b"no name", filename=None).status_code == 204
        assert post(form, b"jpeg", filename="photo.jpg").status_code == 204
        assert post(form, b"png", filename="C:\\Users\\eric\\shot.png").status_code == 204
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["uploads/${filename}", "uploads/photo.jpg", "uploads/shot.png"]

    def test_status_201_answers_a_post_response(self, s3: Any, forms: Any, bucket: str) -> None:
        """success_action_status 201 answers the PostResponse document: Location, Bucket,
        Key and ETag (no namespace); 200 answers an empty 200."""
        fields = {"success_action_status": "201"}
        conditions = [["starts-with", "$success_action_status", ""]]
        form = forms.generate_presigned_post(
            bucket, "a/b.txt", Fields=fields, Conditions=conditions
        )
        answer = post(form, b"xml please")
        assert answer.status_code == 201, answer.content
        assert answer.headers["Content-Type"] == "application/xml"
        root = ET.fromstring(answer.content)  # noqa: S314 (our own test server's answer)
        assert root.tag == "PostResponse"
        found = {child.tag: child.text for child in root}
        assert found == {
            "Location": f"{form['url']}/a%2Fb.txt",
            "Bucket": bucket,
            "Key": "a/b.txt",
            "ETag": etag(b"xml please"),
        }
        form = forms.generate_presigned_post(
            bucket,
            "c.txt",
            Fields={"success_action_status": "200"},
            Conditions=[{"success_action_status": "200"}],
        )
        answer = post(form)
        assert (answer.status_code, answer.content) == (200, b"")

    def test_redirect_303(self, s3: Any, forms: Any, bucket: str) -> None:
        """success_action_redirect answers 303 to that URL with bucket, key and etag added
        to its query (a query it has is kept); a URL S3 cannot use answers 204."""
        target = "https://example.test/done?from=form"
        conditions = [["starts-with", "$success_action_redirect", ""]]
        form = forms.generate_presigned_post(
            bucket, "r/1.txt", Conditions=conditions, Fields={"success_action_redirect": target}
        )
        answer = post(form, b"redirect me")
        assert answer.status_code == 303, answer.content
        where = urlsplit(answer.headers["Location"])
        assert f"{where.scheme}://{where.netloc}{where.path}" == "https://example.test/done"
        assert "key=r%2F1.txt" in where.query
        assert parse_qsl(where.query) == [
            ("from", "form"),
            ("bucket", bucket),
            ("key", "r/1.txt"),
            ("etag", etag(b"redirect me")),
        ]
        form = forms.generate_presigned_post(
            bucket,
            "r/2.txt",
            Conditions=conditions,
            Fields={"success_action_redirect": "/relative"},
        )
        assert post(form).status_code == 204

    def test_versioned_bucket_keeps_each_upload(self, s3: Any, forms: Any, bucket: str) -> None:
        """In a versioned bucket each upload is a new version (x-amz-version-id), as a
        PutObject is; the latest is what GetObject reads."""
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        form = forms.generate_presigned_post(bucket, "v.txt")
        first, second = post(form, b"one"), post(form, b"two")
        assert first.headers["x-amz-version-id"] != second.headers["x-amz-version-id"]
        versions = s3.list_object_versions(Bucket=bucket)["Versions"]
        assert len(versions) == 2
        assert s3.get_object(Bucket=bucket, Key="v.txt")["Body"].read() == b"two"

    def test_tagging_and_checksum_fields(self, s3: Any, forms: Any, bucket: str) -> None:
        """The tagging field (S3's Tagging XML) tags the object; an x-amz-checksum-sha256
        field is checked against the file and kept; a wrong one is BadDigest."""
        tags = "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>"
        good = "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="  # SHA-256 of "hello world"
        conditions = [
            ["starts-with", "$tagging", ""],
            ["starts-with", "$x-amz-checksum-sha256", ""],
        ]
        form = forms.generate_presigned_post(
            bucket,
            "t.txt",
            Conditions=conditions,
            Fields={"tagging": tags, "x-amz-checksum-sha256": good},
        )
        answer = post(form, b"hello world")
        assert answer.status_code == 204, answer.content
        assert answer.headers["x-amz-checksum-sha256"] == good
        assert s3.get_object_tagging(Bucket=bucket, Key="t.txt")["TagSet"] == [
            {"Key": "team", "Value": "web"}
        ]
        refused = post(form, b"something else")
        assert (refused.status_code, error(refused)["Code"]) == (400, "BadDigest")

    def test_acl_field(self, s3: Any, forms: Any, bucket: str) -> None:
        """An acl field may only restate the owner's control (private); public-read is
        AccessControlListNotSupported under BucketOwnerEnforced, as PutObject's header."""
        for acl, status in (("private", 204), ("public-read", 400)):
            form = forms.generate_presigned_post(
                bucket, f"{acl}.txt", Fields={"acl": acl}, Conditions=[{"acl": acl}]
            )
            answer = post(form)
            assert answer.status_code == status, answer.content
        assert error(answer)["Code"] == "AccessControlListNotSupported"

    def test_cors_headers(self, s3: Any, forms: Any, bucket: str) -> None:
        """An upload with an Origin the bucket's CORS rules admit carries the CORS headers."""
        rule = {
            "AllowedMethods": ["POST"],
            "AllowedOrigins": ["http://app.test"],
            "ExposeHeaders": ["ETag"],
        }
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
        form = forms.generate_presigned_post(bucket, "cors.txt")
        answer = requests.post(
            form["url"],
            data=form["fields"],
            files={"file": ("f", b"x")},
            headers={"Origin": "http://app.test"},
            timeout=30,
        )
        assert answer.status_code == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "http://app.test"
        assert answer.headers["Access-Control-Expose-Headers"] == "ETag"


class TestRefused:
    def test_expired_policy(self, s3: Any, forms: Any, bucket: str) -> None:
        """A policy past its expiration is AccessDenied, "Policy expired."; nothing stored."""
        form = forms.generate_presigned_post(bucket, "late.txt", ExpiresIn=-60)
        answer = post(form)
        assert answer.status_code == 403
        assert error(answer)["Code"] == "AccessDenied"
        assert error(answer)["Message"] == "Invalid according to Policy: Policy expired."
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    def test_tampered_signature_or_policy(
        self, cloud: Server, s3: Any, bucket: str, signing: str
    ) -> None:
        """A signature that is not the policy's, or a policy changed after signing, is
        SignatureDoesNotMatch (403); an unknown key InvalidAccessKeyId (403)."""
        forms: Any = cloud.client("s3", signature_version=signing)
        form = forms.generate_presigned_post(bucket, "x.txt")
        v4 = signing == "s3v4"
        name = "x-amz-signature" if v4 else "signature"
        signature = form["fields"][name]
        forged = ("0" if signature[0] != "0" else "1") + signature[1:]
        answer = post(form, extra=[(name, forged)], drop=(name,))
        assert (answer.status_code, error(answer)["Code"]) == (403, "SignatureDoesNotMatch")
        other = forms.generate_presigned_post(bucket, "y.txt")
        swapped = post(form, extra=[("policy", other["fields"]["policy"])], drop=("policy",))
        assert (swapped.status_code, error(swapped)["Code"]) == (403, "SignatureDoesNotMatch")
        name = "x-amz-credential" if v4 else "AWSAccessKeyId"
        scope = form["fields"][name].partition("/")[1:]
        unknown = post(form, extra=[(name, "AKIAUNKNOWNKEY000000" + "".join(scope))], drop=(name,))
        assert (unknown.status_code, error(unknown)["Code"]) == (403, "InvalidAccessKeyId")
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    def test_key_outside_the_signed_prefix(self, s3: Any, forms: Any, bucket: str) -> None:
        """A key its ``starts-with`` condition does not admit is AccessDenied naming the
        condition as the policy has it."""
        form = forms.generate_presigned_post(bucket, "uploads/${filename}")
        answer = post(form, extra=[("key", "private/x.txt")], drop=("key",))
        assert answer.status_code == 403
        assert error(answer)["Message"] == (
            'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", '
            '"uploads/"]'
        )
        fixed = forms.generate_presigned_post(bucket, "exact.txt")
        answer = post(fixed, extra=[("key", "other.txt")], drop=("key",))
        assert error(answer)["Message"] == (
            'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "exact.txt"]'
        )

    def test_content_length_range(self, s3: Any, forms: Any, bucket: str) -> None:
        """content-length-range bounds the file, both ends included: larger is
        EntityTooLarge, smaller EntityTooSmall (400, with the sizes); nothing is stored."""
        form = forms.generate_presigned_post(
            bucket, "sized.txt", Conditions=[["content-length-range", 5, 10]]
        )
        large = post(form, b"x" * 12)
        assert large.status_code == 400
        assert error(large) | {"RequestId": ""} == {
            "Code": "EntityTooLarge",
            "Message": "Your proposed upload exceeds the maximum allowed size",
            "ProposedSize": "12",
            "MaxSizeAllowed": "10",
            "RequestId": "",
        }
        small = post(form, b"x")
        assert (small.status_code, error(small)["Code"]) == (400, "EntityTooSmall")
        assert (error(small)["ProposedSize"], error(small)["MinSizeAllowed"]) == ("1", "5")
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
        assert post(form, b"x" * 5).status_code == 204
        assert post(form, b"x" * 10).status_code == 204

    def test_a_field_no_condition_names(self, s3: Any, forms: Any, bucket: str) -> None:
        """A field the policy's conditions do not name is AccessDenied, "Extra input
        fields"; an ``x-ignore-`` field needs no condition."""
        form = forms.generate_presigned_post(bucket, "extra.txt")
        answer = post(form, extra=[("x-amz-meta-note", "hi")])
        assert answer.status_code == 403
        assert error(answer)["Message"] == (
            "Invalid according to Policy: Extra input fields: x-amz-meta-note"
        )
        assert post(form, extra=[("x-ignore-tracking", "1")]).status_code == 204

    def test_wrong_bucket(self, s3: Any, forms: Any, bucket: str) -> None:
        """A form signed for one bucket, posted to another, fails its bucket condition."""
        s3.create_bucket(Bucket=bucket + "-b")
        try:
            form = forms.generate_presigned_post(bucket, "w.txt")
            answer = post(form, url=form["url"] + "-b")
            assert answer.status_code == 403
            assert error(answer)["Message"] == (
                f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", '
                f'"{bucket}"]'
            )
        finally:
            s3.delete_bucket(Bucket=bucket + "-b")

    def test_broken_forms(self, s3: Any, forms: Any, bucket: str) -> None:
        """No key (or a key after the file, which S3 ignores), no file, a signature field
        missing, a body that is not multipart/form-data, fields before the file past 20 KB,
        a body that is not well-formed: S3's answers."""
        form = forms.generate_presigned_post(bucket, "k.txt")
        answer = post(form, drop=("key",))
        assert (answer.status_code, error(answer)["Code"]) == (400, "InvalidArgument")
        assert error(answer)["Message"] == (
            "Bucket POST must contain a field named 'key'.  If it is specified, please check "
            "the order of the fields."
        )
        assert error(answer)["ArgumentName"] == "key"
        fields = [(k, v) for k, v in form["fields"].items() if k != "key"]
        late, kind = multipart(fields, b"file", after=[("key", "k.txt")])
        after = requests.post(form["url"], data=late, headers={"Content-Type": kind}, timeout=30)
        assert error(after)["Message"].startswith("Bucket POST must contain a field named 'key'.")
        nofile = requests.post(form["url"], files=list(form["fields"].items()), timeout=30)
        assert error(nofile)["Message"] == "POST requires exactly one file upload per request."
        unsigned = post(form, drop=("x-amz-signature",))
        assert error(unsigned)["Message"].startswith(
            "Bucket POST must contain a field named 'X-Amz-Signature'."
        )
        plain = requests.post(
            form["url"],
            data=b"key=k.txt",
            timeout=30,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (plain.status_code, error(plain)["Code"]) == (412, "PreconditionFailed")
        assert error(plain)["Condition"] == (
            "Bucket POST must be of the enclosure-type multipart/form-data"
        )
        crowded = post(form, extra=[("x-ignore-padding", "x" * 21000)])
        assert (crowded.status_code, error(crowded)["Code"]) == (
            400,
            "MaxPostPreDataLengthExceeded",
        )
        assert error(crowded)["MaxPostPreDataLengthBytes"] == "20480"
        garbled = requests.post(
            form["url"],
            data=b"--x\r\nnonsense",
            timeout=30,
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert (garbled.status_code, error(garbled)["Code"]) == (400, "MalformedPOSTRequest")
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


class TestWho:
    def test_session_credentials(self, cloud: Server, s3: Any, bucket: str, signing: str) -> None:
        """A form signed with session credentials (ASIA… and its token, which boto3 puts in
        the form and its policy) stores the file; without its token it is refused."""
        creds = cloud.client("sts").get_session_token()["Credentials"]
        client: Any = boto3.client(
            "s3",
            endpoint_url=cloud.endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            config=Config(retries={"max_attempts": 1}, signature_version=signing),
        )
        form = client.generate_presigned_post(bucket, "session.txt")
        signer = form["fields"].get("x-amz-credential") or form["fields"]["AWSAccessKeyId"]
        assert signer.startswith("ASIA")
        assert post(form, b"from a session").status_code == 204
        assert s3.get_object(Bucket=bucket, Key="session.txt")["Body"].read() == b"from a session"
        refused = post(form, drop=("x-amz-security-token",))
        assert (refused.status_code, error(refused)["Code"]) == (400, "InvalidToken")

    def test_iam_decides_put_object(self, cloud: Server, s3: Any, bucket: str) -> None:
        """The signer needs s3:PutObject on the key: a user allowed under uploads/ stores
        there, is AccessDenied elsewhere; a user without PutObject is AccessDenied."""
        put = {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/uploads/*",
        }
        writer = user_client(cloud, "post-writer", [put], signature_version="s3v4")
        assert post(writer.generate_presigned_post(bucket, "uploads/ok.txt")).status_code == 204
        elsewhere = post(writer.generate_presigned_post(bucket, "other/no.txt"))
        assert (elsewhere.status_code, error(elsewhere)["Code"]) == (403, "AccessDenied")
        read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        reader = user_client(cloud, "post-reader", [read], signature_version="s3v4")
        denied = post(reader.generate_presigned_post(bucket, "uploads/no.txt"))
        assert (denied.status_code, error(denied)["Code"]) == (403, "AccessDenied")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["uploads/ok.txt"]

    def test_anonymous_form(self, s3: Any, bucket: str) -> None:
        """A form with no signature fields is anonymous: AccessDenied on a private bucket;
        stored where the bucket policy lets everyone PutObject."""
        fields = [("key", "drop/anon.txt")]
        answer = requests.post(
            f"{s3.meta.endpoint_url}/{bucket}",
            data=fields,
            files={"file": ("a", b"anon")},
            timeout=30,
        )
        assert (answer.status_code, error(answer)["Code"]) == (403, "AccessDenied")
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": False,
                "IgnorePublicAcls": False,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": False,
            },
        )
        grant = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/drop/*",
        }
        s3.put_bucket_policy(
            Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]})
        )
        answer = requests.post(
            f"{s3.meta.endpoint_url}/{bucket}",
            data=fields,
            files={"file": ("a", b"anon")},
            timeout=30,
        )
        assert answer.status_code == 204, answer.content
        assert s3.get_object(Bucket=bucket, Key="drop/anon.txt")["Body"].read() == b"anon"
        s3.delete_bucket_policy(Bucket=bucket)


@pytest.fixture
def localhost_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """``*.localhost`` on the loopback, as RFC 6761 says and browsers do."""

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_virtual_hosted_form(cloud: Server, s3: Any, bucket: str, localhost_names: None) -> None:
    """With virtual addressing the form's URL is the bucket's host (``POST /``); the object
    is stored and its Location is on that host."""
    virtual: Any = boto3.client(
        "s3",
        endpoint_url=f"http://s3.localhost:{cloud.port}",
        region_name="us-east-1",
        aws_access_key_id=cloud.access_key_id,
        aws_secret_access_key=cloud.secret,
        config=Config(s3={"addressing_style": "virtual"}, signature_version="s3v4"),
    )
    form = virtual.generate_presigned_post(bucket, "v/h.txt")
    assert form["url"] == f"http://{bucket}.s3.localhost:{cloud.port}/"
    answer = post(form, b"virtual")
    assert answer.status_code == 204, answer.content
    assert answer.headers["Location"] == f"http://{bucket}.s3.localhost:{cloud.port}/v%2Fh.txt"
    assert s3.get_object(Bucket=bucket, Key="v/h.txt")["Body"].read() == b"virtual"


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _streamed(head: bytes, size: int, tail: bytes) -> Iterator[bytes]:
    yield head
    block = bytes(range(256)) * 4096  # 1 MiB
    for _ in range(size // len(block)):
        yield block
    yield tail


def test_large_file_in_constant_memory(cloud: Server, s3: Any, forms: Any, bucket: str) -> None:
    """A 64 MiB file, sent in chunks, is stored whole (its ETag is its MD5) while the
    server's peak resident memory grows by far less than the file."""
    form = forms.generate_presigned_post(bucket, "big.bin")
    empty, kind = multipart(list(form["fields"].items()), b"")
    cut = empty.index(b'filename="f"\r\n\r\n') + len(b'filename="f"\r\n\r\n')
    head, tail = empty[:cut], empty[cut:]  # the file's bytes go between
    size = 64 * MIB
    md5 = hashlib.md5(usedforsecurity=False)
    for chunk in _streamed(b"", size, b""):
        md5.update(chunk)
    assert cloud.process is not None
    before = _peak_rss(cloud.process.pid)
    connection = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=120)
    connection.request(
        "POST",
        f"/{bucket}",
        body=_streamed(head, size, tail),
        headers={
            "Content-Type": kind,
            "Content-Length": str(len(head) + size + len(tail)),
        },
    )
    answer = connection.getresponse()
    assert answer.status == 204, answer.read()
    connection.close()
    grown = _peak_rss(cloud.process.pid) - before
    assert grown < 16 * MIB, f"peak RSS grew by {grown / MIB:.1f} MiB"
    head_object = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head_object["ContentLength"] == size
    assert head_object["ETag"] == f'"{md5.hexdigest()}"'


# -- a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), driven by Playwright."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context: BrowserContext = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def site() -> Iterator[dict[str, Any]]:
    """A local web site serving one page (set ``site["html"]``) on 127.0.0.1."""
    served: dict[str, Any] = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    served["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/"
    yield served
    httpd.shutdown()
    httpd.server_close()


def test_chromium_form_upload(
    s3: Any, forms: Any, bucket: str, page: Page, site: dict[str, Any], tmp_path: Path
) -> None:
    """An HTML form holding the presigned fields and a file input, submitted by headless
    Chromium, stores the chosen file under ``${filename}`` and redirects the browser."""
    done = site["url"] + "done"
    conditions = [
        ["starts-with", "$success_action_redirect", site["url"]],
        ["starts-with", "$Content-Type", "text/"],
    ]
    fields = {"success_action_redirect": done, "Content-Type": "text/plain"}
    form = forms.generate_presigned_post(
        bucket, "browser/${filename}", Fields=fields, Conditions=conditions
    )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{value}">'
        for name, value in form["fields"].items()
    )
    site["html"] = (
        f'<form method="post" enctype="multipart/form-data" action="{form["url"]}">'
        f'{hidden}<input type="file" name="file" id="file"><button id="send">Upload</button>'
        "</form>"
    )
    note = tmp_path / "notes é.txt"
    note.write_text("written in a browser\n")
    page.goto(site["url"])
    page.set_input_files("#file", str(note))
    with page.expect_navigation(url=lambda url: url.startswith(done)):
        page.click("#send")
    query = dict(parse_qsl(urlsplit(page.url).query))
    assert query["bucket"] == bucket
    assert query["key"] == "browser/notes é.txt"
    got = s3.get_object(Bucket=bucket, Key="browser/notes é.txt")
    assert got["Body"].read() == b"written in a browser\n"
    assert got["ContentType"] == "text/plain"
    assert query["etag"] == got["ETag"]
