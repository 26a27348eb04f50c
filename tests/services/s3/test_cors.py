"""Which CORS rule admits a browser's request (pure)."""

from __future__ import annotations

import pytest

from pocketcloud.errors import ClientError
from pocketcloud.services.s3.cors import Rule, check, match

RULES = [
    Rule(("GET", "HEAD"), ("https://*.example.com",), ("x-amz-*", "content-type")),
    Rule(("PUT",), ("https://upload.example.org",), ("*",), ("ETag",), 600, "uploads"),
]


@pytest.mark.parametrize(
    ("origin", "method", "headers", "rule"),
    [
        ("https://www.example.com", "GET", [], 0),
        ("https://www.example.com", "GET", ["X-Amz-Date", "Content-Type"], 0),
        ("https://www.example.com", "GET", ["authorization"], None),
        ("https://www.example.com", "PUT", [], None),
        ("http://www.example.com", "GET", [], None),
        ("https://upload.example.org", "PUT", ["anything"], 1),
        ("https://evil.example.org", "PUT", [], None),
    ],
)
def test_match(origin: str, method: str, headers: list[str], rule: int | None) -> None:
    """Origin (one wildcard), method and every requested header must be admitted."""
    found = match(RULES, origin, method, headers)
    assert found == (None if rule is None else RULES[rule])


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ([Rule(("PATCH",), ("*",))], "InvalidRequest"),
        ([Rule(("GET",), ("https://*.*.example.com",))], "InvalidRequest"),
        ([], "MalformedXML"),
    ],
)
def test_check(rules: list[Rule], code: str) -> None:
    """Unsupported methods, two wildcards in an origin and no rule at all are refused."""
    with pytest.raises(ClientError) as refused:
        check(rules)
    assert refused.value.code == code
