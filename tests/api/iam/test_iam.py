"""IAM and STS operations through boto3 against a live server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]

READ_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
    }
)


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _status(info: pytest.ExceptionInfo[ClientError]) -> int:
    return int(info.value.response["ResponseMetadata"]["HTTPStatusCode"])


class TestUsers:
    def test_create_get_list_delete(self, iam: Any) -> None:
        """A user can be created, read, listed and deleted."""
        made = iam.create_user(UserName="alice", Path="/team/")["User"]
        assert made["Arn"].endswith(":user/team/alice")
        assert made["UserId"].startswith("AIDA")
        assert iam.get_user(UserName="alice")["User"]["UserId"] == made["UserId"]
        listed = iam.list_users(PathPrefix="/team/")["Users"]
        assert [u["UserName"] for u in listed] == ["alice"]
        iam.delete_user(UserName="alice")
        with pytest.raises(ClientError) as info:
            iam.get_user(UserName="alice")
        assert (_code(info), _status(info)) == ("NoSuchEntity", 404)

    def test_duplicate(self, iam: Any) -> None:
        """Names are unique regardless of case: EntityAlreadyExists (409)."""
        iam.create_user(UserName="Bob")
        with pytest.raises(ClientError) as info:
            iam.create_user(UserName="bob")
        assert (_code(info), _status(info)) == ("EntityAlreadyExists", 409)

    def test_get_user_without_name_is_caller(self, iam: Any) -> None:
        """GetUser with no name describes the caller."""
        assert iam.get_user()["User"]["UserName"] == "admin"

    def test_delete_conflict(self, iam: Any) -> None:
        """A user with an access key cannot be deleted: DeleteConflict."""
        iam.create_user(UserName="busy")
        iam.create_access_key(UserName="busy")
        with pytest.raises(ClientError) as info:
            iam.delete_user(UserName="busy")
        assert _code(info) == "DeleteConflict"

    def test_invalid_name(self, iam: Any) -> None:
        """A name with characters IAM refuses is a ValidationError."""
        with pytest.raises(ClientError) as info:
            iam.create_user(UserName="no spaces!")
        assert _code(info) == "ValidationError"


class TestGroupsAndKeys:
    def test_membership(self, iam: Any) -> None:
        """Users join and leave groups; GetGroup lists the members."""
        iam.create_group(GroupName="devs")
        iam.create_user(UserName="carol")
        iam.add_user_to_group(GroupName="devs", UserName="carol")
        assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["carol"]
        groups = iam.list_groups_for_user(UserName="carol")["Groups"]
        assert [g["GroupName"] for g in groups] == ["devs"]
        with pytest.raises(ClientError) as info:
            iam.delete_group(GroupName="devs")
        assert _code(info) == "DeleteConflict"
        iam.remove_user_from_group(GroupName="devs", UserName="carol")
        iam.delete_group(GroupName="devs")

    def test_access_key_limit(self, iam: Any) -> None:
        """A user has at most two access keys: LimitExceeded."""
        iam.create_user(UserName="twokeys")
        iam.create_access_key(UserName="twokeys")
        iam.create_access_key(UserName="twokeys")
        with pytest.raises(ClientError) as info:
            iam.create_access_key(UserName="twokeys")
        assert _code(info) == "LimitExceeded"
        keys = iam.list_access_keys(UserName="twokeys")["AccessKeyMetadata"]
        assert len(keys) == 2
        assert all(k["Status"] == "Active" for k in keys)


class TestPolicies:
    def test_inline_user_policy_round_trip(self, iam: Any) -> None:
        """An inline policy comes back as the same document."""
        iam.create_user(UserName="inline")
        iam.put_user_policy(UserName="inline", PolicyName="read", PolicyDocument=READ_EC2)
        got = iam.get_user_policy(UserName="inline", PolicyName="read")
        assert got["PolicyDocument"] == json.loads(READ_EC2)
        assert iam.list_user_policies(UserName="inline")["PolicyNames"] == ["read"]
        iam.delete_user_policy(UserName="inline", PolicyName="read")
        assert iam.list_user_policies(UserName="inline")["PolicyNames"] == []

    def test_malformed_policy(self, iam: Any) -> None:
        """A document that is not a policy is MalformedPolicyDocument."""
        iam.create_user(UserName="malformed")
        for document in ("{not json", json.dumps({"Statement": [{"Effect": "Maybe"}]})):
            with pytest.raises(ClientError) as info:
                iam.put_user_policy(UserName="malformed", PolicyName="p", PolicyDocument=document)
            assert _code(info) == "MalformedPolicyDocument"

    def test_managed_policy_versions(self, iam: Any) -> None:
        """Managed policies have versions; the default one cannot be deleted."""
        arn = iam.create_policy(PolicyName="ec2-read", PolicyDocument=READ_EC2)["Policy"]["Arn"]
        version = iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=READ_EC2, SetAsDefault=True
        )["PolicyVersion"]
        assert version["VersionId"] == "v2"
        assert version["IsDefaultVersion"] is True
        assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
        with pytest.raises(ClientError) as info:
            iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
        assert _code(info) == "DeleteConflict"
        with pytest.raises(ClientError) as info:
            iam.delete_policy(PolicyArn=arn)
        assert _code(info) == "DeleteConflict"
        iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
        got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
        assert got["Document"] == json.loads(READ_EC2)
        iam.delete_policy(PolicyArn=arn)

    def test_aws_managed_policies_exist(self, iam: Any) -> None:
        """The AWS managed policies exist with their real ARNs."""
        names = [
            "AdministratorAccess",
            "AmazonEC2FullAccess",
            "AmazonEC2ReadOnlyAccess",
            "IAMFullAccess",
            "IAMReadOnlyAccess",
        ]
        for name in names:
            policy = iam.get_policy(PolicyArn=f"arn:aws:iam::aws:policy/{name}")["Policy"]
            assert policy["PolicyName"] == name
        listed = {p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]}
        assert set(names) <= listed

    def test_attach_and_list(self, iam: Any) -> None:
        """Attached policies are listed and counted; ListEntitiesForPolicy names the user."""
        iam.create_user(UserName="attached")
        arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        iam.attach_user_policy(UserName="attached", PolicyArn=arn)
        got = iam.list_attached_user_policies(UserName="attached")["AttachedPolicies"]
        assert got == [{"PolicyName": "IAMReadOnlyAccess", "PolicyArn": arn}]
        users = iam.list_entities_for_policy(PolicyArn=arn)["PolicyUsers"]
        assert "attached" in [u["UserName"] for u in users]
        iam.detach_user_policy(UserName="attached", PolicyArn=arn)
        with pytest.raises(ClientError) as info:
            iam.detach_user_policy(UserName="attached", PolicyArn=arn)
        assert _code(info) == "NoSuchEntity"

    def test_list_users_pagination(self, iam: Any) -> None:
        """MaxItems/Marker pages through users exactly once."""
        for i in range(5):
            iam.create_user(UserName=f"pager{i}", Path="/pager/")
        pages = iam.get_paginator("list_users").paginate(
            PathPrefix="/pager/", PaginationConfig={"PageSize": 2}
        )
        sizes = [len(p["Users"]) for p in pages]
        assert sizes == [2, 2, 1]


class TestSts:
    def test_get_caller_identity(self, server: Server, sts: Any) -> None:
        """GetCallerIdentity names the caller and the account."""
        me = sts.get_caller_identity()
        assert me["Arn"].endswith(":user/admin")
        assert len(me["Account"]) == 12

    def test_awscli_profile(self, server: Server) -> None:
        """`aws --profile` with the profile init wrote reaches this server."""
        me = server.aws("sts", "get-caller-identity")
        assert me["Arn"].endswith(":user/admin")
