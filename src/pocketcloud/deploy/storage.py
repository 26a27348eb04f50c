"""An app's S3 bucket and the role its server reaches it with (pure): what exists + what is
wanted → the AWS calls, as data (``AwsCall``), so ``--dry-run`` and the echo show each
as its AWS CLI line.

``deploy --bucket NAME`` makes the bucket, a role only EC2 may assume whose one policy
allows reading, writing and listing that bucket and nothing else, an instance profile
holding the role, and gives the app's instance that profile. No access key is made: on
the server, boto3 gets the role's short-lived credentials from the metadata service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pocketcloud.deploy.awscli import AwsCall

POLICY_NAME = "bucket"
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
EC2_TRUST: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass(frozen=True)
class StorageNames:
    """The cloud names of an app's storage: its bucket, and its role and instance profile
    (both ``<app>-app``)."""

    app: str
    bucket: str

    @property
    def role(self) -> str:
        return f"{self.app}-app"

    @property
    def profile(self) -> str:
        return f"{self.app}-app"

    def tags(self) -> list[dict[str, str]]:
        return [{"Key": APP_TAG, "Value": self.app}]


@dataclass(frozen=True)
class StorageFacts:
    """What the cloud holds of them (from HeadBucket, GetRole, GetRolePolicy,
    GetInstanceProfile)."""

    bucket: bool = False
    role: bool = False
    #: the role's inline policy of that name, decoded (None: it has none)
    policy: dict[str, Any] | None = None
    profile: bool = False
    #: the roles in the profile
    profile_roles: tuple[str, ...] = ()
    #: the role's and the profile's tags, by key
    role_tags: dict[str, str] = field(default_factory=dict)
    profile_tags: dict[str, str] = field(default_factory=dict)


class StorageConflict(ValueError):
    """A role or instance profile of the app's name exists but deploy did not make it for
    this app: it is someone else's, and is left alone."""


APP_TAG = "pocketcloud:app"


def bucket_policy(bucket: str) -> dict[str, Any]:
    """The role's one policy: the bucket's objects read, written and deleted; the bucket
    listed. Nothing else (no other bucket, no bucket settings)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListTheBucket",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Sid": "ReadWriteItsObjects",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
        ],
    }


def check_ours(names: StorageNames, facts: StorageFacts) -> None:
    """StorageConflict unless an existing role or profile of the app's name carries the
    app's tag (deploy made it): another one is never changed."""
    for kind, exists, tags, name in (
        ("role", facts.role, facts.role_tags, names.role),
        ("instance profile", facts.profile, facts.profile_tags, names.profile),
    ):
        if exists and tags.get(APP_TAG) != names.app:
            raise StorageConflict(
                f"{kind} {name} exists but was not made by pocketcloud deploy for app "
                f"{names.app} (no tag {APP_TAG}={names.app}); it is left as it is: deploy "
                "under another --app name, or remove it"
            )


def plan(names: StorageNames, facts: StorageFacts, region: str | None) -> list[AwsCall]:
    """The calls that make what is missing (none when everything is in place);
    StorageConflict if a role or profile of the app's name is someone else's."""
    check_ours(names, facts)
    calls: list[AwsCall] = []
    if not facts.bucket:
        params: dict[str, Any] = {"Bucket": names.bucket}
        if region and region != "us-east-1":  # us-east-1 takes no LocationConstraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        calls.append(AwsCall("create_bucket", params, service="s3"))
    if not facts.role:
        calls.append(
            AwsCall(
                "create_role",
                {
                    "RoleName": names.role,
                    "AssumeRolePolicyDocument": json.dumps(EC2_TRUST),
                    "Description": f"pocketcloud app {names.app}: its bucket {names.bucket}",
                    "Tags": names.tags(),
                },
                service="iam",
            )
        )
    wanted = bucket_policy(names.bucket)
    if facts.policy != wanted:
        calls.append(
            AwsCall(
                "put_role_policy",
                {
                    "RoleName": names.role,
                    "PolicyName": POLICY_NAME,
                    "PolicyDocument": json.dumps(wanted),
                },
                service="iam",
            )
        )
    if not facts.profile:
        calls.append(
            AwsCall(
                "create_instance_profile",
                {"InstanceProfileName": names.profile, "Tags": names.tags()},
                service="iam",
            )
        )
    if names.role not in facts.profile_roles:
        calls += [
            AwsCall(
                "remove_role_from_instance_profile",
                {"InstanceProfileName": names.profile, "RoleName": other},
                service="iam",
            )
            for other in facts.profile_roles
        ]
        calls.append(
            AwsCall(
                "add_role_to_instance_profile",
                {"InstanceProfileName": names.profile, "RoleName": names.role},
                service="iam",
            )
        )
    return calls


def attach(
    names: StorageNames, instance_id: str, profile_arn: str, associations: list[dict[str, Any]]
) -> AwsCall | None:
    """The call that gives the instance the app's profile: none if it has it, a replace if
    it has another (``associations``: its DescribeIamInstanceProfileAssociations entries)."""
    live = [a for a in associations if a.get("State") in ("associating", "associated")]
    if any(a["IamInstanceProfile"]["Arn"] == profile_arn for a in live):
        return None
    spec = {"Name": names.profile}
    if live:
        return AwsCall(
            "replace_iam_instance_profile_association",
            {"IamInstanceProfile": spec, "AssociationId": live[0]["AssociationId"]},
        )
    return AwsCall(
        "associate_iam_instance_profile", {"IamInstanceProfile": spec, "InstanceId": instance_id}
    )


def app_settings(bucket: str, region: str) -> dict[str, str]:
    """What the app's settings gain: django-storages' bucket and region. No key: boto3
    finds the role's credentials (and, on pocketcloud, the endpoint) by itself."""
    return {"AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_REGION_NAME": region}


def key_note(local_settings: dict[str, Any]) -> str | None:
    """What deploy says when the project keeps an access key in its local settings (the
    seed's way): it is never shipped, and a role is the safer way on a server."""
    if not str(local_settings.get("AWS_ACCESS_KEY_ID") or "").strip():
        return None
    return (
        ".conf/settings_local.json holds an AWS access key: it stays on this machine (never "
        "shipped). On a server a role is safer than a key: `pocketcloud deploy --bucket NAME` "
        "gives the app a bucket and a role that may use only it, and writes no key there"
    )
