"""Policy evaluation: statements, wildcards, every condition operator, variables."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketcloud.iam.conditions import OPERATORS
from pocketcloud.iam.evaluate import Decision, RequestContext, evaluate
from pocketcloud.iam.managed import AWS_MANAGED_BY_NAME
from pocketcloud.iam.policy import Policy, parse_policy

ALLOW = Decision.ALLOW
DENY = Decision.EXPLICIT_DENY
IMPLICIT = Decision.IMPLICIT_DENY
ACCOUNT = "123456789012"
KEY_PAIR = f"arn:aws:ec2:us-east-1:{ACCOUNT}:key-pair/mykey"

Keys = Mapping[str, str | Sequence[str]]


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> Policy:
    """Parse a policy made of the statements."""
    return parse_policy(json.dumps({"Version": version, "Statement": list(statements)}))


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """An Allow statement (NotAction/NotResource/Condition through extra)."""
    return _statement("Allow", action, resource, extra)


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """A Deny statement (NotAction/NotResource/Condition through extra)."""
    return _statement("Deny", action, resource, extra)


def _statement(effect: str, action: Any, resource: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """A statement dict; Action/Resource are left out when NotAction/NotResource are given."""
    out: dict[str, Any] = {"Effect": effect, **extra}
    if "NotAction" not in extra:
        out["Action"] = action
    if "NotResource" not in extra:
        out["Resource"] = resource
    return out


def decide(
    policies: Policy | list[Policy],
    action: str = "ec2:CreateKeyPair",
    resource: str = "*",
    keys: Keys | None = None,
) -> Decision:
    """Evaluate a request against one policy or a list of them."""
    listed = policies if isinstance(policies, list) else [policies]
    return evaluate(listed, RequestContext(action, resource, keys or {}))


def when(operator: str, key: str, value: Any, keys: Keys | None) -> Decision:
    """Decide a request against one Allow-all statement with one condition."""
    return decide(policy(allow(Condition={operator: {key: value}})), keys=keys)


class TestEvaluateDecision:
    def test_no_policies_is_implicit_deny(self) -> None:
        """Without any policy every request is implicitly denied."""
        assert evaluate([], RequestContext("ec2:DescribeInstances", "*")) is IMPLICIT

    def test_allow(self) -> None:
        """A matching Allow statement allows."""
        assert decide(policy(allow("ec2:CreateKeyPair"))) is ALLOW

    def test_no_matching_statement_is_implicit_deny(self) -> None:
        """A request no statement matches is implicitly denied."""
        assert decide(policy(allow("ec2:DescribeInstances"))) is IMPLICIT

    def test_deny_beats_allow_in_the_same_policy(self) -> None:
        """An explicit Deny wins over an Allow in the same policy, whatever the order."""
        assert decide(policy(allow(), deny("ec2:CreateKeyPair"))) is DENY
        assert decide(policy(deny("ec2:CreateKeyPair"), allow())) is DENY

    def test_deny_beats_allow_across_policies(self) -> None:
        """An explicit Deny in one policy overrides an Allow in another."""
        assert decide([policy(allow()), policy(deny("ec2:*"))]) is DENY
        assert decide([policy(deny("ec2:*")), policy(allow())]) is DENY

    def test_deny_that_does_not_apply_leaves_allow(self) -> None:
        """A Deny for another action does not affect an Allow."""
        assert decide([policy(allow()), policy(deny("ec2:DeleteKeyPair"))]) is ALLOW

    def test_deny_alone_is_explicit(self) -> None:
        """A matching Deny without any Allow is still an explicit deny."""
        assert decide(policy(deny())) is DENY

    def test_policies_may_be_any_iterable(self) -> None:
        """evaluate accepts a generator of policies."""
        policies = (p for p in [policy(allow("ec2:*"))])
        assert evaluate(policies, RequestContext("ec2:RunInstances", "*")) is ALLOW


class TestActionMatching:
    @pytest.mark.parametrize(
        ("pattern", "action", "expected"),
        [
            ("ec2:Describe*", "ec2:DescribeKeyPairs", ALLOW),
            ("ec2:Describe*", "ec2:CreateKeyPair", IMPLICIT),
            ("ec2:*", "ec2:CreateKeyPair", ALLOW),
            ("ec2:*", "iam:CreateUser", IMPLICIT),
            ("*", "iam:CreateUser", ALLOW),
            ("ec2:createkeypair", "ec2:CreateKeyPair", ALLOW),
            ("EC2:CREATEKEYPAIR", "ec2:createkeypair", ALLOW),
            ("ec2:describe*", "EC2:DescribeVpcs", ALLOW),
            ("iam:Get?ser", "iam:GetUser", ALLOW),
            ("iam:Get?ser", "iam:GetUsers", IMPLICIT),
            ("ec2:*KeyPair*", "ec2:ImportKeyPair", ALLOW),
            ("ec2:Create", "ec2:CreateKeyPair", IMPLICIT),
        ],
    )
    def test_action_patterns(self, pattern: str, action: str, expected: Decision) -> None:
        """Actions match case-insensitively with '*' and '?' wildcards, anchored at both ends."""
        assert decide(policy(allow(pattern)), action) is expected

    def test_action_list_is_ored(self) -> None:
        """A statement matches when any of its actions matches."""
        p = policy(allow(["ec2:RunInstances", "ec2:Describe*"]))
        assert decide(p, "ec2:DescribeImages") is ALLOW
        assert decide(p, "ec2:RunInstances") is ALLOW
        assert decide(p, "ec2:TerminateInstances") is IMPLICIT

    def test_not_action(self) -> None:
        """NotAction matches every action except the listed ones."""
        p = policy(allow(NotAction=["iam:*", "ec2:Delete*"]))
        assert decide(p, "ec2:CreateKeyPair") is ALLOW
        assert decide(p, "ec2:DeleteKeyPair") is IMPLICIT
        assert decide(p, "IAM:CreateUser") is IMPLICIT

    def test_deny_with_not_action(self) -> None:
        """A Deny with NotAction denies everything but the listed actions."""
        p = [policy(allow()), policy(deny(NotAction="ec2:Describe*"))]
        assert decide(p, "ec2:DescribeVpcs") is ALLOW
        assert decide(p, "ec2:RunInstances") is DENY


class TestResourceMatching:
    def test_star_matches_any_resource(self) -> None:
        """Resource '*' matches ARNs and the '*' resource."""
        p = policy(allow())
        assert decide(p, resource=KEY_PAIR) is ALLOW
        assert decide(p, resource="*") is ALLOW

    def test_arn_pattern(self) -> None:
        """A Resource ARN pattern restricts the statement to matching resources."""
        p = policy(allow(resource=f"arn:aws:ec2:*:{ACCOUNT}:key-pair/*"))
        assert decide(p, resource=KEY_PAIR) is ALLOW
        assert decide(p, resource=f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1") is IMPLICIT
        assert decide(p, resource="arn:aws:ec2:us-east-1:999999999999:key-pair/mykey") is IMPLICIT

    def test_specific_pattern_does_not_match_star_resource(self) -> None:
        """An ARN pattern does not cover a request whose resource is '*'."""
        assert decide(policy(allow(resource=KEY_PAIR)), resource="*") is IMPLICIT

    def test_question_mark_wildcard(self) -> None:
        """'?' matches exactly one character of the resource."""
        p = policy(allow(resource=f"arn:aws:ec2:us-east-?:{ACCOUNT}:key-pair/key?"))
        assert decide(p, resource=f"arn:aws:ec2:us-east-1:{ACCOUNT}:key-pair/key1") is ALLOW
        assert decide(p, resource=f"arn:aws:ec2:us-east-1:{ACCOUNT}:key-pair/key12") is IMPLICIT

    def test_resource_with_colons_and_slashes(self) -> None:
        """The resource part may hold ':' and '/', and '*' spans them."""
        p = policy(allow(resource="arn:aws:s3:::bucket/a/*"))
        assert decide(p, resource="arn:aws:s3:::bucket/a/b:c/d") is ALLOW
        assert decide(p, resource="arn:aws:s3:::bucket/b/a") is IMPLICIT

    def test_not_resource(self) -> None:
        """NotResource matches every resource except the listed ones."""
        p = policy(allow(NotResource="arn:aws:ec2:*:*:key-pair/prod-*"))
        assert decide(p, resource=KEY_PAIR) is ALLOW
        assert decide(p, resource=f"arn:aws:ec2:us-east-1:{ACCOUNT}:key-pair/prod-1") is IMPLICIT
        assert decide(p, resource="*") is ALLOW

    def test_deny_with_not_resource(self) -> None:
        """A Deny with NotResource denies everything outside the listed resources."""
        p = [policy(allow()), policy(deny(NotResource=f"arn:aws:ec2:us-east-1:{ACCOUNT}:*"))]
        assert decide(p, resource=KEY_PAIR) is ALLOW
        assert decide(p, resource=f"arn:aws:ec2:eu-west-1:{ACCOUNT}:key-pair/k") is DENY


OPERATOR_CASES = [
    ("StringEquals", "prod", "prod", True),
    ("StringEquals", "prod", "Prod", False),
    ("StringNotEquals", "prod", "dev", True),
    ("StringNotEquals", "prod", "prod", False),
    ("StringEqualsIgnoreCase", "prod", "PROD", True),
    ("StringEqualsIgnoreCase", "prod", "dev", False),
    ("StringNotEqualsIgnoreCase", "prod", "dev", True),
    ("StringNotEqualsIgnoreCase", "prod", "PrOd", False),
    ("StringLike", "web-*", "web-01", True),
    ("StringLike", "web-?", "web-12", False),
    ("StringLike", "web-*", "WEB-01", False),
    ("StringNotLike", "web-*", "db-01", True),
    ("StringNotLike", "web-*", "web-01", False),
    ("NumericEquals", "10", "10.0", True),
    ("NumericEquals", "10", "11", False),
    ("NumericEquals", "10", "ten", False),
    ("NumericNotEquals", "10", "11", True),
    ("NumericNotEquals", "10", "10", False),
    ("NumericLessThan", "10", "9", True),
    ("NumericLessThan", "10", "10", False),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericLessThanEquals", "10", "10.5", False),
    ("NumericGreaterThan", "10", "11", True),
    ("NumericGreaterThan", "10", "10", False),
    ("NumericGreaterThanEquals", "10", "10", True),
    ("NumericGreaterThanEquals", "10", "-3", False),
    ("DateEquals", "2024-01-01T00:00:00Z", "1704067200", True),
    ("DateEquals", "2024-01-01T01:00:00+01:00", "2024-01-01T00:00:00Z", True),
    ("DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", False),
    ("DateNotEquals", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", True),
    ("DateNotEquals", "1704067200", "2024-01-01T00:00:00Z", False),
    ("DateLessThan", "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z", True),
    ("DateLessThan", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", False),
    ("DateLessThanEquals", "2024-01-01", "2024-01-01T00:00:00Z", True),
    ("DateLessThanEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", False),
    ("DateGreaterThan", "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z", True),
    ("DateGreaterThan", "2024-01-01T00:00:00Z", "not a date", False),
    ("DateGreaterThanEquals", "2024-01-01T00:00:00Z", "1704067200", True),
    ("DateGreaterThanEquals", "2024-01-01T00:00:00Z", "1704067199", False),
    ("Bool", "true", "true", True),
    ("Bool", "true", "false", False),
    ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
    ("IpAddress", "10.0.0.0/8", "11.0.0.1", False),
    ("NotIpAddress", "10.0.0.0/8", "192.168.0.1", True),
    ("NotIpAddress", "10.0.0.0/8", "10.0.0.1", False),
    ("ArnEquals", f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/alice", True),
    ("ArnEquals", f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/bob", False),
    ("ArnLike", f"arn:aws:iam::{ACCOUNT}:user/*", f"arn:aws:iam::{ACCOUNT}:user/ops/bob", True),
    ("ArnLike", "arn:aws:iam::*:user/*", f"arn:aws:iam::{ACCOUNT}:role/bob", False),
    (
        "ArnNotEquals",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
        f"arn:aws:iam::{ACCOUNT}:user/bob",
        True,
    ),
    ("ArnNotEquals", f"arn:aws:iam::{ACCOUNT}:user/*", f"arn:aws:iam::{ACCOUNT}:user/bob", False),
    ("ArnNotLike", "arn:aws:iam::*:role/*", f"arn:aws:iam::{ACCOUNT}:user/bob", True),
    ("ArnNotLike", "arn:aws:iam::*:user/*", f"arn:aws:iam::{ACCOUNT}:user/bob", False),
]
NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
    "ArnNotEquals",
    "ArnNotLike",
}


class TestConditionOperators:
    @pytest.mark.parametrize(
        ("operator", "policy_value", "request_value", "matches"), OPERATOR_CASES
    )
    def test_operator(
        self, operator: str, policy_value: str, request_value: str, matches: bool
    ) -> None:
        """Each operator allows when its test holds for the request value and not otherwise."""
        expected = ALLOW if matches else IMPLICIT
        assert when(operator, "test:key", policy_value, {"test:key": request_value}) is expected

    def test_every_operator_has_cases(self) -> None:
        """The table above covers every operator both ways (Null is tested on its own)."""
        covered = {(op, m) for op, _, _, m in OPERATOR_CASES}
        assert {op for op, _ in covered} == OPERATORS - {"Null"}
        assert all((op, not m) in covered for op, m in covered)

    def test_multiple_values_are_ored(self) -> None:
        """Several values for one key: any of them may match."""
        assert (
            when("StringEquals", "aws:username", ["alice", "bob"], {"aws:username": "bob"}) is ALLOW
        )
        assert (
            when("StringEquals", "aws:username", ["alice", "bob"], {"aws:username": "eve"})
            is IMPLICIT
        )

    def test_negated_operator_with_multiple_values_is_nor(self) -> None:
        """A negated operator with several values requires matching none of them."""
        assert (
            when("StringNotEquals", "aws:username", ["alice", "bob"], {"aws:username": "eve"})
            is ALLOW
        )
        assert (
            when("StringNotEquals", "aws:username", ["alice", "bob"], {"aws:username": "bob"})
            is IMPLICIT
        )

    def test_keys_and_operators_are_anded(self) -> None:
        """Every key of every operator in the block must hold."""
        cond = {
            "StringEquals": {"aws:username": "alice", "aws:RequestedRegion": "us-east-1"},
            "Bool": {"aws:SecureTransport": "true"},
        }
        p = policy(allow(Condition=cond))
        good = {
            "aws:username": "alice",
            "aws:RequestedRegion": "us-east-1",
            "aws:SecureTransport": "true",
        }
        assert decide(p, keys=good) is ALLOW
        assert decide(p, keys={**good, "aws:RequestedRegion": "eu-west-1"}) is IMPLICIT
        assert decide(p, keys={**good, "aws:SecureTransport": "false"}) is IMPLICIT

    def test_key_names_are_case_insensitive(self) -> None:
        """Condition key names match whatever their case in the policy and the request."""
        assert when("StringEquals", "AWS:UserName", "alice", {"aws:username": "alice"}) is ALLOW
        assert when("StringEquals", "aws:username", "alice", {"AWS:USERNAME": "alice"}) is ALLOW

    def test_values_stay_case_sensitive(self) -> None:
        """Only key names are case-insensitive: StringEquals values are not."""
        assert when("StringEquals", "aws:username", "Alice", {"aws:username": "alice"}) is IMPLICIT

    def test_resource_tag(self) -> None:
        """ec2:ResourceTag/<key> with StringEquals gates on the resource's tag value."""
        p = policy(
            allow(
                "ec2:TerminateInstances", Condition={"StringEquals": {"ec2:ResourceTag/env": "dev"}}
            )
        )
        assert decide(p, "ec2:TerminateInstances", keys={"ec2:ResourceTag/env": "dev"}) is ALLOW
        assert decide(p, "ec2:TerminateInstances", keys={"ec2:ResourceTag/env": "prod"}) is IMPLICIT
        assert (
            decide(p, "ec2:TerminateInstances", keys={"ec2:ResourceTag/owner": "dev"}) is IMPLICIT
        )

    def test_resource_tag_deny(self) -> None:
        """A Deny on a prod tag blocks only prod resources."""
        p = [
            policy(allow()),
            policy(deny(Condition={"StringEquals": {"ec2:ResourceTag/env": "prod"}})),
        ]
        assert decide(p, keys={"ec2:ResourceTag/env": "prod"}) is DENY
        assert decide(p, keys={"ec2:ResourceTag/env": "dev"}) is ALLOW
        assert decide(p) is ALLOW


