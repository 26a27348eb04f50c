"""Parsing and validation of policy documents, and the AWS managed policies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pocketcloud.errors import ClientError
from pocketcloud.iam.conditions import OPERATORS
from pocketcloud.iam.managed import AWS_MANAGED, AWS_MANAGED_BY_NAME
from pocketcloud.iam.policy import (
    MAX_MANAGED,
    MAX_USER_INLINE,
    Effect,
    Policy,
    Statement,
    parse_policy,
    policy_size,
)

SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def doc(*statements: dict[str, Any], **top: Any) -> str:
    """A 2012-10-17 policy document holding the statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements), **top})


def statement(**changes: Any) -> dict[str, Any]:
    """ALLOW_ALL with keys changed (a value of None removes the key)."""
    merged = {**ALLOW_ALL, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def expect_malformed(document: str, message: str) -> None:
    """Assert that parsing fails with MalformedPolicyDocument and exactly this message."""
    with pytest.raises(ClientError) as caught:
        parse_policy(document)
    assert caught.value.code == "MalformedPolicyDocument"
    assert caught.value.status == 400
    assert caught.value.message == message


class TestParsePolicy:
    def test_statement_list(self) -> None:
        """A Statement list becomes a tuple of Statements with tuple fields."""
        policy = parse_policy(doc(statement(Action=["ec2:Describe*", "ec2:GetConsoleOutput"])))
        assert policy.version == "2012-10-17"
        (only,) = policy.statements
        assert only.effect is Effect.ALLOW
        assert only.actions == ("ec2:Describe*", "ec2:GetConsoleOutput")
        assert only.not_actions is None
        assert only.resources == ("*",)
        assert only.not_resources is None
        assert only.conditions == ()

    def test_statement_may_be_a_single_object(self) -> None:
        """Statement may be one object instead of a list."""
        policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": ALLOW_ALL}))
        assert len(policy.statements) == 1

    def test_version_defaults_to_2008(self) -> None:
        """A document without Version gets IAM's default, 2008-10-17."""
        assert parse_policy(json.dumps({"Statement": ALLOW_ALL})).version == "2008-10-17"

    def test_version_2008_accepted(self) -> None:
        """The legacy version 2008-10-17 is accepted."""
        assert parse_policy(doc(ALLOW_ALL, Version="2008-10-17")).version == "2008-10-17"

    def test_ids_may_be_any_strings(self) -> None:
        """Id and Sid values are free-form strings."""
        policy = parse_policy(doc(statement(Sid="any thing: 1/2"), Id="my policy #1 (draft)"))
        assert policy.id == "my policy #1 (draft)"
        assert policy.statements[0].sid == "any thing: 1/2"

    def test_not_action_and_not_resource(self) -> None:
        """NotAction and NotResource fill the not_ fields and leave the others None."""
        st = parse_policy(
            doc(
                statement(
                    Action=None, NotAction="iam:*", Resource=None, NotResource="arn:aws:s3:::b"
                )
            )
        )
        only = st.statements[0]
        assert (only.actions, only.not_actions) == (None, ("iam:*",))
        assert (only.resources, only.not_resources) == (None, ("arn:aws:s3:::b",))

    def test_deny_effect(self) -> None:
        """Effect Deny parses to Effect.DENY."""
        assert parse_policy(doc(statement(Effect="Deny"))).statements[0].effect is Effect.DENY

    def test_condition_values_are_strings(self) -> None:
        """JSON booleans and numbers in conditions become IAM's strings; one Condition per key."""
        cond = {"Bool": {"aws:SecureTransport": False}, "NumericLessThan": {"a:n": [10, 2.5]}}
        conditions = parse_policy(doc(statement(Condition=cond))).statements[0].conditions
        assert [(c.operator, c.key, c.values) for c in conditions] == [
            ("Bool", "aws:SecureTransport", ("false",)),
            ("NumericLessThan", "a:n", ("10", "2.5")),
        ]

    @pytest.mark.parametrize("base", sorted(OPERATORS - {"Null"}))
    def test_every_operator_with_qualifiers_and_if_exists(self, base: str) -> None:
        """Every operator is accepted plain, with IfExists, and with each set qualifier."""
        value = {"StringEquals": "x", "Bool": "true"}.get(base, "x")
        if base.startswith("Date"):
            value = "2024-01-01T00:00:00Z"
        names = [base, f"{base}IfExists", f"ForAnyValue:{base}", f"ForAllValues:{base}IfExists"]
        cond = {name: {"k:k": value} for name in names}
        assert len(parse_policy(doc(statement(Condition=cond))).statements[0].conditions) == 4

    def test_null_operator(self) -> None:
        """Null is accepted with 'true' or 'false'."""
        cond = {"Null": {"aws:TokenIssueTime": "true", "aws:username": False}}
        assert len(parse_policy(doc(statement(Condition=cond))).statements[0].conditions) == 2

    def test_null_elements_in_lists_are_ignored(self) -> None:
        """null entries in Action/Resource lists are skipped, as IAM does."""
        only = parse_policy(
            doc(statement(Action=[None, "ec2:*"], Resource=["*", None]))
        ).statements[0]
        assert (only.actions, only.resources) == (("ec2:*",), ("*",))

    def test_parse_is_cached_on_the_text(self) -> None:
        """The same text returns the very same (immutable) Policy object."""
        text = doc(statement(Action="ec2:RunInstances"))
        assert parse_policy(text) is parse_policy(text)

    def test_policies_are_hashable_values(self) -> None:
        """Policies compare by value and can be used as dict keys."""
        first = parse_policy(doc(statement(Action="ec2:A")))
        second = parse_policy(doc(statement(Action="ec2:A")) + " ")
        assert first == second
        assert {first: 1}[second] == 1
        assert isinstance(first, Policy)
        assert isinstance(first.statements[0], Statement)

    def test_statement_requires_actions_and_resources(self) -> None:
        """Building a Statement by hand without actions or resources is a programming error."""
        with pytest.raises(ValueError, match="actions"):
            Statement(None, Effect.ALLOW, None, None, ("*",), None)
        with pytest.raises(ValueError, match="resources"):
            Statement(None, Effect.ALLOW, ("*",), None, None, None)

    def test_statement_takes_one_of_each_pair(self) -> None:
        """Building a Statement with both actions and not_actions is a programming error."""
        with pytest.raises(ValueError, match="or not_actions"):
            Statement(None, Effect.ALLOW, ("*",), ("ec2:*",), ("*",), None)


class TestParsePolicyErrors:
    @pytest.mark.parametrize(
        "document",
        [
            pytest.param("{", id="not-json"),
            pytest.param("[]", id="array"),
            pytest.param('"text"', id="string"),
            pytest.param(
                '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", '
                '"Resource": "*", "Condition": {"NumericEquals": {"a:b": NaN}}}}',
                id="nan",
            ),
            pytest.param(doc(ALLOW_ALL, Version="2020-01-01"), id="bad-version"),
            pytest.param(doc(ALLOW_ALL, Version=20121017), id="numeric-version"),
            pytest.param(doc(ALLOW_ALL, Extra="x"), id="unknown-top-key"),
            pytest.param(doc(ALLOW_ALL, Id=7), id="id-not-string"),
            pytest.param(json.dumps({"Version": "2012-10-17"}), id="no-statement"),
            pytest.param(json.dumps({"Statement": "Allow"}), id="statement-string"),
            pytest.param(json.dumps({"Statement": []}), id="statement-empty"),
            pytest.param(
                json.dumps({"Statement": [ALLOW_ALL, "x"]}), id="statement-item-not-object"
            ),
            pytest.param(doc(statement(Effect=None)), id="no-effect"),
            pytest.param(doc(statement(Effect="Maybe")), id="bad-effect"),
            pytest.param(doc(statement(NotAction="ec2:*")), id="action-and-notaction"),
            pytest.param(doc(statement(NotResource="*")), id="resource-and-notresource"),
            pytest.param(doc(statement(Unknown="x")), id="unknown-statement-key"),
            pytest.param(doc(statement(Sid=5)), id="sid-not-string"),
            pytest.param(doc(statement(Action=7)), id="action-number"),
            pytest.param(doc(statement(Resource={"a": 1})), id="resource-object"),
            pytest.param(doc(statement(Action="ec2:")), id="empty-action-name"),
            pytest.param(doc(statement(Condition=["x"])), id="condition-not-object"),
            pytest.param(
                doc(statement(Condition={"StringEquals": "x"})), id="operator-block-not-object"
            ),
            pytest.param(
                doc(statement(Condition={"StringEqualz": {"a:b": "x"}})), id="unknown-operator"
            ),
            pytest.param(
                doc(statement(Condition={"ForSomeValues:StringEquals": {"a:b": "x"}})),
                id="bad-qualifier",
            ),
            pytest.param(
                doc(statement(Condition={"NullIfExists": {"a:b": "true"}})), id="null-if-exists"
            ),
            pytest.param(
                doc(statement(Condition={"StringEquals": {"a:b": None}})), id="null-value"
            ),
            pytest.param(
                doc(statement(Condition={"StringEquals": {"a:b": [{"x": 1}]}})), id="object-value"
            ),
        ],
    )
    def test_syntax_errors(self, document: str) -> None:
        """Documents IAM cannot parse fail with 'Syntax errors in policy.'."""
        expect_malformed(document, SYNTAX)

    def test_principal_forbidden(self) -> None:
        """An identity-based policy may not name a Principal."""
        message = "Policy document should not specify a principal."
        expect_malformed(doc(statement(Principal={"AWS": "*"})), message)
        expect_malformed(doc(statement(NotPrincipal="*")), message)

    @pytest.mark.parametrize("action", [None, []])
    def test_missing_actions(self, action: Any) -> None:
        """A statement without Action or NotAction (or with an empty list) is rejected."""
        expect_malformed(doc(statement(Action=action)), "Policy statement must contain actions.")

    @pytest.mark.parametrize("resource", [None, []])
    def test_missing_resources(self, resource: Any) -> None:
        """A statement without Resource or NotResource (or with an empty list) is rejected."""
        expect_malformed(
            doc(statement(Resource=resource)), "Policy statement must contain resources."
        )

    def test_effect_is_case_sensitive(self) -> None:
        """'allow' in the wrong case fails IAM's legacy parsing."""
        expect_malformed(doc(statement(Effect="allow")), LEGACY)

    def test_action_without_vendor(self) -> None:
        """An action must be prefixed with its service."""
        message = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        expect_malformed(doc(statement(Action="DescribeInstances")), message)

    def test_action_with_two_colons(self) -> None:
        """An action has exactly one colon."""
        expect_malformed(
            doc(statement(Action="ec2:Describe:All")),
            "Actions/Condition can contain only one colon.",
        )

    def test_action_with_bad_vendor(self) -> None:
        """The service prefix holds only letters, digits, '.' and '-'."""
        expect_malformed(doc(statement(Action="e c2:Describe*")), "Vendor e c2 is not valid")

    def test_resource_not_an_arn(self) -> None:
        """A resource is '*' or an ARN."""
        expect_malformed(
            doc(statement(Resource="my-bucket")), 'Resource my-bucket must be in ARN format or "*".'
        )

    def test_resource_with_unknown_partition(self) -> None:
        """The ARN partition must be a real one (or a wildcard)."""
        resource = "arn:foo:s3:::bucket"
        expect_malformed(
            doc(statement(Resource=resource)),
            f'Partition "foo" is not valid for resource "{resource}".',
        )

    def test_resource_without_service(self) -> None:
        """An ARN with an empty service fails IAM's legacy parsing."""
        expect_malformed(doc(statement(Resource="arn:aws::us-east-1:1:thing")), LEGACY)

    @pytest.mark.parametrize("resource", ["arn:aws", "arn:aws:*:*:*:*", "arn:aws:ec?:*:*:*"])
    def test_resource_vendor_not_qualified(self, resource: str) -> None:
        """An ARN needs a service, and the service may not hold wildcards."""
        expect_malformed(
            doc(statement(Resource=resource)),
            "Resource vendor must be fully qualified and cannot contain regexes.",
        )

    def test_invalid_date_literal(self) -> None:
        """A Date operator's value must be ISO 8601 or epoch seconds."""
        expect_malformed(
            doc(statement(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})), LEGACY
        )

    def test_duplicate_sids(self) -> None:
        """Statement ids must be unique within a policy."""
        message = "Statement IDs (SID) in a single policy must be unique."
        expect_malformed(doc(statement(Sid="A"), statement(Sid="A")), message)

    def test_empty_sids_may_repeat(self) -> None:
        """Empty Sids do not count as duplicates."""
        assert len(parse_policy(doc(statement(Sid=""), statement(Sid=""))).statements) == 2


