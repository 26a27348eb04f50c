"""An instance's role credentials, as its metadata service hands them out.

EC2 assumes the role of the instance's profile on the instance's behalf (the role's trust
policy must allow ``ec2.amazonaws.com``) with the instance id as the session name. A set
lasts six hours and is replaced after one, so a client that refreshes when AWS's SDKs do
(minutes before Expiration) always finds a fresh one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pocketcloud.iam.evaluate import RequestContext
from pocketcloud.iam.resource_policy import (
    Caller,
    Grant,
    ResourcePolicyKind,
    evaluate_resource,
    parse_resource_policy,
)
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam import profiles
from pocketcloud.services.iam.profiles import InstanceProfile
from pocketcloud.services.iam.roles import Role
from pocketcloud.services.sts import sessions

LIFETIME = 6 * 3600
RENEW_AFTER = 3600
EC2 = Caller("", (), service="ec2.amazonaws.com")


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile_of(cloud: Cloud, profile_arn: str) -> InstanceProfile | None:
    """The instance profile an association names, if it still exists."""
    return profiles.by_arn(cloud, profile_arn)


def info(profile: InstanceProfile, at: float) -> str:
    """``meta-data/iam/info``."""
    return json.dumps(
        {
            "Code": "Success",
            "LastUpdated": _stamp(at),
            "InstanceProfileArn": profile.arn,
            "InstanceProfileId": profile.profile_id,
        },
        indent=2,
    )


def trusts_ec2(role: Role) -> bool:
    """Whether the role's trust policy lets EC2 assume it."""
    trust = parse_resource_policy(role.trust_policy, ResourcePolicyKind.TRUST)
    ctx = RequestContext("sts:AssumeRole", role.arn, {})
    return evaluate_resource(trust, EC2, ctx) is Grant.DIRECT


def credentials(cloud: Cloud, instance_id: str, role: Role, at: float) -> str:
    """``meta-data/iam/security-credentials/<role>``: the current set, renewed hourly."""
    if not trusts_ec2(role):
        return json.dumps(
            {
                "Code": "AssumeRoleUnauthorizedAccess",
                "Message": f"EC2 cannot assume the role {role.name}. Please see "
                "documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                "id_roles_use_switch-role-ec2.html.",
                "LastUpdated": _stamp(at),
            },
            indent=2,
        )
    with cloud.store.transaction():
        session = sessions.latest_for(cloud, instance_id, role.name)
        if session is None or session.owner_id != role.role_id or at - session.issued > RENEW_AFTER:
            session = sessions.issue(
                cloud, "role", role.name, role.role_id, instance_id, LIFETIME, at, instance_id
            )
    return json.dumps(
        {
            "Code": "Success",
            "LastUpdated": _stamp(session.issued),
            "Type": "AWS-HMAC",
            "AccessKeyId": session.access_key_id,
            "SecretAccessKey": session.secret,
            "Token": session.token,
            "Expiration": _stamp(session.expires),
        },
        indent=2,
    )
