"""IAM wire handlers: CamelCase in, service call, CamelCase out. No logic lives here."""

from __future__ import annotations

from urllib.parse import quote

from pocketcloud.api.call import Call, Params, Registry, Result
from pocketcloud.services import iam_policies as pol
from pocketcloud.services import iam_users as users
from pocketcloud.services.iam_common import page
from pocketcloud.services.iam_users import AccessKey, Identity

registry = Registry("iam")


def _user(u: Identity) -> Result:
    return {
        "Path": u.path,
        "UserName": u.name,
        "UserId": u.unique_id,
        "Arn": u.arn,
        "CreateDate": u.created,
    }


def _group(g: Identity) -> Result:
    return {
        "Path": g.path,
        "GroupName": g.name,
        "GroupId": g.unique_id,
        "Arn": g.arn,
        "CreateDate": g.created,
    }


def _key(k: AccessKey) -> Result:
    out: Result = {
        "UserName": k.user_name,
        "AccessKeyId": k.access_key_id,
        "Status": k.status,
        "CreateDate": k.created,
    }
    if k.secret:
        out["SecretAccessKey"] = k.secret
    return out


def _policy(p: pol.Policy) -> Result:
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


def _page(key: str, items: list[Result], marker: str | None) -> Result:
    return {key: items, "IsTruncated": marker is not None, "Marker": marker}


def _document(text: str) -> str:
    """IAM returns policy documents URL-encoded (botocore decodes them)."""
    return quote(text, safe="")


def _me(call: Call, p: Params) -> str:
    return str(p.get("UserName") or call.principal.user_name)


# --- users and groups ------------------------------------------------------------------


@registry.op("CreateUser")
def create_user(call: Call, p: Params) -> Result:
    return {"User": _user(users.create_user(call.cloud, p["UserName"], p.get("Path")))}


@registry.op("GetUser")
def get_user(call: Call, p: Params) -> Result:
    return {"User": _user(users.get_user(call.cloud, _me(call, p)))}


@registry.op("ListUsers")
def list_users(call: Call, p: Params) -> Result:
    found, marker = users.list_users(
        call.cloud, p.get("PathPrefix"), p.get("MaxItems"), p.get("Marker")
    )
    return _page("Users", [_user(u) for u in found], marker)


@registry.op("DeleteUser")
def delete_user(call: Call, p: Params) -> Result:
    users.delete_user(call.cloud, p["UserName"])
    return {}


@registry.op("CreateGroup")
def create_group(call: Call, p: Params) -> Result:
    return {"Group": _group(users.create_group(call.cloud, p["GroupName"], p.get("Path")))}


@registry.op("GetGroup")
def get_group(call: Call, p: Params) -> Result:
    group = users.get_group(call.cloud, p["GroupName"])
    members, marker = page(
        users.group_members(call.cloud, group.name),
        lambda u: u.name.lower(),
        p.get("MaxItems"),
        p.get("Marker"),
    )
    return {"Group": _group(group), **_page("Users", [_user(u) for u in members], marker)}


@registry.op("ListGroups")
def list_groups(call: Call, p: Params) -> Result:
    found, marker = users.list_groups(
        call.cloud, p.get("PathPrefix"), p.get("MaxItems"), p.get("Marker")
    )
    return _page("Groups", [_group(g) for g in found], marker)


@registry.op("ListGroupsForUser")
def list_groups_for_user(call: Call, p: Params) -> Result:
    found, marker = users.groups_for_user(
        call.cloud, p["UserName"], p.get("MaxItems"), p.get("Marker")
    )
    return _page("Groups", [_group(g) for g in found], marker)


@registry.op("DeleteGroup")
def delete_group(call: Call, p: Params) -> Result:
    users.delete_group(call.cloud, p["GroupName"])
    return {}


@registry.op("AddUserToGroup")
def add_user_to_group(call: Call, p: Params) -> Result:
    users.add_user_to_group(call.cloud, p["GroupName"], p["UserName"])
    return {}


@registry.op("RemoveUserFromGroup")
def remove_user_from_group(call: Call, p: Params) -> Result:
    users.remove_user_from_group(call.cloud, p["GroupName"], p["UserName"])
    return {}


# --- access keys -----------------------------------------------------------------------


@registry.op("CreateAccessKey")
def create_access_key(call: Call, p: Params) -> Result:
    return {"AccessKey": _key(users.create_access_key(call.cloud, _me(call, p)))}


@registry.op("ListAccessKeys")
def list_access_keys(call: Call, p: Params) -> Result:
    found, marker = users.list_access_keys(
        call.cloud, _me(call, p), p.get("MaxItems"), p.get("Marker")
    )
    return _page("AccessKeyMetadata", [_key(k) for k in found], marker)


@registry.op("UpdateAccessKey")
def update_access_key(call: Call, p: Params) -> Result:
    users.update_access_key(call.cloud, _me(call, p), p["AccessKeyId"], p["Status"])
    return {}


@registry.op("DeleteAccessKey")
def delete_access_key(call: Call, p: Params) -> Result:
    users.delete_access_key(call.cloud, _me(call, p), p["AccessKeyId"])
    return {}


# --- inline policies -------------------------------------------------------------------


