"""Whether a bucket policy is public, as S3 defines it ("The meaning of public"), and what
a bucket policy may name (pure)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from pocketcloud.errors import ClientError
from pocketcloud.iam.resource_policy import ResourcePolicyKind, parse_resource_policy
from pocketcloud.services.s3.policy import check
from pocketcloud.services.s3.public_access import ALL_ON, is_public, parse
from pocketcloud.store.schema import MIGRATIONS

BUCKET = "arn:aws:s3:::site"
USER = "arn:aws:iam::123456789012:user/alice"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(principal: Any = "*", condition: dict[str, Any] | None = None, **extra: Any) -> Any:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                 "Resource": f"{BUCKET}/*", **extra}  # fmt: skip
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _public(*statements: dict[str, Any]) -> bool:
    return is_public(parse_resource_policy(_policy(*statements), ResourcePolicyKind.BUCKET))


class TestIsPublic:
    @pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*", USER]}])
    def test_everyone_is_public(self, principal: Any) -> None:
        """An Allow to "*", {"AWS": "*"} (also beside a named user) is public."""
        assert _public(_allow(principal))

    @pytest.mark.parametrize(
        "principal",
        [{"AWS": USER}, {"AWS": "123456789012"}, {"Service": "cloudtrail.amazonaws.com"}],
    )
    def test_fixed_principals_are_not(self, principal: Any) -> None:
        """An Allow to a named user, an account or a service principal is not public."""
        assert not _public(_allow(principal))

    def test_federated_and_not_principal_are_public(self) -> None:
        """A federated principal (S3's own example) and a NotPrincipal Allow are public."""
        assert _public(_allow({"Federated": "graph.facebook.com"}))
        statement = _allow()
        statement["NotPrincipal"] = {"AWS": USER}
        del statement["Principal"]
        assert _public(statement)

    def test_deny_to_everyone_is_not(self) -> None:
        """A Deny never makes a policy public."""
        assert not _public({**_allow(), "Effect": "Deny"})

    def test_one_public_statement_is_enough(self) -> None:
        """A policy with a fixed grant and a public one is public."""
        assert _public(_allow({"AWS": USER}), _allow(Sid="open"))

    @pytest.mark.parametrize(
        "condition",
        [
            {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.7/32"]}},
            {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
            {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}},
            {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
            {"StringEquals": {"aws:PrincipalAccount": "123456789012"}},
            {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            {"StringEquals": {"aws:SourceAccount": "123456789012"}},
            {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}},
            {"StringLike": {"aws:userid": "AIDAEXAMPLE"}},
            {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ["o-abc123"]}},
        ],
    )
    def test_fixed_values_narrow(self, condition: dict[str, Any]) -> None:
        """A condition comparing a narrowing key with fixed values makes "*" non-public."""
        assert not _public(_allow(condition=condition))

    @pytest.mark.parametrize(
        "condition",
        [
            {"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}},
            {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/7"]}},
            {"IpAddress": {"aws:SourceIp": "2001::/16"}},
            {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            {"StringLike": {"aws:SourceVpc": "vpc-*"}},
            {"StringEqualsIfExists": {"aws:PrincipalAccount": "123456789012"}},
            {"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}},
            {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ["o-abc123"]}},
            {"StringEquals": {"aws:userid": "${aws:userid}"}},
            {"StringEquals": {"aws:Referer": "https://example.com/"}},
            {"Bool": {"aws:SecureTransport": "true"}},
        ],
    )
    def test_other_conditions_do_not(self, condition: dict[str, Any]) -> None:
        """Broad CIDRs (wider than /8, IPv6 /32), wildcards, policy variables, negated or
        IfExists/ForAllValues operators (a request without the key passes) and keys that
        say nothing of who calls leave "*" public."""
        assert _public(_allow(condition=condition))


class TestCheck:
    def test_resources_must_be_the_buckets(self) -> None:
        """A bucket policy names the bucket, its objects, or patterns matching the bucket."""
        for resource in (BUCKET, f"{BUCKET}/*", "arn:aws:s3:::si*/x", "arn:aws:s3:::*"):
            check("site", _policy(_allow({"AWS": USER}, Resource=resource)))
        with pytest.raises(ClientError) as other:
            check("site", _policy(_allow({"AWS": USER}, Resource="arn:aws:s3:::other/*")))
        assert (other.value.code, other.value.message) == (
            "MalformedPolicy",
            "Policy has invalid resource",
        )

    def test_too_large(self) -> None:
        """A document over 20 KB is MalformedPolicy."""
        statements = [_allow({"AWS": USER}, Sid=f"s{i}") for i in range(200)]
        with pytest.raises(ClientError) as big:
            check("site", _policy(*statements))
        assert big.value.code == "MalformedPolicy"


def test_buckets_made_before_the_settings_get_a_new_buckets() -> None:
    """Migration 10 gives a bucket that already existed what a new one has: no policy, all
    four Block Public Access settings on, BucketOwnerEnforced."""
    db = sqlite3.connect(":memory:")
    for migration in MIGRATIONS[:9]:
        db.executescript(migration)
    db.execute("INSERT INTO s3_buckets(name, region, owner, created) VALUES('old', 'r', 'a', 't')")
    db.executescript(MIGRATIONS[9])
    row = db.execute("SELECT policy, public_access_block, ownership FROM s3_buckets").fetchone()
    assert (row[0], parse(row[1]), row[2]) == (None, ALL_ON, "BucketOwnerEnforced")
    db.close()
