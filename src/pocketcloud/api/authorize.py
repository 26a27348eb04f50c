"""Authorization: which resources a call touches, and whether IAM policy allows it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pocketcloud.api.s3 import actions as s3
from pocketcloud.errors import ClientError, CloudError
from pocketcloud.iam.evaluate import Decision, RequestContext, evaluate
from pocketcloud.iam.policy import Policy
from pocketcloud.iam.resource_policy import (
    Caller,
    Grant,
    ResourcePolicyKind,
    evaluate_resource,
    parse_resource_policy,
)
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import (
    key_pairs,
    launch_templates,
    network,
    resources,
    security_groups,
    tags,
)
from pocketcloud.services.ec2 import profiles as ec2_profiles
from pocketcloud.services.ec2.launch_templates import Ref
from pocketcloud.services.iam import roles
from pocketcloud.services.iam import users as iam_users
from pocketcloud.services.iam.common import arn as iam_arn
from pocketcloud.services.iam.principals import Principal, policies_of
from pocketcloud.services.s3 import policy as s3_policy

#: the S3 listings whose members are condition keys (``s3:prefix``...) when given
S3_LISTINGS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions"})
S3_LISTING_KEYS = {"Prefix": "s3:prefix", "Delimiter": "s3:delimiter", "MaxKeys": "s3:max-keys"}
#: an unsigned S3 request as a resource policy sees it: only a grant to everyone names it
ANONYMOUS_CALLER = Caller(account="", anonymous=True)
#: operations anyone authenticated may call, as on AWS
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity", "sts:GetSessionToken"})
#: IAM operations that act on the caller when UserName is absent
CALLER_DEFAULT = frozenset(
    {
        "GetUser",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
    }
)
SG_OPS = frozenset(
    {
        "DeleteSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
    }
)


INSTANCE_OPS = frozenset(
    {
        "StartInstances",
        "StopInstances",
        "RebootInstances",
        "TerminateInstances",
        "ModifyInstanceAttribute",
        "DescribeInstanceAttribute",
        "GetConsoleOutput",
    }
)


def ec2_arn(cloud: Cloud, resource_type: str, resource_id: str) -> str:
    """``arn:aws:ec2:<region>:<account>:<type>/<id>``."""
    return f"arn:aws:ec2:{cloud.region}:{cloud.account_id}:{resource_type}/{resource_id}"


Targets = list[tuple[str, str | None]]
Params = Mapping[str, Any]


def _new_key(cloud: Cloud, params: Params) -> Targets:
    return [(ec2_arn(cloud, "key-pair", params["KeyName"]), None)]


def _key(cloud: Cloud, params: Params) -> Targets:
    name, key_id = key_pairs.identify(cloud, params.get("KeyName"), params.get("KeyPairId"))
    return [(ec2_arn(cloud, "key-pair", name), key_id)]


def _new_group(cloud: Cloud, params: Params) -> Targets:
    vpc_id = params.get("VpcId") or network.default_vpc_id(cloud)
    return [(ec2_arn(cloud, "security-group", "*"), None), (ec2_arn(cloud, "vpc", vpc_id), vpc_id)]


def _group(cloud: Cloud, params: Params) -> Targets:
    group_id = security_groups.resolve(cloud, params.get("GroupId"), params.get("GroupName"))
    return [(ec2_arn(cloud, "security-group", group_id), group_id)]


def _tagged(cloud: Cloud, params: Params) -> Targets:
    return [_tag_target(cloud, rid) for rid in params.get("Resources", [])]


def _instances(cloud: Cloud, params: Params) -> Targets:
    wanted = params.get("InstanceIds") or [params.get("InstanceId", "")]
    return [(ec2_arn(cloud, "instance", iid), iid) for iid in wanted]


def ec2_targets(cloud: Cloud, operation: str, params: Params) -> Targets:
    """(ARN, resource id for tag lookups) for each EC2 resource the call acts on.

    Describe* and other calls without resource-level permissions act on ``*``.
    """
    find = TARGETS.get(operation)
    return [("*", None)] if find is None else find(cloud, params)


def _launch_targets(cloud: Cloud, params: Params) -> Targets:
    """RunInstances touches the new instances, the image, and the key, groups, subnet used."""
    targets: Targets = [
        (ec2_arn(cloud, "instance", "*"), None),
        (f"arn:aws:ec2:{cloud.region}::image/{params.get('ImageId', '')}", None),
    ]
    if params.get("KeyName"):
        name, key_id = key_pairs.identify(cloud, params["KeyName"], None)
        targets.append((ec2_arn(cloud, "key-pair", name), key_id))
    for group_id in params.get("SecurityGroupIds", []):
        targets.append((ec2_arn(cloud, "security-group", group_id), group_id))
    if params.get("SubnetId"):
        targets.append((ec2_arn(cloud, "subnet", params["SubnetId"]), params["SubnetId"]))
    return targets


TARGETS: dict[str, Callable[[Cloud, Params], Targets]] = {
    "CreateKeyPair": _new_key,
    "ImportKeyPair": _new_key,
    "DeleteKeyPair": _key,
    "CreateSecurityGroup": _new_group,
    **dict.fromkeys(SG_OPS, _group),
    "CreateTags": _tagged,
    "DeleteTags": _tagged,
    "RunInstances": _launch_targets,
    **dict.fromkeys(INSTANCE_OPS, _instances),
}


def _tag_target(cloud: Cloud, resource_id: str) -> tuple[str, str | None]:
    kind = resources.kind_of(resource_id)
    name = resource_id
    if kind.resource_type == "key-pair":
        name, _ = key_pairs.identify(cloud, None, resource_id)
    return ec2_arn(cloud, kind.resource_type, name), resource_id


#: (a word in the operation's name or "", its parameter naming the entity, the entity's kind)
IAM_ENTITIES = (
    ("Group", "GroupName", "group"),
    ("InstanceProfile", "InstanceProfileName", "instance-profile"),
    ("", "RoleName", "role"),
    ("", "UserName", "user"),
)


def iam_target(
    cloud: Cloud, principal: Principal, operation: str, params: Mapping[str, Any]
) -> str:
    """The ARN of the IAM resource the call acts on."""
    for word, param, kind in IAM_ENTITIES:
        if word in operation and params.get(param):
            return iam_users.arn_of(cloud, kind, params[param])
    if operation in CALLER_DEFAULT:
        return principal.arn
    if params.get("PolicyArn"):
        return str(params["PolicyArn"])
    if operation == "CreatePolicy":
        return iam_arn(cloud, "policy", params.get("Path") or "/", params.get("PolicyName", ""))
    return "*"


def context_keys(cloud: Cloud, principal: Principal, source_ip: str, region: str) -> dict[str, Any]:
    """The global condition keys of a request."""
    keys = _request_keys(source_ip, region)
    keys |= {
        "aws:userid": principal.user_id,
        "aws:PrincipalArn": principal.role_arn or principal.arn,
        "aws:PrincipalAccount": cloud.account_id,
        "aws:PrincipalType": "User" if principal.is_user else "AssumedRole",
    }
    if principal.is_user:
        keys["aws:username"] = principal.user_name
    return keys


def _request_keys(source_ip: str, region: str) -> dict[str, Any]:
    """The global keys that do not depend on who calls."""
    current = datetime.now(UTC)
    return {
        "aws:SourceIp": source_ip,
        "aws:RequestedRegion": region,
        "aws:CurrentTime": _iso_seconds(current),
        "aws:EpochTime": str(int(current.timestamp())),
        "aws:SecureTransport": "false",
    }


def _iso_seconds(moment: datetime) -> str:
    """``2026-12-07T05:04:03Z`` (by hand: strftime costs more, on every request)."""
    m = moment
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def authorize(
    cloud: Cloud,
    principal: Principal,
    service: str,
    operation: str,
    params: Mapping[str, Any],
    source_ip: str,
    region: str,
) -> None:
    """Raise UnauthorizedOperation (EC2) or AccessDenied unless policy allows the call.

    An S3 call is decided with its bucket's policy too (``authorize_s3``)."""
    if service == "s3":
        authorize_s3(cloud, principal, operation, params, source_ip, region)
        return
    action = f"{service}:{operation}"
    if principal.is_user and principal.token is not None and service == "iam":
        # a GetSessionToken session without MFA may not call IAM at all (AWS's answer)
        raise ClientError(
            "InvalidClientTokenId",
            "The security token included in the request is invalid",
            status=403,
        )
    if action in ALWAYS_ALLOWED:
        return
    policies = policies_of(cloud, principal)
    keys = context_keys(cloud, principal, source_ip, region)
    if action == "sts:AssumeRole":
        _authorize_assume(cloud, principal, params, policies, keys)
        return
    if service == "ec2":
        targets = ec2_targets(cloud, operation, params)
    else:
        targets = [(iam_target(cloud, principal, operation, params), None)]
    reads_tags = any(policy.reads_resource_tags for policy in policies)
    for resource, resource_id in targets:
        scoped = dict(keys)
        if resource_id and reads_tags:
            for key, value in tags.for_resource(cloud, resource_id).items():
                scoped[f"ec2:ResourceTag/{key}"] = value
        decision = evaluate(policies, RequestContext(action, resource, scoped))
        if decision is not Decision.ALLOW:
            raise _denied(service, principal, action, resource, decision)
    profile = _profile_spec(cloud, operation, params) if service == "ec2" else None
    if profile:
        _authorize_pass_role(cloud, principal, profile, policies, keys)


