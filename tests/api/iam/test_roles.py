"""IAM roles, instance profiles and STS sessions through boto3 against a live server."""

from __future__ import annotations

import json
import secrets
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.plugin.clouds import Server

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]

EC2_READ = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _name(stem: str) -> str:
    return f"{stem}-{secrets.token_hex(3)}"


def trust(principal: dict[str, Any] | str, **extra: Any) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def allow(action: str, resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def new_user(cloud: Server, iam: Any, *policies: str) -> tuple[str, Any]:
    """A user with an access key and the given inline policies: (its ARN, its STS client,
    which leaves parameter checks to the server)."""
    name = _name("u")
    user_arn = iam.create_user(UserName=name)["User"]["Arn"]
    for index, document in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = cloud.client(
        "sts", key["AccessKeyId"], key["SecretAccessKey"], parameter_validation=False
    )
    return user_arn, client


def new_role(iam: Any, document: str, *managed: str, **extra: Any) -> dict[str, Any]:
    role = iam.create_role(RoleName=_name("r"), AssumeRolePolicyDocument=document, **extra)
    for policy_arn in managed:
        iam.attach_role_policy(RoleName=role["Role"]["RoleName"], PolicyArn=policy_arn)
    return dict(role["Role"])


def account(cloud: Server) -> str:
    return str(cloud.client("sts").get_caller_identity()["Account"])


def as_session(cloud: Server, service: str, credentials: dict[str, Any]) -> Any:
    """A client signing with temporary credentials (key, secret and session token)."""
    return boto3.client(
        service,
        endpoint_url=cloud.endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )


class TestRoles:
    def test_create_get_list_update_delete(self, iam: Any) -> None:
        """A role is created with its trust policy, read back decoded, listed, updated and
        deleted; then it is gone (NoSuchEntity)."""
        document = trust({"Service": "ec2.amazonaws.com"})
        role = new_role(
            iam,
            document,
            Path="/apps/",
            Description="web",
            MaxSessionDuration=7200,
            Tags=[{"Key": "team", "Value": "web"}],
        )
        name = role["RoleName"]
        assert role["Tags"] == [{"Key": "team", "Value": "web"}]
        assert role["RoleId"].startswith("AROA")
        assert role["Arn"].endswith(f":role/apps/{name}")
        got = iam.get_role(RoleName=name)["Role"]
        assert got["AssumeRolePolicyDocument"] == json.loads(document)
        assert (got["Description"], got["MaxSessionDuration"]) == ("web", 7200)
        assert name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/apps/")["Roles"]]
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust("*"))
        assert (
            iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]["Statement"][0][
                "Principal"
            ]
            == "*"
        )
        iam.update_role(RoleName=name, Description="api")
        assert iam.get_role(RoleName=name)["Role"]["Description"] == "api"
        iam.delete_role(RoleName=name)
        with pytest.raises(ClientError) as info:
            iam.get_role(RoleName=name)
        assert _code(info) == "NoSuchEntity"

    def test_trust_policy_is_checked(self, iam: Any) -> None:
        """A trust policy without a principal, or with a Resource, is MalformedPolicyDocument;
        a duplicate name is EntityAlreadyExists."""
        no_principal = json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*"}]}
        )
        with_resource = trust("*", Resource="*")
        for document in (no_principal, with_resource, "{not json"):
            with pytest.raises(ClientError) as info:
                iam.create_role(RoleName=_name("bad"), AssumeRolePolicyDocument=document)
            assert _code(info) == "MalformedPolicyDocument"
        role = new_role(iam, trust("*"))
        with pytest.raises(ClientError) as info:
            iam.create_role(RoleName=role["RoleName"], AssumeRolePolicyDocument=trust("*"))
        assert _code(info) == "EntityAlreadyExists"

    def test_policies_and_delete_conflict(self, iam: Any) -> None:
        """Inline and managed policies attach to a role; while it has any, or sits in an
        instance profile, DeleteRole is DeleteConflict; ListEntitiesForPolicy names it."""
        role = new_role(iam, trust("*"), EC2_READ)
        name = role["RoleName"]
        iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=allow("s3:*"))
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["s3"]
        assert (
            iam.get_role_policy(RoleName=name, PolicyName="s3")["PolicyDocument"]["Statement"][0][
                "Action"
            ]
            == "s3:*"
        )
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [EC2_READ]
        roles = iam.list_entities_for_policy(PolicyArn=EC2_READ)["PolicyRoles"]
        assert name in [r["RoleName"] for r in roles]
        for undo in (
            lambda: iam.delete_role_policy(RoleName=name, PolicyName="s3"),
            lambda: iam.detach_role_policy(RoleName=name, PolicyArn=EC2_READ),
        ):
            with pytest.raises(ClientError) as info:
                iam.delete_role(RoleName=name)
            assert _code(info) == "DeleteConflict"
            undo()
        profile = _name("p")
        iam.create_instance_profile(InstanceProfileName=profile)
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=name)
        with pytest.raises(ClientError) as info:
            iam.delete_role(RoleName=name)
        assert _code(info) == "DeleteConflict"
        iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=name)
        iam.delete_role(RoleName=name)
        iam.delete_instance_profile(InstanceProfileName=profile)


