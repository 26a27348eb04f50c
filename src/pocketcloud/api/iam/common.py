"""What the IAM wire handlers share: the registry and the wire forms of users, groups,
access keys, policies and Marker pages."""

from __future__ import annotations

from urllib.parse import quote

from pocketcloud.api.call import Call, Params, Registry, Result
from pocketcloud.errors import ClientError
from pocketcloud.services.iam import policies as pol
from pocketcloud.services.iam.users import AccessKey, Identity

registry = Registry("iam")


def user_view(u: Identity) -> Result:
    return {
        "Path": u.path,
        "UserName": u.name,
        "UserId": u.unique_id,
        "Arn": u.arn,
        "CreateDate": u.created,
    }


def group_view(g: Identity) -> Result:
    return {
        "Path": g.path,
        "GroupName": g.name,
        "GroupId": g.unique_id,
        "Arn": g.arn,
        "CreateDate": g.created,
    }


def key_view(k: AccessKey) -> Result:
    out: Result = {
        "UserName": k.user_name,
        "AccessKeyId": k.access_key_id,
        "Status": k.status,
        "CreateDate": k.created,
    }
    if k.secret:
        out["SecretAccessKey"] = k.secret
    return out


def policy_view(p: pol.Policy) -> Result:
    out: Result = {
        "PolicyName": p.name,
        "PolicyId": p.policy_id,
        "Arn": p.arn,
        "Path": p.path,
        "DefaultVersionId": p.default_version,
        "AttachmentCount": p.attachment_count,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": p.created,
        "UpdateDate": p.updated,
    }
    if p.description:
        out["Description"] = p.description
    return out


def page_view(key: str, items: list[Result], marker: str | None) -> Result:
    return {key: items, "IsTruncated": marker is not None, "Marker": marker}


def url_document(text: str) -> str:
    """IAM returns policy documents URL-encoded (botocore decodes them)."""
    return quote(text, safe="")


def caller_or_named(call: Call, p: Params) -> str:
    """The named user, or the calling user when none is named (not a role session)."""
    if p.get("UserName"):
        return str(p["UserName"])
    if not call.principal.is_user:
        raise ClientError(
            "ValidationError", "Must specify userName when calling with non-User credentials"
        )
    return call.principal.user_name