class TestIpAddress:
    @pytest.mark.parametrize(
        ("cidr", "address", "expected"),
        [
            ("203.0.113.7/32", "203.0.113.7", ALLOW),
            ("203.0.113.7/32", "203.0.113.8", IMPLICIT),
            ("203.0.113.7", "203.0.113.7", ALLOW),
            ("0.0.0.0/0", "127.0.0.1", ALLOW),
            ("0.0.0.0/0", "::1", IMPLICIT),
            ("2001:db8::/32", "2001:db8:1::5", ALLOW),
            ("2001:db8::/32", "2001:db9::5", IMPLICIT),
            ("::/0", "10.0.0.1", IMPLICIT),
            ("::1/128", "::1", ALLOW),
            ("10.0.0.0/8", "not-an-ip", IMPLICIT),
            ("not-a-cidr", "10.0.0.1", IMPLICIT),
        ],
    )
    def test_source_ip(self, cidr: str, address: str, expected: Decision) -> None:
        """IpAddress matches /32, /0 and IPv6 ranges; IPv4 never falls in an IPv6 range."""
        assert when("IpAddress", "aws:SourceIp", cidr, {"aws:SourceIp": address}) is expected

    def test_list_of_ranges(self) -> None:
        """A list of CIDRs matches an address in any of them."""
        ranges = ["10.0.0.0/8", "2001:db8::/32"]
        assert when("IpAddress", "aws:SourceIp", ranges, {"aws:SourceIp": "2001:db8::1"}) is ALLOW

    def test_not_ip_address_deny(self) -> None:
        """Deny from outside a range: inside is allowed, outside is denied."""
        p = [
            policy(allow()),
            policy(deny(Condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}})),
        ]
        assert decide(p, keys={"aws:SourceIp": "127.0.0.1"}) is ALLOW
        assert decide(p, keys={"aws:SourceIp": "192.0.2.1"}) is DENY


