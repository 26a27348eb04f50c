"""S3's bucket naming rules (pure)."""

from __future__ import annotations

import pytest

from pocketcloud.errors import ClientError
from pocketcloud.services.s3.buckets import check_name


@pytest.mark.parametrize("name", ["abc", "my-bucket", "my.bucket.1", "a" * 63, "0numbers9"])
def test_good_names(name: str) -> None:
    """Names of 3-63 lower-case letters, digits, dots and hyphens pass."""
    check_name(name)


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 64, "Bucket", "under_score", "-dash", "dash-", ".dot", "a..b", "a.-b",
     "10.1.2.3", "xn--bucket", "sthree-x", "b-s3alias", "b--ol-s3", "b--x-s3", "é-bucket"],
)  # fmt: skip
def test_bad_names(name: str) -> None:
    """Every other name is InvalidBucketName, saying which rule it breaks."""
    with pytest.raises(ClientError) as refused:
        check_name(name)
    assert refused.value.code == "InvalidBucketName"
    assert refused.value.message.startswith("The specified bucket is not valid. Bucket names")
