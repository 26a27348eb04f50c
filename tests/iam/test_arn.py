"""Wildcard and ARN matching, and the ARN builders."""

from __future__ import annotations

import pytest

from pocketcloud.iam.arn import arn_match, ec2_arn, iam_arn, wildcard_match


class TestWildcardMatch:
    def test_star_matches_any_run_including_empty(self) -> None:
        """'*' matches any run of characters, the empty run included."""
        assert wildcard_match("ec2:Describe*", "ec2:DescribeKeyPairs")
        assert wildcard_match("ec2:Describe*", "ec2:Describe")
        assert wildcard_match("*", "")

    def test_question_mark_matches_exactly_one_character(self) -> None:
        """'?' matches one character, never zero or two."""
        assert wildcard_match("web-?", "web-1")
        assert not wildcard_match("web-?", "web-")
        assert not wildcard_match("web-?", "web-12")

    def test_match_is_anchored_at_both_ends(self) -> None:
        """A pattern without wildcards must equal the whole value."""
        assert not wildcard_match("ec2", "ec2:Describe")
        assert not wildcard_match("Describe", "ec2:Describe")

    def test_case_sensitive_by_default(self) -> None:
        """Matching is case-sensitive unless asked otherwise."""
        assert not wildcard_match("Prod*", "production")
        assert wildcard_match("Prod*", "production", case_sensitive=False)

    def test_regex_metacharacters_are_literal(self) -> None:
        """Characters that mean something in a regex are matched literally."""
        assert wildcard_match("a.b+(c)[d]", "a.b+(c)[d]")
        assert not wildcard_match("a.b", "axb")

    def test_star_spans_newlines(self) -> None:
        """'*' matches across line breaks too."""
        assert wildcard_match("a*b", "a\n\nb")


class TestArnMatch:
    def test_star_pattern_matches_everything(self) -> None:
        """The pattern '*' matches any ARN, and the '*' resource too."""
        assert arn_match("*", "arn:aws:ec2:us-east-1:123456789012:instance/i-1")
        assert arn_match("*", "*")

    def test_components_are_matched_separately(self) -> None:
        """A wildcard in one component does not reach into the next one."""
        pattern = "arn:aws:ec2:us-*:123456789012:instance/*"
        assert arn_match(pattern, "arn:aws:ec2:us-east-1:123456789012:instance/i-1")
        assert not arn_match(pattern, "arn:aws:ec2:eu-west-1:123456789012:instance/i-1")

    def test_wildcard_inside_a_component_stops_at_colons(self) -> None:
        """A '*' or '?' inside a component cannot swallow a ':'."""
        pattern = "arn:aws:ec2:us-*-1:123456789012:instance/*"
        assert arn_match(pattern, "arn:aws:ec2:us-east-1:123456789012:instance/i-1")
        assert not arn_match(pattern, "arn:aws:ec2:us-east:x-1:123456789012:instance/i-1")
        assert not arn_match("arn:aws:ec2:us?east-1:*:*", "arn:aws:ec2:us:east-1:1:vpc/v")

    def test_trailing_star_may_span_colons(self) -> None:
        """A '*' ending a component may run on past colons, as IAM documents."""
        assert arn_match("arn:aws:ec2:*:instance/*", "arn:aws:ec2:r:1:instance/i-1")
        assert not arn_match("arn:aws:ec2:*:instance/*", "arn:aws:ec2:r:1:volume/v-1")

    def test_resource_part_may_contain_colons_and_slashes(self) -> None:
        """The sixth component keeps its own ':' and '/' and '*' spans them."""
        arn = "arn:aws:s3:::bucket/dir:with:colons/key"
        assert arn_match("arn:aws:s3:::bucket/*", arn)
        assert arn_match("arn:aws:s3:::bucket/dir:with:*/key", arn)
        assert not arn_match("arn:aws:s3:::other/*", arn)

    def test_resource_type_with_colon_separator(self) -> None:
        """Resources written 'type:name' (a ':' in the resource part) match."""
        arn = "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:log-stream:x"
        assert arn_match("arn:aws:logs:*:*:log-group:/app/*", arn)
        assert not arn_match("arn:aws:logs:*:*:log-group:/db/*", arn)

    def test_empty_components_must_stay_empty(self) -> None:
        """An empty region in the pattern only matches an empty region."""
        assert arn_match(
            "arn:aws:iam::123456789012:user/alice", iam_arn("123456789012", "user", "alice")
        )
        assert not arn_match(
            "arn:aws:iam::123456789012:user/alice", "arn:aws:iam:us-east-1:123456789012:user/alice"
        )
        assert arn_match(
            "arn:aws:iam:*:123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"
        )

    def test_question_mark_in_component(self) -> None:
        """'?' matches one character within a component."""
        assert arn_match("arn:aws:ec2:us-east-?:*:*", "arn:aws:ec2:us-east-2:1:vpc/vpc-1")
        assert not arn_match("arn:aws:ec2:us-east-?:*:*", "arn:aws:ec2:us-east-12:1:vpc/vpc-1")

    def test_arn_with_too_few_components_does_not_match(self) -> None:
        """A value that is not a six-part ARN never matches a six-part pattern."""
        assert not arn_match("arn:aws:ec2:*:*:*", "*")
        assert not arn_match("arn:aws:ec2:*:*:*", "arn:aws:ec2")

    def test_matching_is_case_sensitive(self) -> None:
        """ARN matching is case-sensitive, as ArnLike is."""
        assert not arn_match("arn:aws:ec2:*:*:key-pair/MyKey", "arn:aws:ec2:r:1:key-pair/mykey")

    def test_short_pattern_matches_whole_string(self) -> None:
        """A pattern of fewer than six components is matched against the whole ARN."""
        assert arn_match("arn:aws:ec2:*", "arn:aws:ec2:us-east-1:1:instance/i-1")
        assert not arn_match("arn:aws:ec2:*", "arn:aws:s3:::bucket")


class TestArnBuilders:
    def test_ec2_arn(self) -> None:
        """ec2_arn builds the type/id form of an EC2 ARN."""
        arn = ec2_arn("us-east-1", "123456789012", "key-pair", "mykey")
        assert arn == "arn:aws:ec2:us-east-1:123456789012:key-pair/mykey"

    def test_iam_arn_default_path(self) -> None:
        """iam_arn has no region and puts the name after the default path '/'."""
        assert iam_arn("123456789012", "user", "alice") == "arn:aws:iam::123456789012:user/alice"

    def test_iam_arn_with_path(self) -> None:
        """iam_arn puts the path between the kind and the name."""
        arn = iam_arn("123456789012", "role", "deploy", "/service/ci/")
        assert arn == "arn:aws:iam::123456789012:role/service/ci/deploy"

    @pytest.mark.parametrize("path", ["service/", "/service", ""])
    def test_iam_arn_rejects_malformed_path(self, path: str) -> None:
        """A path that does not begin and end with '/' is a programming error."""
        with pytest.raises(ValueError, match="IAM path"):
            iam_arn("123456789012", "user", "alice", path)