class TestInstanceProfiles:
    def test_one_role_per_profile(self, iam: Any) -> None:
        """A profile holds one role (a second is LimitExceeded), lists it, is found by its
        role, and cannot be deleted while it holds one (DeleteConflict)."""
        first, second = new_role(iam, trust("*")), new_role(iam, trust("*"))
        name = _name("prof")
        made = iam.create_instance_profile(InstanceProfileName=name, Path="/web/")
        assert made["InstanceProfile"]["Arn"].endswith(f":instance-profile/web/{name}")
        assert made["InstanceProfile"]["InstanceProfileId"].startswith("AIPA")
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=first["RoleName"])
        with pytest.raises(ClientError) as info:
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=second["RoleName"])
        assert _code(info) == "LimitExceeded"
        got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        assert [r["RoleName"] for r in got["Roles"]] == [first["RoleName"]]
        by_role = iam.list_instance_profiles_for_role(RoleName=first["RoleName"])
        assert [p["InstanceProfileName"] for p in by_role["InstanceProfiles"]] == [name]
        listed = iam.list_instance_profiles(PathPrefix="/web/")["InstanceProfiles"]
        assert name in [p["InstanceProfileName"] for p in listed]
        with pytest.raises(ClientError) as info:
            iam.delete_instance_profile(InstanceProfileName=name)
        assert _code(info) == "DeleteConflict"
        iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=first["RoleName"])
        iam.delete_instance_profile(InstanceProfileName=name)
        with pytest.raises(ClientError) as info:
            iam.get_instance_profile(InstanceProfileName=name)
        assert _code(info) == "NoSuchEntity"