def authorize_s3(
    cloud: Cloud,
    principal: Principal,
    operation: str,
    params: Params,
    source_ip: str,
    region: str,
) -> None:
    """Raise AccessDenied unless the caller's policies or the bucket's policy allow the call.

    No explicit deny in either, and the caller's policies allow or the bucket policy names
    the caller (a grant to its account leaves it to the caller's policies). An anonymous
    caller has no policies: only a bucket policy granting to everyone lets it in, and not
    while the policy is public and the bucket's RestrictPublicBuckets is on. Reads the
    store (the caller's policies, cached, and the bucket's row).
    """
    action = s3.action(operation, params)
    resource = s3.resource(params)
    keys = _s3_keys(cloud, principal, operation, params, source_ip, region)
    ctx = RequestContext(action, resource, keys)
    if principal.is_anonymous:
        identity = Decision.IMPLICIT_DENY
    else:
        identity = evaluate(policies_of(cloud, principal), ctx)
    grant = _bucket_grant(cloud, principal, params.get("Bucket"), ctx)
    decision = combine(identity, grant)
    if decision is Decision.ALLOW:
        return
    if principal.is_anonymous:
        raise ClientError("AccessDenied", "Access Denied", status=403)
    by_bucket = grant is Grant.EXPLICIT_DENY and identity is not Decision.EXPLICIT_DENY
    raise _denied("s3", principal, action, f'"{resource}"', decision, by_bucket)


