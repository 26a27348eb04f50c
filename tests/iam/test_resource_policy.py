"""Resource-based policies: trust and bucket policies, their principals and their validation."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from pocketcloud.errors import ClientError
from pocketcloud.iam.evaluate import RequestContext
from pocketcloud.iam.resource_policy import (
    Caller,
    Grant,
    ResourcePolicyKind,
    evaluate_resource,
    parse_resource_policy,
)

TRUST = ResourcePolicyKind.TRUST
BUCKET = ResourcePolicyKind.BUCKET
ACCT = "123456789012"
OTHER = "210987654321"
USER = f"arn:aws:iam::{ACCT}:user/alice"
ROLE = f"arn:aws:iam::{ACCT}:role/app/web"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/web/i-0abc"
ROOT = f"arn:aws:iam::{ACCT}:root"
OBJECTS = "arn:aws:s3:::photos/*"

ALICE = Caller(ACCT, (USER,))
WEB = Caller(ACCT, (SESSION, ROLE))
BOB = Caller(OTHER, (f"arn:aws:iam::{OTHER}:user/bob",))
EC2 = Caller("", service="ec2.amazonaws.com")
ANON = Caller("", anonymous=True)

SYNTAX = "Syntax errors in policy."
SID = "Statement IDs (SID) in a single policy must be unique."
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
STS_ONLY = "AssumeRole policy may only specify STS AssumeRole actions."
BUCKET_JSON = "Policies must be valid JSON and the first byte must be '{'"
TRUST_CODE = "MalformedPolicyDocument"
BUCKET_CODE = "MalformedPolicy"

Keys = Mapping[str, str | Sequence[str]]


def doc(*statements: dict[str, Any], **top: Any) -> str:
    """A 2012-10-17 policy document holding the statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements), **top})


def trust(principal: Any = "*", effect: str = "Allow", **changes: Any) -> dict[str, Any]:
    """A trust statement letting ``principal`` assume the role (None in changes drops a key)."""
    merged = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole", **changes}
    return {k: v for k, v in merged.items() if v is not None}


def reader(**changes: Any) -> dict[str, Any]:
    """A bucket statement letting anyone s3:GetObject the photos (None in changes drops a key)."""
    return trust(**{"Action": "s3:GetObject", "Resource": OBJECTS, **changes})


def decide(
    document: str,
    caller: Caller,
    kind: ResourcePolicyKind = TRUST,
    action: str = "sts:AssumeRole",
    resource: str = ROLE,
    keys: Keys | None = None,
) -> Grant:
    """Parse a document of the kind and evaluate one request by ``caller`` against it."""
    policy = parse_resource_policy(document, kind)
    return evaluate_resource(policy, caller, RequestContext(action, resource, keys or {}))


def get_object(document: str, caller: Caller = ALICE, keys: Keys | None = None) -> Grant:
    """Evaluate s3:GetObject on one photo against a bucket policy."""
    return decide(document, caller, BUCKET, "s3:GetObject", "arn:aws:s3:::photos/a.jpg", keys)


class TestPrincipal:
    @pytest.mark.parametrize(
        ("principal", "caller", "expected"),
        [
            ({"AWS": USER}, ALICE, Grant.DIRECT),
            ({"AWS": USER}, BOB, Grant.NONE),
            ({"AWS": [f"arn:aws:iam::{OTHER}:user/bob", USER]}, ALICE, Grant.DIRECT),
            ({"AWS": ROLE}, WEB, Grant.DIRECT),
            ({"AWS": ROLE}, ALICE, Grant.NONE),
            ({"AWS": SESSION}, WEB, Grant.DIRECT),
            ({"AWS": ACCT}, ALICE, Grant.ACCOUNT),
            ({"AWS": ROOT}, WEB, Grant.ACCOUNT),
            ({"AWS": ACCT}, BOB, Grant.NONE),
            ("*", ALICE, Grant.DIRECT),
            ("*", ANON, Grant.DIRECT),
            ({"AWS": "*"}, ANON, Grant.DIRECT),
            ({"AWS": USER}, Caller(ACCT, (USER,), anonymous=True), Grant.NONE),
            ({"Service": "ec2.amazonaws.com"}, EC2, Grant.DIRECT),
            ({"Service": ["lambda.amazonaws.com"]}, EC2, Grant.NONE),
            ({"Service": "ec2.amazonaws.com"}, ALICE, Grant.NONE),
            ({"Federated": "cognito-identity.amazonaws.com"}, ALICE, Grant.NONE),
            ({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}, ALICE, Grant.NONE),
        ],
    )
    def test_principal_forms(self, principal: Any, caller: Caller, expected: Grant) -> None:
        """Each principal form names exactly its callers: itself DIRECT, its account ACCOUNT."""
        assert decide(doc(trust(principal)), caller) is expected

    @pytest.mark.parametrize(
        ("caller", "expected"), [(ALICE, Grant.NONE), (BOB, Grant.DIRECT), (ANON, Grant.DIRECT)]
    )
    def test_not_principal_allow(self, caller: Caller, expected: Grant) -> None:
        """An Allow with NotPrincipal applies to every caller it does not name, anonymous too."""
        document = doc(reader(NotPrincipal={"AWS": USER}, Principal=None))
        assert get_object(document, caller) is expected

    @pytest.mark.parametrize(
        ("caller", "expected"), [(ALICE, Grant.DIRECT), (BOB, Grant.EXPLICIT_DENY)]
    )
    def test_not_principal_deny(self, caller: Caller, expected: Grant) -> None:
        """A Deny with NotPrincipal denies everyone but the callers it names."""
        fence = reader(NotPrincipal={"AWS": USER}, Principal=None, Effect="Deny")
        assert get_object(doc(reader(), fence), caller) is expected