class TestDatesAndBooleans:
    def test_date_less_than_current_time(self) -> None:
        """DateLessThan on aws:CurrentTime allows until the date and not after."""
        p = policy(allow(Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}))
        assert decide(p, keys={"aws:CurrentTime": "2025-06-01T12:00:00Z"}) is ALLOW
        assert decide(p, keys={"aws:CurrentTime": "2031-01-01T00:00:00Z"}) is IMPLICIT

    def test_epoch_seconds_in_policy(self) -> None:
        """Dates may be written as epoch seconds and compared with ISO 8601."""
        p = policy(allow(Condition={"DateGreaterThan": {"aws:EpochTime": "1704067200"}}))
        assert decide(p, keys={"aws:EpochTime": "1704067201"}) is ALLOW
        assert decide(p, keys={"aws:EpochTime": "2023-01-01T00:00:00Z"}) is IMPLICIT

    def test_secure_transport(self) -> None:
        """Deny on Bool aws:SecureTransport false blocks plain HTTP only."""
        p = [policy(allow()), policy(deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))]
        assert decide(p, keys={"aws:SecureTransport": "false"}) is DENY
        assert decide(p, keys={"aws:SecureTransport": "true"}) is ALLOW

    def test_bool_with_json_boolean(self) -> None:
        """A JSON boolean in the policy is compared as 'true'/'false'."""
        assert when("Bool", "aws:SecureTransport", True, {"aws:SecureTransport": "true"}) is ALLOW
        assert (
            when("Bool", "aws:SecureTransport", False, {"aws:SecureTransport": "true"}) is IMPLICIT
        )


