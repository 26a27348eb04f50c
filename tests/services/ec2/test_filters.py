"""EC2 filter matching and pagination (pure)."""

from __future__ import annotations

import pytest

from pocketcloud.errors import ClientError
from pocketcloud.services.ec2 import filters
from pocketcloud.services.ec2.filters import Filter


class TestMatching:
    @pytest.mark.parametrize(
        ("pattern", "value", "expected"),
        [
            ("web", "web", True),
            ("web", "webs", False),
            ("web*", "web-1", True),
            ("w?b", "wab", True),
            ("w?b", "wb", False),
            ("a\\*b", "a*b", True),
            ("a\\*b", "axb", False),
            ("*", "", True),
        ],
    )
    def test_wildcards(self, pattern: str, value: str, expected: bool) -> None:
        """Filter values take * and ? wildcards; a backslash escapes them."""
        assert filters.value_matches(pattern, value) is expected

    def test_all_filters_any_value(self) -> None:
        """Every filter must match; any of a filter's values may."""
        fields = {"a": ["1"], "b": ["2", "3"]}.get
        assert filters.matches([Filter("a", ("1",)), Filter("b", ("9", "3"))], fields)
        assert not filters.matches([Filter("a", ("1",)), Filter("b", ("9",))], fields)

    def test_tag_fields(self) -> None:
        """tag:<key>, tag-key and tag-value read a resource's tags."""
        tags = {"env": "prod"}
        assert filters.tag_fields("tag:env", tags) == ["prod"]
        assert filters.tag_fields("tag:missing", tags) == []
        assert filters.tag_fields("tag-key", tags) == ["env"]
        assert filters.tag_fields("other", tags) is None


class TestPagination:
    def test_pages_cover_everything_once(self) -> None:
        """Following NextToken visits every item exactly once, in key order."""
        items = [f"id-{i:03d}" for i in range(23)]
        seen: list[str] = []
        token = None
        while True:
            page, token = filters.paginate(items, str, 5, token)
            seen += page
            if token is None:
                break
        assert seen == sorted(items)

    def test_bounds_and_bad_token(self) -> None:
        """MaxResults outside the bounds and foreign tokens are refused."""
        with pytest.raises(ClientError):
            filters.paginate(["a"], str, 4, None)
        with pytest.raises(ClientError) as info:
            filters.paginate(["a"], str, 5, "!!not-base64!!")
        assert info.value.code == "InvalidNextToken"