class TestEvaluateResource:
    def test_deny_wins_over_allow(self) -> None:
        """An applicable Deny, here naming the caller's account, beats an Allow naming it."""
        document = doc(trust({"AWS": USER}), trust({"AWS": ACCT}, "Deny"))
        assert decide(document, ALICE) is Grant.EXPLICIT_DENY

    def test_deny_for_another_action_does_not_apply(self) -> None:
        """A Deny whose action does not match the request leaves the Allow standing."""
        document = doc(trust({"AWS": USER}), trust({"AWS": USER}, "Deny", Action="sts:TagSession"))
        assert decide(document, ALICE) is Grant.DIRECT

    @pytest.mark.parametrize("reverse", [False, True])
    def test_direct_beats_account(self, reverse: bool) -> None:
        """Naming the caller itself outranks naming its account, in either statement order."""
        statements = [trust({"AWS": ACCT}), trust({"AWS": USER})]
        document = doc(*(reversed(statements) if reverse else statements))
        assert decide(document, ALICE) is Grant.DIRECT

    def test_action_must_match(self) -> None:
        """A statement naming the caller but another action does not apply."""
        assert decide(doc(trust({"AWS": USER})), ALICE, action="sts:TagSession") is Grant.NONE

    def test_bucket_resource_must_match(self) -> None:
        """A bucket statement applies only to the resources it lists."""
        document = doc(reader(Resource="arn:aws:s3:::other/*"))
        assert get_object(document) is Grant.NONE

    @pytest.mark.parametrize("resource", ["*", ROLE, "arn:aws:s3:::photos"])
    def test_trust_policy_matches_any_resource(self, resource: str) -> None:
        """A trust statement has no Resource and so applies whatever resource is asked for."""
        assert decide(doc(trust()), ALICE, resource=resource) is Grant.DIRECT

    @pytest.mark.parametrize(
        ("address", "expected"),
        [("10.1.2.3", Grant.DIRECT), ("192.168.1.1", Grant.NONE), (None, Grant.NONE)],
    )
    def test_source_ip_condition(self, address: str | None, expected: Grant) -> None:
        """An IpAddress condition on aws:SourceIp admits only requests from the range."""
        condition = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
        keys = {"aws:SourceIp": address} if address else {}
        assert get_object(doc(reader(Condition=condition)), keys=keys) is expected

    @pytest.mark.parametrize(
        ("prefix", "expected"), [("home/alice/notes", Grant.DIRECT), ("home/bob/", Grant.NONE)]
    )
    def test_prefix_condition(self, prefix: str, expected: Grant) -> None:
        """A StringLike condition on s3:prefix limits listing to the matching prefixes."""
        statement = reader(
            Condition={"StringLike": {"s3:prefix": "home/alice/*"}},
            Action="s3:ListBucket",
            Resource="arn:aws:s3:::photos",
        )
        listing = ("s3:ListBucket", "arn:aws:s3:::photos", {"s3:prefix": prefix})
        assert decide(doc(statement), ALICE, BUCKET, *listing) is expected