class TestAssumeRole:
    def test_trust_naming_the_user_is_enough(self, cloud: Server, iam: Any) -> None:
        """A trust policy naming the user lets it assume the role with no policy of its own;
        the session is an ASIA key with a token, acts as the assumed role and may do what
        the role may do, and nothing else."""
        user_arn, user_sts = new_user(cloud, iam)
        role = new_role(iam, trust({"AWS": user_arn}), EC2_READ)
        made = user_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="deploy")
        credentials = made["Credentials"]
        assert credentials["AccessKeyId"].startswith("ASIA")
        assert len(credentials["SessionToken"]) > 100
        assumed = f"arn:aws:sts::{account(cloud)}:assumed-role/{role['RoleName']}/deploy"
        assert made["AssumedRoleUser"] == {
            "AssumedRoleId": f"{role['RoleId']}:deploy",
            "Arn": assumed,
        }
        me = as_session(cloud, "sts", credentials).get_caller_identity()
        assert (me["Arn"], me["UserId"]) == (assumed, f"{role['RoleId']}:deploy")
        as_session(cloud, "ec2", credentials).describe_vpcs()
        with pytest.raises(ClientError) as info:
            as_session(cloud, "iam", credentials).list_users()
        assert _code(info) == "AccessDenied"
        assert assumed in info.value.response["Error"]["Message"]

    def test_trust_naming_the_account_needs_the_users_policy(self, cloud: Server, iam: Any) -> None:
        """A trust policy naming the account leaves it to the user's own policy: refused
        (AccessDenied) without sts:AssumeRole, allowed with it."""
        role = new_role(iam, trust({"AWS": f"arn:aws:iam::{account(cloud)}:root"}))
        _, bare = new_user(cloud, iam)
        with pytest.raises(ClientError) as info:
            bare.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
        assert _code(info) == "AccessDenied"
        _, allowed = new_user(cloud, iam, allow("sts:AssumeRole", role["Arn"]))
        assert allowed.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]

    def test_untrusted_or_missing_role_is_refused(self, cloud: Server, iam: Any) -> None:
        """Even a user allowed sts:AssumeRole everywhere cannot assume a role whose trust
        policy names someone else, nor one that does not exist: AccessDenied."""
        role = new_role(iam, trust({"Service": "ec2.amazonaws.com"}))
        _, user = new_user(cloud, iam, allow("sts:AssumeRole"))
        missing = role["Arn"] + "-gone"
        for arn in (role["Arn"], missing):
            with pytest.raises(ClientError) as info:
                user.assume_role(RoleArn=arn, RoleSessionName="s1")
            assert _code(info) == "AccessDenied"

    def test_durations(self, cloud: Server, iam: Any) -> None:
        """DurationSeconds must lie within 900 and the role's MaxSessionDuration; a session
        assuming a role (role chaining) gets at most an hour."""
        user_arn, user = new_user(cloud, iam)
        role = new_role(iam, trust({"AWS": user_arn}), MaxSessionDuration=7200)
        for seconds in (899, 7201):
            with pytest.raises(ClientError) as info:
                user.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=seconds)
            assert _code(info) == "ValidationError"
        made = user.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
        session_arn = made["AssumedRoleUser"]["Arn"]
        chained = new_role(iam, trust({"AWS": session_arn}))
        as_role = as_session(cloud, "sts", made["Credentials"])
        with pytest.raises(ClientError) as info:
            as_role.assume_role(RoleArn=chained["Arn"], RoleSessionName="c1", DurationSeconds=7200)
        assert _code(info) == "ValidationError"
        assert as_role.assume_role(RoleArn=chained["Arn"], RoleSessionName="c1")["Credentials"]

    def test_token_is_checked(self, cloud: Server, iam: Any) -> None:
        """A session's key without its token, or with another, is InvalidClientTokenId."""
        user_arn, user = new_user(cloud, iam)
        role = new_role(iam, trust({"AWS": user_arn}))
        credentials = user.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
        no_token = cloud.client("sts", credentials["AccessKeyId"], credentials["SecretAccessKey"])
        tampered = as_session(cloud, "sts", credentials | {"SessionToken": "A" * 400})
        for client in (no_token, tampered):
            with pytest.raises(ClientError) as info:
                client.get_caller_identity()
            assert _code(info) == "InvalidClientTokenId"

    def test_deleting_the_role_ends_its_sessions(self, cloud: Server, iam: Any) -> None:
        """Once its role is deleted, a session's calls are refused at once."""
        user_arn, user = new_user(cloud, iam)
        role = new_role(iam, trust({"AWS": user_arn}))
        credentials = user.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
        session = as_session(cloud, "sts", credentials)
        assert session.get_caller_identity()["Arn"].endswith("/s1")
        iam.delete_role(RoleName=role["RoleName"])
        with pytest.raises(ClientError) as info:
            session.get_caller_identity()
        assert _code(info) == "InvalidClientTokenId"


class TestSessionToken:
    def test_user_session(self, cloud: Server, iam: Any) -> None:
        """GetSessionToken needs no policy and gives the user a session that acts as the
        user; a session cannot ask for another (AccessDenied)."""
        user_arn, user = new_user(cloud, iam)
        credentials = user.get_session_token(DurationSeconds=900)["Credentials"]
        assert credentials["AccessKeyId"].startswith("ASIA")
        session = as_session(cloud, "sts", credentials)
        assert session.get_caller_identity()["Arn"] == user_arn
        with pytest.raises(ClientError) as info:
            session.get_session_token()
        assert _code(info) == "AccessDenied"
        with pytest.raises(ClientError) as info:
            user.get_session_token(DurationSeconds=600)
        assert _code(info) == "ValidationError"

    def test_user_session_may_not_call_iam(self, cloud: Server, iam: Any) -> None:
        """A GetSessionToken session (no MFA here) is refused by IAM as AWS refuses it,
        whatever the user's policies; EC2 and STS still answer it."""
        _, user = new_user(cloud, iam, allow("*"))
        credentials = user.get_session_token()["Credentials"]
        with pytest.raises(ClientError) as info:
            as_session(cloud, "iam", credentials).list_users()
        assert _code(info) == "InvalidClientTokenId"
        as_session(cloud, "ec2", credentials).describe_vpcs()
        assert as_session(cloud, "sts", credentials).get_caller_identity()["Arn"]