def _s3_keys(
    cloud: Cloud,
    principal: Principal,
    operation: str,
    params: Params,
    source_ip: str,
    region: str,
) -> dict[str, Any]:
    """The condition keys of an S3 request: the global ones (an anonymous caller's have no
    principal but ``aws:userid`` ``anonymous``), and a listing's ``s3:prefix``,
    ``s3:delimiter`` and ``s3:max-keys`` when the request gives them."""
    if principal.is_anonymous:
        keys = _request_keys(source_ip, region)
        keys |= {"aws:userid": principal.user_id, "aws:PrincipalType": "Anonymous"}
    else:
        keys = context_keys(cloud, principal, source_ip, region)
    if operation in S3_LISTINGS:
        for member, key in S3_LISTING_KEYS.items():
            if params.get(member) is not None:
                keys[key] = str(params[member])
    return keys


def _bucket_grant(
    cloud: Cloud, principal: Principal, bucket: str | None, ctx: RequestContext
) -> Grant:
    """How far the bucket's policy lets the caller in (NONE without bucket or policy)."""
    access = s3_policy.access_of(cloud, bucket) if bucket else None
    if access is None or access.policy is None:
        return Grant.NONE
    caller = ANONYMOUS_CALLER if principal.is_anonymous else caller_of(cloud, principal)
    grant = evaluate_resource(access.policy, caller, ctx)
    if caller.anonymous and grant is Grant.DIRECT and access.restricts_public:
        return Grant.NONE
    return grant