class TestParseResourcePolicy:
    @pytest.mark.parametrize(
        "change",
        [
            {"Action": "sts:*"},
            {"Action": "sts:Assume*"},
            {"Action": "*"},
            {"Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]},
            {"Action": None, "NotAction": "sts:SetContext"},
            {"Principal": {"AWS": [ACCT, ROOT, SESSION, ROLE]}},
            {"Principal": None, "NotPrincipal": {"AWS": USER}},
            {"Principal": {"Federated": "cognito-identity.amazonaws.com"}},
        ],
    )
    def test_valid_trust_policies(self, change: dict[str, Any]) -> None:
        """Trust statements with STS actions and well-formed principals parse."""
        policy = parse_resource_policy(doc(trust(**change)), TRUST)
        assert len(policy.statements) == 1

    def test_statement_fields(self) -> None:
        """A parsed statement keeps its principals, its negation and its compiled statement."""
        document = doc(trust({"AWS": [ACCT, USER], "Service": "ec2.amazonaws.com"}, Sid="a"))
        policy = parse_resource_policy(document, TRUST)
        (entry,) = policy.statements
        assert (policy.version, policy.id, entry.negated) == ("2012-10-17", None, False)
        assert entry.principals.accounts == {ACCT}
        assert entry.principals.arns == {USER}
        assert entry.principals.services == {"ec2.amazonaws.com"}
        assert (entry.statement.sid, entry.statement.resources) == ("a", ("*",))

    def test_parse_is_cached_on_text_and_kind(self) -> None:
        """Identical text and kind give the very same parsed policy."""
        document = doc(reader())
        first = parse_resource_policy(document, BUCKET)
        assert parse_resource_policy(document, BUCKET) is first
        assert parse_resource_policy(doc(trust()), TRUST) is not first

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            (doc(trust(None)), "Missing required field Principal"),
            (doc(trust(Action=None)), "Missing required field Action"),
            (doc(trust(Resource=ROLE)), "Has prohibited field Resource"),
            (doc(trust(NotResource=ROLE)), "Has prohibited field NotResource"),
            (doc(trust(NotPrincipal={"AWS": USER})), SYNTAX),
            (doc(trust(Action="s3:GetObject")), STS_ONLY),
            (doc(trust(Action="sts:Get*")), STS_ONLY),
            (doc(trust(Action="AssumeRole")), VENDOR),
            (
                doc(trust({"AWS": f"arn:aws:iam::{ACCT}:user/a*"})),
                f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCT}:user/a*"',
            ),
            (doc(trust({"AWS": "alice"})), 'Invalid principal in policy: "AWS":"alice"'),
            (doc(trust({"Service": "ec2"})), 'Invalid principal in policy: "SERVICE":"ec2"'),
            (doc(trust({"Group": "admins"})), SYNTAX),
            (doc(trust(USER)), SYNTAX),
            (doc(trust(), Version="2020-01-01"), SYNTAX),
            (doc(trust(Sid="a"), trust(Sid="a")), SID),
            (doc(trust(Effect="Permit")), SYNTAX),
            ("not json", SYNTAX),
        ],
    )
    def test_trust_errors(self, document: str, message: str) -> None:
        """IAM rejects a bad trust policy with MalformedPolicyDocument and its message."""
        expect_malformed(document, TRUST, TRUST_CODE, message)

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            (doc(reader(Principal=None)), "Missing required field Principal"),
            (doc(reader(Resource=None)), "Missing required field Resource"),
            (doc(reader(Resource="*")), "Policy has invalid resource"),
            (doc(reader(Resource="arn:aws:ec2:::x")), "Policy has invalid resource"),
            (doc(reader(Action="ec2:RunInstances")), "Policy has invalid action"),
            (doc(reader(Principal={"AWS": "alice"})), "Invalid principal in policy"),
            (doc(reader(Principal={"Group": "x"})), "Invalid principal in policy"),
            ("not json", BUCKET_JSON),
            ("[]", BUCKET_JSON),
            (doc(reader(), Version="2020-01-01"), SYNTAX),
            (doc(reader(Sid="a"), reader(Sid="a")), SID),
            (doc(reader(Effect="Permit")), SYNTAX),
            (doc(reader(Condition={"Bogus": {"aws:SourceIp": "10.0.0.0/8"}})), SYNTAX),
        ],
    )
    def test_bucket_errors(self, document: str, message: str) -> None:
        """S3 rejects a bad bucket policy with MalformedPolicy, shared checks included."""
        expect_malformed(document, BUCKET, BUCKET_CODE, message)


def expect_malformed(document: str, kind: ResourcePolicyKind, code: str, message: str) -> None:
    """Assert that parsing fails with ``code``, status 400 and exactly ``message``."""
    with pytest.raises(ClientError) as caught:
        parse_resource_policy(document, kind)
    assert (caught.value.code, caught.value.status) == (code, 400)
    assert caught.value.message == message