class TestMissingKeys:
    @pytest.mark.parametrize("operator", sorted(OPERATORS - {"Null"}))
    def test_missing_key(self, operator: str) -> None:
        """A missing key makes positive operators false and negated operators true."""
        value = "2024-01-01T00:00:00Z" if operator.startswith("Date") else "x"
        expected = ALLOW if operator in NEGATED else IMPLICIT
        assert when(operator, "test:absent", value, {"other:key": "x"}) is expected

    @pytest.mark.parametrize("operator", sorted(OPERATORS - {"Null"}))
    def test_if_exists_with_missing_key(self, operator: str) -> None:
        """With ...IfExists a missing key makes any operator true."""
        value = "2024-01-01T00:00:00Z" if operator.startswith("Date") else "x"
        assert when(f"{operator}IfExists", "test:absent", value, {}) is ALLOW

    def test_if_exists_with_present_key_still_tests(self) -> None:
        """With ...IfExists a present key is tested as usual."""
        assert (
            when(
                "StringEqualsIfExists",
                "ec2:InstanceType",
                "t3.micro",
                {"ec2:InstanceType": "t3.micro"},
            )
            is ALLOW
        )
        assert (
            when(
                "StringEqualsIfExists",
                "ec2:InstanceType",
                "t3.micro",
                {"ec2:InstanceType": "m5.large"},
            )
            is IMPLICIT
        )

    def test_negated_if_exists_with_present_key(self) -> None:
        """A negated ...IfExists operator is tested when the key is present."""
        assert when("StringNotEqualsIfExists", "a:k", "x", {"a:k": "x"}) is IMPLICIT
        assert when("StringNotEqualsIfExists", "a:k", "x", {"a:k": "y"}) is ALLOW

    def test_null_true_means_absent(self) -> None:
        """Null 'true' holds when the key is absent and fails when it is present."""
        assert when("Null", "aws:TokenIssueTime", "true", {}) is ALLOW
        assert when("Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": "x"}) is IMPLICIT

    def test_null_false_means_present(self) -> None:
        """Null 'false' holds when the key is present and fails when it is absent."""
        assert when("Null", "aws:username", "false", {"aws:username": "alice"}) is ALLOW
        assert when("Null", "aws:username", False, {}) is IMPLICIT

    def test_empty_list_counts_as_absent(self) -> None:
        """A key whose value is an empty list is null."""
        assert when("Null", "aws:TagKeys", "true", {"aws:TagKeys": []}) is ALLOW
        assert when("StringEquals", "aws:TagKeys", "env", {"aws:TagKeys": []}) is IMPLICIT


