"""IAM wire handlers for inline and managed policies and their versions."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.iam.common import page_view, policy_view, registry, url_document
from pocketcloud.services.iam import policies as pol
from pocketcloud.services.iam import roles, users

# --- inline policies -------------------------------------------------------------------


def _inline(kind: str, owner_key: str) -> None:
    """Register Put/Get/List/Delete{User,Group}Policy for one kind of owner."""
    noun = kind.capitalize()

    def put(call: Call, p: Params) -> Result:
        pol.put_inline(call.cloud, kind, p[owner_key], p["PolicyName"], p["PolicyDocument"])
        return {}

    def get(call: Call, p: Params) -> Result:
        owner, name, document = pol.get_inline(call.cloud, kind, p[owner_key], p["PolicyName"])
        return {owner_key: owner, "PolicyName": name, "PolicyDocument": url_document(document)}

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
        return page_view("AttachedPolicies", items, marker)

    registry.op(f"Put{noun}Policy")(put)
    registry.op(f"Get{noun}Policy")(get)
    registry.op(f"List{noun}Policies")(list_)
    registry.op(f"Delete{noun}Policy")(delete)
    registry.op(f"Attach{noun}Policy")(attach)
    registry.op(f"Detach{noun}Policy")(detach)
    registry.op(f"ListAttached{noun}Policies")(attached)


_inline("user", "UserName")
_inline("group", "GroupName")
_inline("role", "RoleName")


# --- managed policies ------------------------------------------------------------------


@registry.op("CreatePolicy")
def create_policy(call: Call, p: Params) -> Result:
    policy = pol.create_policy(
        call.cloud, p["PolicyName"], p.get("Path"), p["PolicyDocument"], p.get("Description")
    )
    return {"Policy": policy_view(policy)}


@registry.op("GetPolicy")
def get_policy(call: Call, p: Params) -> Result:
    return {"Policy": policy_view(pol.get_policy(call.cloud, p["PolicyArn"]))}


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
    return page_view("Policies", [policy_view(x) for x in found], marker)


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
        out["Document"] = url_document(v.document)
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
    return page_view("Versions", [_version(v) for v in found], marker)


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
    user_names, group_names, role_names = pol.entities_for_policy(call.cloud, p["PolicyArn"])
    return {
        "PolicyUsers": [
            {"UserName": n, "UserId": users.get_user(call.cloud, n).unique_id} for n in user_names
        ],
        "PolicyGroups": [
            {"GroupName": n, "GroupId": users.get_group(call.cloud, n).unique_id}
            for n in group_names
        ],
        "PolicyRoles": [
            {"RoleName": n, "RoleId": roles.get_role(call.cloud, n).role_id} for n in role_names
        ],
        "IsTruncated": False,
    }
