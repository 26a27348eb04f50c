"""IAM enforcement: users with different policies try allowed and denied calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]

Call = Callable[[Any, Any], object]


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


POLICIES: dict[str, list[str]] = {
    # name → inline documents (managed ARNs start with arn:)
    "ro": ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"],
    "ec2full": ["arn:aws:iam::aws:policy/AmazonEC2FullAccess"],
    "iamro": ["arn:aws:iam::aws:policy/IAMReadOnlyAccess"],
    "nothing": [],
    "keys-only": [_doc({"Effect": "Allow", "Action": ["ec2:*KeyPair*"], "Resource": "*"})],
    "deny-delete": [
        "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
        _doc({"Effect": "Deny", "Action": "ec2:Delete*", "Resource": "*"}),
    ],
    "named-keys": [
        _doc(
            {
                "Effect": "Allow",
                "Action": "ec2:CreateKeyPair",
                "Resource": "arn:aws:ec2:*:*:key-pair/team-?-*",
            }
        )
    ],
    "not-action": [_doc({"Effect": "Allow", "NotAction": "ec2:Create*", "Resource": "*"})],
    "other-ip": [
        _doc(
            {
                "Effect": "Allow",
                "Action": "ec2:*",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            }
        )
    ],
    "local-ip": [
        _doc(
            {
                "Effect": "Allow",
                "Action": "ec2:*",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            }
        )
    ],
    "other-region": [
        _doc(
            {
                "Effect": "Allow",
                "Action": "ec2:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            }
        )
    ],
    "tagged-only": [
        _doc(
            {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "ec2:AuthorizeSecurityGroupIngress",
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:ResourceTag/team": "blue"}},
            },
        )
    ],
    "self-only": [
        _doc(
            {
                "Effect": "Allow",
                "Action": "iam:*AccessKey*",
                "Resource": "arn:aws:iam::*:user/${aws:username}",
            }
        )
    ],
    "expired": [
        _doc(
            {
                "Effect": "Allow",
                "Action": "ec2:*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
            }
        )
    ],
}


def describe(ec2: Any, iam: Any) -> object:
    return ec2.describe_key_pairs()


def create_key(ec2: Any, iam: Any) -> object:
    return ec2.create_key_pair(KeyName="matrix-key", DryRun=True)


def create_team_key(ec2: Any, iam: Any) -> object:
    return ec2.create_key_pair(KeyName="team-a-x", DryRun=True)


def create_group(ec2: Any, iam: Any) -> object:
    return ec2.create_security_group(GroupName="matrix", Description="m", DryRun=True)


def delete_key(ec2: Any, iam: Any) -> object:
    return ec2.delete_key_pair(KeyName="matrix-none", DryRun=True)


def list_users(ec2: Any, iam: Any) -> object:
    return iam.list_users()


def create_user(ec2: Any, iam: Any) -> object:
    return iam.create_user(UserName="matrix-never")


def own_keys(ec2: Any, iam: Any) -> object:
    return iam.list_access_keys()


def others_keys(ec2: Any, iam: Any) -> object:
    return iam.list_access_keys(UserName="admin")


ALLOWED = "allowed"
DENIED = "denied"
MATRIX: list[tuple[str, Call, str]] = [
    ("ro", describe, ALLOWED),
    ("ro", create_key, DENIED),
    ("ro", list_users, DENIED),
    ("ec2full", create_key, ALLOWED),
    ("ec2full", delete_key, ALLOWED),
    ("ec2full", list_users, DENIED),
    ("iamro", list_users, ALLOWED),
    ("iamro", create_user, DENIED),
    ("iamro", describe, DENIED),
    ("nothing", describe, DENIED),
    ("nothing", list_users, DENIED),
    ("keys-only", create_key, ALLOWED),
    ("keys-only", create_group, DENIED),
    ("deny-delete", create_key, ALLOWED),
    ("deny-delete", delete_key, DENIED),
    ("named-keys", create_team_key, ALLOWED),
    ("named-keys", create_key, DENIED),
    ("not-action", describe, ALLOWED),
    ("not-action", create_key, DENIED),
    ("other-ip", describe, DENIED),
    ("local-ip", describe, ALLOWED),
    ("other-region", describe, DENIED),
    ("self-only", own_keys, ALLOWED),
    ("self-only", others_keys, DENIED),
    ("expired", describe, DENIED),
]


@pytest.fixture(scope="module")
def users(server: Server, iam: Any) -> dict[str, tuple[Any, Any]]:
    """One IAM user per policy set, each with its own boto3 clients."""
    clients = {}
    for name, policies in POLICIES.items():
        user = f"matrix-{name}"
        iam.create_user(UserName=user)
        for i, policy in enumerate(policies):
            if policy.startswith("arn:"):
                iam.attach_user_policy(UserName=user, PolicyArn=policy)
            else:
                iam.put_user_policy(UserName=user, PolicyName=f"p{i}", PolicyDocument=policy)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        clients[name] = (
            server.client("ec2", key["AccessKeyId"], key["SecretAccessKey"]),
            server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]),
        )
    return clients


def _outcome(call: Call, ec2: Any, iam: Any) -> tuple[str, str]:
    try:
        call(ec2, iam)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("DryRunOperation",):
            return ALLOWED, code
        if code in ("UnauthorizedOperation", "AccessDenied"):
            return DENIED, code
        return ALLOWED, code  # authorized, then failed on its merits
    return ALLOWED, "ok"


@pytest.mark.parametrize(
    ("user", "call", "expected"), MATRIX, ids=[f"{u}-{c.__name__}" for u, c, _ in MATRIX]
)
def test_matrix(users: dict[str, tuple[Any, Any]], user: str, call: Call, expected: str) -> None:
    """Each user may make exactly the calls their policies allow; EC2 denials are
    UnauthorizedOperation and IAM denials AccessDenied."""
    ec2, iam = users[user]
    outcome, code = _outcome(call, ec2, iam)
    assert outcome == expected, code
    if outcome == DENIED:
        assert code == (
            "AccessDenied"
            if call in (list_users, create_user, own_keys, others_keys)
            else "UnauthorizedOperation"
        )


class TestConditionsOnResources:
    def test_resource_tag_condition(
        self, server: Server, iam: Any, ec2: Any, users: dict[str, tuple[Any, Any]]
    ) -> None:
        """ec2:ResourceTag conditions look at the target resource's tags."""
        blue = ec2.create_security_group(GroupName="blue", Description="b")["GroupId"]
        red = ec2.create_security_group(GroupName="red", Description="r")["GroupId"]
        ec2.create_tags(Resources=[blue], Tags=[{"Key": "team", "Value": "blue"}])
        ec2.create_tags(Resources=[red], Tags=[{"Key": "team", "Value": "red"}])
        user_ec2, _ = users["tagged-only"]
        rule = [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ]
        user_ec2.authorize_security_group_ingress(GroupId=blue, IpPermissions=rule)
        with pytest.raises(ClientError) as info:
            user_ec2.authorize_security_group_ingress(GroupId=red, IpPermissions=rule)
        assert info.value.response["Error"]["Code"] == "UnauthorizedOperation"

    def test_group_policies_apply(self, server: Server, iam: Any) -> None:
        """Policies attached to a group apply to its members, and stop when they leave."""
        iam.create_group(GroupName="readers")
        iam.attach_group_policy(
            GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
        )
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        ec2 = server.client("ec2", key["AccessKeyId"], key["SecretAccessKey"])
        with pytest.raises(ClientError):
            ec2.describe_vpcs()
        iam.add_user_to_group(GroupName="readers", UserName="reader")
        assert ec2.describe_vpcs()["Vpcs"]
        iam.remove_user_from_group(GroupName="readers", UserName="reader")
        with pytest.raises(ClientError) as info:
            ec2.describe_vpcs()
        assert info.value.response["Error"]["Code"] == "UnauthorizedOperation"

    def test_iam_paths_in_resource_arns(self, server: Server, iam: Any) -> None:
        """A user's ARN carries its path, so Resource patterns on paths work."""
        iam.create_user(UserName="pathed", Path="/team/")
        iam.create_user(UserName="pathless")
        iam.create_user(UserName="team-lead")
        iam.put_user_policy(
            UserName="team-lead",
            PolicyName="team",
            PolicyDocument=_doc(
                {
                    "Effect": "Allow",
                    "Action": "iam:GetUser",
                    "Resource": "arn:aws:iam::*:user/team/*",
                }
            ),
        )
        key = iam.create_access_key(UserName="team-lead")["AccessKey"]
        lead = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
        assert lead.get_user(UserName="pathed")["User"]["Path"] == "/team/"
        with pytest.raises(ClientError) as info:
            lead.get_user(UserName="pathless")
        assert info.value.response["Error"]["Code"] == "AccessDenied"

    def test_key_pair_tag_condition_on_delete(self, server: Server, iam: Any, ec2: Any) -> None:
        """Deleting a key pair by name is judged on that key pair's tags."""
        for name, team in (("keep-me", "ops"), ("bin-me", "dev")):
            ec2.create_key_pair(
                KeyName=name,
                TagSpecifications=[
                    {"ResourceType": "key-pair", "Tags": [{"Key": "team", "Value": team}]}
                ],
            )
        iam.create_user(UserName="dev-cleaner")
        iam.put_user_policy(
            UserName="dev-cleaner",
            PolicyName="p",
            PolicyDocument=_doc(
                {
                    "Effect": "Allow",
                    "Action": "ec2:DeleteKeyPair",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"ec2:ResourceTag/team": "dev"}},
                }
            ),
        )
        key = iam.create_access_key(UserName="dev-cleaner")["AccessKey"]
        cleaner = server.client("ec2", key["AccessKeyId"], key["SecretAccessKey"])
        cleaner.delete_key_pair(KeyName="bin-me")
        with pytest.raises(ClientError) as info:
            cleaner.delete_key_pair(KeyName="keep-me")
        assert info.value.response["Error"]["Code"] == "UnauthorizedOperation"
        names = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]
        assert "keep-me" in names
        assert "bin-me" not in names

    def test_dry_run_denied(self, users: dict[str, tuple[Any, Any]]) -> None:
        """DryRun without permission answers UnauthorizedOperation, not DryRunOperation."""
        ro_ec2, _ = users["ro"]
        with pytest.raises(ClientError) as info:
            ro_ec2.create_security_group(GroupName="x", Description="x", DryRun=True)
        assert info.value.response["Error"]["Code"] == "UnauthorizedOperation"

    def test_dry_run(self, ec2: Any) -> None:
        """DryRun answers DryRunOperation (412) when allowed, and creates nothing."""
        with pytest.raises(ClientError) as info:
            ec2.create_key_pair(KeyName="dry", DryRun=True)
        assert info.value.response["Error"]["Code"] == "DryRunOperation"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
        names = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]
        assert "dry" not in names

    def test_source_ip_cannot_be_claimed_in_a_header(
        self, users: dict[str, tuple[Any, Any]]
    ) -> None:
        """aws:SourceIp is the connection's address: an X-Forwarded-For header naming an
        allowed address (sent from 127.0.0.1, which proxies are trusted from by default)
        changes nothing."""
        other_ec2, _ = users["other-ip"]

        def claim(request: Any, **_: Any) -> None:
            request.headers["X-Forwarded-For"] = "203.0.113.9"
            request.headers["X-Forwarded-Proto"] = "https"

        other_ec2.meta.events.register("before-send.ec2.DescribeKeyPairs", claim)
        with pytest.raises(ClientError) as info:
            other_ec2.describe_key_pairs()
        assert info.value.response["Error"]["Code"] == "UnauthorizedOperation"