def _inline(kind: str, owner_key: str) -> None:
    """Register Put/Get/List/Delete{User,Group}Policy for one kind of owner."""
    noun = kind.capitalize()

    def put(call: Call, p: Params) -> Result:
        pol.put_inline(call.cloud, kind, p[owner_key], p["PolicyName"], p["PolicyDocument"])
        return {}

    def get(call: Call, p: Params) -> Result:
        owner, name, document = pol.get_inline(call.cloud, kind, p[owner_key], p["PolicyName"])
        return {owner_key: owner, "PolicyName": name, "PolicyDocument": _document(document)}

    def list_(call: Call, p: Params) -> Result:
        names, marker = pol.list_inline(
            call.cloud, kind, p[owner_key], p.get("MaxItems"), p.get("Marker")
        )
        return {"PolicyNames": names, "IsTruncated": marker is not None, "Marker": marker}

    def delete(call: Call, p: Params) -> Result:
        pol.delete_inline(call.cloud, kind, p[owner_key], p["PolicyName"])
        return {}

    def attach(call: Call, p: Params) -> Result:
        pol.attach_policy(call.cloud, kind, p[owner_key], p["PolicyArn"])
        return {}

    def detach(call: Call, p: Params) -> Result:
        pol.detach_policy(call.cloud, kind, p[owner_key], p["PolicyArn"])
        return {}

    def attached(call: Call, p: Params) -> Result:
        found, marker = pol.list_attached(
            call.cloud, kind, p[owner_key], p.get("MaxItems"), p.get("Marker")
        )
        items = [{"PolicyName": x.name, "PolicyArn": x.arn} for x in found]
        return _page("AttachedPolicies", items, marker)

    registry.op(f"Put{noun}Policy")(put)
    registry.op(f"Get{noun}Policy")(get)
    registry.op(f"List{noun}Policies")(list_)
    registry.op(f"Delete{noun}Policy")(delete)
    registry.op(f"Attach{noun}Policy")(attach)
    registry.op(f"Detach{noun}Policy")(detach)
    registry.op(f"ListAttached{noun}Policies")(attached)


_inline("user", "UserName")
_inline("group", "GroupName")


# --- managed policies ------------------------------------------------------------------


@registry.op("CreatePolicy")
def create_policy(call: Call, p: Params) -> Result:
    policy = pol.create_policy(
        call.cloud, p["PolicyName"], p.get("Path"), p["PolicyDocument"], p.get("Description")
    )
    return {"Policy": _policy(policy)}


@registry.op("GetPolicy")
def get_policy(call: Call, p: Params) -> Result:
    return {"Policy": _policy(pol.get_policy(call.cloud, p["PolicyArn"]))}


@registry.op("ListPolicies")
def list_policies(call: Call, p: Params) -> Result:
    found, marker = pol.list_policies(
        call.cloud,
        p.get("Scope"),
        bool(p.get("OnlyAttached")),
        p.get("PathPrefix"),
        p.get("MaxItems"),
        p.get("Marker"),
    )
    return _page("Policies", [_policy(x) for x in found], marker)


@registry.op("DeletePolicy")
def delete_policy(call: Call, p: Params) -> Result:
    pol.delete_policy(call.cloud, p["PolicyArn"])
    return {}


def _version(v: pol.PolicyVersion) -> Result:
    out: Result = {
        "VersionId": v.version_id,
        "IsDefaultVersion": v.is_default,
        "CreateDate": v.created,
    }
    if v.document:
        out["Document"] = _document(v.document)
    return out


@registry.op("CreatePolicyVersion")
def create_policy_version(call: Call, p: Params) -> Result:
    version = pol.create_policy_version(
        call.cloud, p["PolicyArn"], p["PolicyDocument"], bool(p.get("SetAsDefault"))
    )
    return {"PolicyVersion": _version(version)}


@registry.op("GetPolicyVersion")
def get_policy_version(call: Call, p: Params) -> Result:
    return {
        "PolicyVersion": _version(
            pol.get_policy_version(call.cloud, p["PolicyArn"], p["VersionId"])
        )
    }


@registry.op("ListPolicyVersions")
def list_policy_versions(call: Call, p: Params) -> Result:
    found, marker = pol.list_policy_versions(
        call.cloud, p["PolicyArn"], p.get("MaxItems"), p.get("Marker")
    )
    return _page("Versions", [_version(v) for v in found], marker)


@registry.op("DeletePolicyVersion")
def delete_policy_version(call: Call, p: Params) -> Result:
    pol.delete_policy_version(call.cloud, p["PolicyArn"], p["VersionId"])
    return {}


@registry.op("SetDefaultPolicyVersion")
def set_default_policy_version(call: Call, p: Params) -> Result:
    pol.set_default_version(call.cloud, p["PolicyArn"], p["VersionId"])
    return {}


@registry.op("ListEntitiesForPolicy")
def list_entities_for_policy(call: Call, p: Params) -> Result:
    user_names, group_names = pol.entities_for_policy(call.cloud, p["PolicyArn"])
    return {
        "PolicyUsers": [
            {"UserName": n, "UserId": users.get_user(call.cloud, n).unique_id} for n in user_names
        ],
        "PolicyGroups": [
            {"GroupName": n, "GroupId": users.get_group(call.cloud, n).unique_id}
            for n in group_names
        ],
        "PolicyRoles": [],
        "IsTruncated": False,
    }
