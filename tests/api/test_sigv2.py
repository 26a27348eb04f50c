"""S3 presigned URLs of Signature Version 2, as boto3 makes them by default, verified (pure:
the URLs come from botocore's own signer, nothing is sent)."""

from __future__ import annotations

from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.config import Config

from pocketcloud.api import sigv2

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def presign(
    operation: str, params: dict[str, str], expires: int = 300, token: str | None = None
) -> tuple[str, str]:
    """(path, query) of botocore's default presigned URL for an S3 operation (signed with
    session credentials when a ``token`` is given)."""
    client = botocore.session.get_session().create_client(
        "s3", endpoint_url="http://127.0.0.1:4747", region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET, aws_session_token=token,
        config=Config(s3={"addressing_style": "path"}),
    )  # fmt: skip
    url = client.generate_presigned_url(operation, Params=params, ExpiresIn=expires)
    parts = urlsplit(url)
    return parts.path, parts.query


def _verify(method: str, path: str, query: str, now: float, secret: str = SECRET) -> None:
    claim = sigv2.parse(query)
    assert claim is not None
    assert claim.access_key_id == KEY
    sigv2.verify(claim, method, path, query, {}, secret, now)


@pytest.mark.parametrize(
    ("operation", "method", "params"),
    [
        ("get_object", "GET", {"Bucket": "photos", "Key": "cat.jpg"}),
        ("put_object", "PUT", {"Bucket": "photos", "Key": "dir/a b+c%.txt"}),
        ("get_object", "GET", {"Bucket": "photos", "Key": "k", "ResponseContentType": "text/csv",
                               "ResponseContentDisposition": "attachment; filename=x.csv"}),
        ("list_objects", "GET", {"Bucket": "photos"}),
    ],
)  # fmt: skip
def test_botocore_urls_verify(operation: str, method: str, params: dict[str, str]) -> None:
    """A URL botocore presigns verifies, sub-resources (response-content-*) included."""
    path, query = presign(operation, params)
    _verify(method, path, query, now=0)


def test_a_session_url_verifies() -> None:
    """A URL presigned with session credentials (its x-amz-security-token signed as a
    header, as botocore does) verifies; another token does not."""
    path, query = presign("get_object", {"Bucket": "photos", "Key": "cat.jpg"}, token="T0K+/=")
    assert "x-amz-security-token=" in query
    _verify("GET", path, query, now=0)
    with pytest.raises(sigv2.SigV2Error):
        _verify("GET", path, query.replace("T0K", "T1K"), now=0)


def test_a_tampered_url_is_refused() -> None:
    """Another key, another method or another secret does not verify."""
    path, query = presign("get_object", {"Bucket": "photos", "Key": "cat.jpg"})
    wrong = [("GET", "/photos/dog.jpg", SECRET), ("DELETE", path, SECRET), ("GET", path, "x")]
    for method, wrong_path, secret in wrong:
        with pytest.raises(sigv2.SigV2Error) as refused:
            _verify(method, wrong_path, query, now=0, secret=secret)
        assert refused.value.kind == "mismatch"


def test_an_expired_url_is_refused() -> None:
    """Past its Expires (epoch seconds) a URL is refused as expired."""
    path, query = presign("get_object", {"Bucket": "photos", "Key": "cat.jpg"}, expires=60)
    claim = sigv2.parse(query)
    assert claim is not None
    with pytest.raises(sigv2.SigV2Error) as late:
        _verify("GET", path, query, now=claim.expires + 1)
    assert late.value.kind == "expired"


def test_no_v2_parameters_is_none_and_half_of_them_is_refused() -> None:
    """A query without SigV2 parameters is not a SigV2 claim; one with some of them is
    refused, naming the three."""
    assert sigv2.parse("list-type=2&prefix=a") is None
    with pytest.raises(sigv2.SigV2Error, match="Signature, Expires and AWSAccessKeyId"):
        sigv2.parse("AWSAccessKeyId=AKID&Expires=1")