def caller_of(cloud: Cloud, principal: Principal) -> Caller:
    """The principal as resource policies see it: its ARNs (a session's and its role's)."""
    arns = (principal.arn, principal.role_arn) if principal.role_arn else (principal.arn,)
    return Caller(cloud.account_id, arns)


def combine(identity: Decision, grant: Grant, delegated_only: bool = False) -> Decision:
    """One account's decision from the caller's policies and a resource's policy.

    An explicit deny in either wins. A resource policy naming the caller allows by itself;
    one naming the caller's account leaves it to the caller's own policies. A role's
    trust policy (``delegated_only``) must name the caller or its account in any case.
    """
    if identity is Decision.EXPLICIT_DENY or grant is Grant.EXPLICIT_DENY:
        return Decision.EXPLICIT_DENY
    if grant is Grant.DIRECT:
        return Decision.ALLOW
    if delegated_only and grant is Grant.NONE:
        return Decision.IMPLICIT_DENY
    return identity


def _profile_spec(cloud: Cloud, operation: str, params: Params) -> Mapping[str, Any] | None:
    """The instance profile an EC2 call gives an instance: its own IamInstanceProfile, or
    for RunInstances the one in the launch template it names."""
    if params.get("IamInstanceProfile"):
        return dict(params["IamInstanceProfile"])
    spec = params.get("LaunchTemplate") if operation == "RunInstances" else None
    if not spec:
        return None
    ref = Ref(spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName"))
    chosen = launch_templates.resolve(cloud, ref, spec.get("Version"))
    found = chosen.data.get("IamInstanceProfile")
    return dict(found) if found else None


def _authorize_pass_role(
    cloud: Cloud,
    principal: Principal,
    spec: Mapping[str, Any],
    policies: tuple[Policy, ...],
    keys: dict[str, Any],
) -> None:
    """Giving an instance a profile passes its role: the caller needs iam:PassRole on it."""
    profile = ec2_profiles.resolve(cloud, spec.get("Arn"), spec.get("Name"))
    if profile.role is None:
        return
    scoped = keys | {"iam:PassedToService": "ec2.amazonaws.com"}
    ctx = RequestContext("iam:PassRole", profile.role.arn, scoped)
    decision = evaluate(policies, ctx)
    if decision is not Decision.ALLOW:
        raise _denied("ec2", principal, "iam:PassRole", profile.role.arn, decision)


def _authorize_assume(
    cloud: Cloud,
    principal: Principal,
    params: Params,
    policies: tuple[Policy, ...],
    keys: dict[str, Any],
) -> None:
    """sts:AssumeRole: the role's trust policy and the caller's own policies decide."""
    role_arn = str(params.get("RoleArn", ""))
    ctx = RequestContext("sts:AssumeRole", role_arn, keys)
    role = roles.by_arn(cloud, role_arn)
    grant = Grant.NONE
    if role is not None:
        trust = parse_resource_policy(role.trust_policy, ResourcePolicyKind.TRUST)
        grant = evaluate_resource(trust, caller_of(cloud, principal), ctx)
    decision = combine(evaluate(policies, ctx), grant, delegated_only=True)
    if decision is not Decision.ALLOW:
        raise ClientError(
            "AccessDenied",
            f"User: {principal.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}",
            status=403,
        )


def _denied(
    service: str,
    principal: Principal,
    action: str,
    resource: str,
    decision: Decision,
    by_resource_policy: bool = False,
) -> CloudError:
    if by_resource_policy:
        why = "with an explicit deny in a resource-based policy"
    elif decision is Decision.EXPLICIT_DENY:
        why = "with an explicit deny in an identity-based policy"
    else:
        why = "because no identity-based policy allows the " + action + " action"
    message = (
        f"User: {principal.arn} is not authorized to perform: {action} "
        f"on resource: {resource} {why}"
    )
    if service == "ec2":
        return ClientError(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation. " + message,
            status=403,
        )
    return ClientError("AccessDenied", message, status=403)