class TestSetOperators:
    @pytest.mark.parametrize(
        ("tag_keys", "expected"),
        [
            (["env"], ALLOW),
            (["env", "team"], ALLOW),
            (["env", "owner"], IMPLICIT),
            ([], ALLOW),
            (None, ALLOW),
        ],
    )
    def test_for_all_values(self, tag_keys: list[str] | None, expected: Decision) -> None:
        """ForAllValues: every request value must match a policy value; no values is true."""
        keys = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
        assert when("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], keys) is expected

    @pytest.mark.parametrize(
        ("tag_keys", "expected"),
        [
            (["owner", "env"], ALLOW),
            (["team"], ALLOW),
            (["owner"], IMPLICIT),
            ([], IMPLICIT),
            (None, IMPLICIT),
        ],
    )
    def test_for_any_value(self, tag_keys: list[str] | None, expected: Decision) -> None:
        """ForAnyValue: some request value must match a policy value; no values is false."""
        keys = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
        assert when("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"], keys) is expected

    @pytest.mark.parametrize(
        ("tag_keys", "expected"),
        [
            (["key1:legal"], IMPLICIT),
            (["key1:hr", "key1:personnel"], IMPLICIT),
            (["key2:audit"], DENY),
            (None, DENY),
        ],
    )
    def test_for_all_values_not_like_deny(
        self, tag_keys: list[str] | None, expected: Decision
    ) -> None:
        """The IAM guide's ForAllValues:StringNotLike Deny example, case by case."""
        p = policy(deny(Condition={"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}))
        keys = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
        assert decide(p, keys=keys) is expected

    def test_for_any_value_negated(self) -> None:
        """ForAnyValue with a negated operator: some request value must match no policy value."""
        assert (
            when("ForAnyValue:StringNotEquals", "aws:TagKeys", "env", {"aws:TagKeys": ["env", "x"]})
            is ALLOW
        )
        assert (
            when("ForAnyValue:StringNotEquals", "aws:TagKeys", "env", {"aws:TagKeys": ["env"]})
            is IMPLICIT
        )

    def test_for_any_value_if_exists(self) -> None:
        """IfExists on a set operator makes a missing key true."""
        assert when("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", "env", {}) is ALLOW

    def test_multivalued_key_without_qualifier(self) -> None:
        """Without a set operator, a positive operator holds if any request value matches."""
        assert (
            when("StringLike", "aws:TagKeys", "env*", {"aws:TagKeys": ["team", "env-x"]}) is ALLOW
        )
        assert (
            when("StringNotLike", "aws:TagKeys", "env*", {"aws:TagKeys": ["team", "env-x"]})
            is IMPLICIT
        )


class TestPolicyVariables:
    def test_username_in_resource(self) -> None:
        """${aws:username} in a Resource is replaced by the caller's user name."""
        p = policy(allow("iam:*AccessKey*", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"))
        alice = {"aws:username": "alice"}
        assert (
            decide(p, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/alice", alice) is ALLOW
        )
        assert (
            decide(p, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/bob", alice) is IMPLICIT
        )

    def test_unresolved_variable_never_matches(self) -> None:
        """A Resource whose variable is missing from the request matches nothing."""
        p = policy(allow(resource=f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"))
        assert decide(p, resource=f"arn:aws:iam::{ACCOUNT}:user/alice") is IMPLICIT

    def test_variables_need_version_2012(self) -> None:
        """With Version 2008-10-17 '${aws:username}' is literal text."""
        resource = f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"
        p = policy(allow(resource=resource), version="2008-10-17")
        alice = {"aws:username": "alice"}
        assert decide(p, resource=f"arn:aws:iam::{ACCOUNT}:user/alice", keys=alice) is IMPLICIT
        assert decide(p, resource=resource, keys=alice) is ALLOW

    def test_any_context_key_is_a_variable(self) -> None:
        """Any context key, such as aws:PrincipalTag/team, can be a variable."""
        p = policy(allow(resource="arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*"))
        keys = {"aws:PrincipalTag/team": "web"}
        assert decide(p, resource="arn:aws:s3:::bucket/web/a.txt", keys=keys) is ALLOW
        assert decide(p, resource="arn:aws:s3:::bucket/db/a.txt", keys=keys) is IMPLICIT

    def test_variable_names_are_case_insensitive(self) -> None:
        """${AWS:UserName} reads aws:username."""
        p = policy(allow(resource=f"arn:aws:iam::{ACCOUNT}:user/${{AWS:UserName}}"))
        assert (
            decide(p, resource=f"arn:aws:iam::{ACCOUNT}:user/alice", keys={"aws:username": "alice"})
            is ALLOW
        )

    def test_escapes_are_literal(self) -> None:
        """${*}, ${?} and ${$} stand for the literal characters, not wildcards."""
        p = policy(allow(resource="arn:aws:s3:::b/${*}${?}${$}"))
        assert decide(p, resource="arn:aws:s3:::b/*?$") is ALLOW
        assert decide(p, resource="arn:aws:s3:::b/xy$") is IMPLICIT

    def test_substituted_value_is_literal(self) -> None:
        """A '*' inside a substituted value does not act as a wildcard."""
        p = policy(allow(resource="arn:aws:s3:::b/${aws:username}"))
        assert decide(p, resource="arn:aws:s3:::b/a*", keys={"aws:username": "a*"}) is ALLOW
        assert decide(p, resource="arn:aws:s3:::b/abc", keys={"aws:username": "a*"}) is IMPLICIT

    def test_default_value(self) -> None:
        """${key, 'default'} falls back to the default when the key is missing."""
        p = policy(allow(resource="arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*"))
        assert decide(p, resource="arn:aws:s3:::b/shared/x") is ALLOW
        assert (
            decide(p, resource="arn:aws:s3:::b/web/x", keys={"aws:PrincipalTag/team": "web"})
            is ALLOW
        )

    def test_variable_in_condition_value(self) -> None:
        """Variables are substituted in condition values too."""
        p = policy(allow(Condition={"StringEquals": {"ec2:ResourceTag/owner": "${aws:username}"}}))
        assert decide(p, keys={"aws:username": "alice", "ec2:ResourceTag/owner": "alice"}) is ALLOW
        assert decide(p, keys={"aws:username": "alice", "ec2:ResourceTag/owner": "bob"}) is IMPLICIT
        assert decide(p, keys={"ec2:ResourceTag/owner": "alice"}) is IMPLICIT

    def test_variable_in_arn_condition(self) -> None:
        """An ARN substituted into ArnLike is split into its components."""
        p = policy(allow(Condition={"ArnLike": {"aws:SourceArn": "${aws:PrincipalArn}"}}))
        arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
        assert decide(p, keys={"aws:PrincipalArn": arn, "aws:SourceArn": arn}) is ALLOW
        assert decide(p, keys={"aws:PrincipalArn": arn, "aws:SourceArn": arn + "x"}) is IMPLICIT

    def test_multivalued_key_is_not_a_variable(self) -> None:
        """A key with several values cannot be substituted."""
        p = policy(allow(resource="arn:aws:s3:::b/${aws:TagKeys}"))
        assert decide(p, resource="arn:aws:s3:::b/a", keys={"aws:TagKeys": ["a", "b"]}) is IMPLICIT
        assert decide(p, resource="arn:aws:s3:::b/a", keys={"aws:TagKeys": ["a"]}) is ALLOW


class TestManagedPolicyEvaluation:
    @staticmethod
    def managed(name: str) -> Policy:
        """The parsed document of the AWS managed policy with this name."""
        return parse_policy(AWS_MANAGED_BY_NAME[name].document)

    def test_ec2_read_only(self) -> None:
        """AmazonEC2ReadOnlyAccess allows ec2:DescribeKeyPairs but not ec2:CreateKeyPair."""
        p = self.managed("AmazonEC2ReadOnlyAccess")
        assert decide(p, "ec2:DescribeKeyPairs", KEY_PAIR) is ALLOW
        assert decide(p, "ec2:CreateKeyPair", KEY_PAIR) is IMPLICIT
        assert decide(p, "iam:GetUser") is IMPLICIT

    def test_iam_read_only(self) -> None:
        """IAMReadOnlyAccess allows iam:GetUser but not iam:CreateUser."""
        p = self.managed("IAMReadOnlyAccess")
        user = f"arn:aws:iam::{ACCOUNT}:user/alice"
        assert decide(p, "iam:GetUser", user) is ALLOW
        assert decide(p, "iam:ListUsers") is ALLOW
        assert decide(p, "iam:CreateUser", user) is IMPLICIT

    def test_ec2_full_access(self) -> None:
        """AmazonEC2FullAccess allows all of EC2, and service-linked roles only for EC2's."""
        p = self.managed("AmazonEC2FullAccess")
        assert decide(p, "ec2:CreateKeyPair", KEY_PAIR) is ALLOW
        assert decide(p, "iam:CreateUser") is IMPLICIT
        slr = {"iam:AWSServiceName": "spot.amazonaws.com"}
        assert decide(p, "iam:CreateServiceLinkedRole", keys=slr) is ALLOW
        other = {"iam:AWSServiceName": "lambda.amazonaws.com"}
        assert decide(p, "iam:CreateServiceLinkedRole", keys=other) is IMPLICIT

    def test_iam_full_access(self) -> None:
        """IAMFullAccess allows every IAM action and nothing in EC2."""
        p = self.managed("IAMFullAccess")
        assert decide(p, "iam:CreateUser") is ALLOW
        assert decide(p, "ec2:DescribeInstances") is IMPLICIT

    def test_administrator_access(self) -> None:
        """AdministratorAccess allows anything, but an explicit Deny still wins."""
        p = self.managed("AdministratorAccess")
        assert decide(p, "sts:GetCallerIdentity") is ALLOW
        assert decide([p, policy(deny("ec2:*"))], "ec2:CreateKeyPair", KEY_PAIR) is DENY


FUZZ_POLICIES = [
    policy(
        allow("ec2:Describe*"), deny(NotAction="ec2:*", NotResource="arn:aws:ec2:*:*:key-pair/*")
    ),
    policy(
        allow(
            resource="arn:aws:iam::*:user/${aws:username}",
            Condition={
                "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]},
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                "NumericLessThanEquals": {"a:n": "${a:m}"},
                "Bool": {"aws:SecureTransport": "true"},
            },
        )
    ),
    policy(
        deny(
            Condition={
                "ForAllValues:StringLike": {"aws:TagKeys": ["k*", "${aws:PrincipalTag/x}?"]},
                "ForAnyValue:ArnNotLikeIfExists": {"aws:SourceArn": "${aws:PrincipalArn}"},
                "StringEqualsIgnoreCase": {"aws:username": "${aws:userid, 'x'}"},
                "DateNotEqualsIfExists": {"aws:EpochTime": "${aws:CurrentTime}"},
                "Null": {"aws:TokenIssueTime": "false"},
            }
        )
    ),
]
context_values = st.one_of(st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3))
key_names = st.sampled_from(
    [
        "aws:username",
        "aws:SourceIp",
        "aws:CurrentTime",
        "aws:EpochTime",
        "a:n",
        "a:m",
        "aws:TagKeys",
        "aws:SourceArn",
        "aws:PrincipalArn",
        "aws:PrincipalTag/x",
        "aws:SecureTransport",
        "aws:userid",
        "aws:TokenIssueTime",
    ]
) | st.text(max_size=20)


class TestEvaluateNeverRaises:
    @settings(max_examples=200, deadline=None, database=None)
    @given(
        action=st.text(max_size=40),
        resource=st.one_of(
            st.text(max_size=60), st.just("*"), st.builds("arn:aws:{}".format, st.text(max_size=40))
        ),
        keys=st.dictionaries(key_names, context_values, max_size=8),
    )
    def test_arbitrary_requests(
        self, action: str, resource: str, keys: dict[str, str | list[str]]
    ) -> None:
        """evaluate returns a Decision for any action, resource and context strings."""
        assert decide(FUZZ_POLICIES, action, resource, keys) in set(Decision)