class TestPolicySize:
    def test_limits(self) -> None:
        """IAM's limits are exposed for callers to enforce."""
        assert MAX_MANAGED == 6144
        assert MAX_USER_INLINE == 2048

    def test_white_space_is_not_counted(self) -> None:
        """policy_size counts the characters IAM counts: all but white space."""
        assert policy_size('{ "a" :\n\t"b c" }') == 10


class TestManagedPolicies:
    @pytest.mark.parametrize("arn", sorted(AWS_MANAGED))
    def test_documents_parse(self, arn: str) -> None:
        """Every AWS managed policy document is a valid policy."""
        managed = AWS_MANAGED[arn]
        policy = parse_policy(managed.document)
        assert policy.version == "2012-10-17"
        assert policy_size(managed.document) <= MAX_MANAGED

    @pytest.mark.parametrize("arn", sorted(AWS_MANAGED))
    def test_identity(self, arn: str) -> None:
        """ARNs are the real ones, paths '/', ids 21-character ANPA ids."""
        managed = AWS_MANAGED[arn]
        assert arn == f"arn:aws:iam::aws:policy/{managed.name}"
        assert managed.path == "/"
        assert managed.policy_id.startswith("ANPA")
        assert len(managed.policy_id) == 21
        assert managed.description
        assert AWS_MANAGED_BY_NAME[managed.name] is managed

    def test_known_policies(self) -> None:
        """The seven policies pocketcloud ships, with AWS's ids."""
        ids = {m.name: m.policy_id for m in AWS_MANAGED.values()}
        assert ids == {
            "AdministratorAccess": "ANPAIWMBCKSKIEE64ZLYK",
            "AmazonEC2FullAccess": "ANPAI3VAJF5ZCRZ7MCQE6",
            "AmazonEC2ReadOnlyAccess": "ANPAIGDT4SV4GSETWTBZK",
            "AmazonS3FullAccess": "ANPAIFIR6V6BVTRAHWINE",
            "AmazonS3ReadOnlyAccess": "ANPAIZTJ4DXE7G6AGAE6M",
            "IAMFullAccess": "ANPAI7XKCFMBPM3QQRRVQ",
            "IAMReadOnlyAccess": "ANPAJKSO7NDY4T57MWDSQ",
        }
