"""IAM wire handlers for roles and instance profiles."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.iam.common import page_view, registry, url_document
from pocketcloud.services.iam import profiles, roles
from pocketcloud.services.iam.profiles import InstanceProfile
from pocketcloud.services.iam.roles import Role


def role_view(r: Role) -> Result:
    out: Result = {
        "Path": r.path,
        "RoleName": r.name,
        "RoleId": r.role_id,
        "Arn": r.arn,
        "CreateDate": r.created,
        "AssumeRolePolicyDocument": url_document(r.trust_policy),
        "MaxSessionDuration": r.max_session_duration,
        "RoleLastUsed": {},
    }
    if r.description:
        out["Description"] = r.description
    if r.tags:
        out["Tags"] = tag_list(r.tags)
    return out


def tag_list(tags: tuple[tuple[str, str], ...]) -> list[Result]:
    return [{"Key": k, "Value": v} for k, v in tags]


def tag_pairs(p: Params) -> list[tuple[str, str]]:
    return [(t["Key"], t.get("Value", "")) for t in p.get("Tags") or []]


def profile_view(p: InstanceProfile) -> Result:
    return {
        "Path": p.path,
        "InstanceProfileName": p.name,
        "InstanceProfileId": p.profile_id,
        "Arn": p.arn,
        "CreateDate": p.created,
        "Roles": [role_view(p.role)] if p.role is not None else [],
        "Tags": tag_list(p.tags) or None,
    }


# --- roles -----------------------------------------------------------------------------


@registry.op("CreateRole")
def create_role(call: Call, p: Params) -> Result:
    role = roles.create_role(
        call.cloud,
        p["RoleName"],
        p.get("Path"),
        p["AssumeRolePolicyDocument"],
        p.get("Description"),
        p.get("MaxSessionDuration"),
        tag_pairs(p),
    )
    return {"Role": role_view(role)}


@registry.op("GetRole")
def get_role(call: Call, p: Params) -> Result:
    return {"Role": role_view(roles.get_role(call.cloud, p["RoleName"]))}


@registry.op("ListRoles")
def list_roles(call: Call, p: Params) -> Result:
    found, marker = roles.list_roles(
        call.cloud, p.get("PathPrefix"), p.get("MaxItems"), p.get("Marker")
    )
    return page_view("Roles", [role_view(r) for r in found], marker)


@registry.op("UpdateAssumeRolePolicy")
def update_assume_role_policy(call: Call, p: Params) -> Result:
    roles.update_trust_policy(call.cloud, p["RoleName"], p["PolicyDocument"])
    return {}


@registry.op("UpdateRole")
def update_role(call: Call, p: Params) -> Result:
    roles.update_role(call.cloud, p["RoleName"], p.get("Description"), p.get("MaxSessionDuration"))
    return {}


@registry.op("DeleteRole")
def delete_role(call: Call, p: Params) -> Result:
    roles.delete_role(call.cloud, p["RoleName"])
    return {}


# --- instance profiles -----------------------------------------------------------------


@registry.op("CreateInstanceProfile")
def create_instance_profile(call: Call, p: Params) -> Result:
    profile = profiles.create_profile(
        call.cloud, p["InstanceProfileName"], p.get("Path"), tag_pairs(p)
    )
    return {"InstanceProfile": profile_view(profile)}


@registry.op("GetInstanceProfile")
def get_instance_profile(call: Call, p: Params) -> Result:
    profile = profiles.get_profile(call.cloud, p["InstanceProfileName"])
    return {"InstanceProfile": profile_view(profile)}


@registry.op("ListInstanceProfiles")
def list_instance_profiles(call: Call, p: Params) -> Result:
    found, marker = profiles.list_profiles(
        call.cloud, p.get("PathPrefix"), p.get("MaxItems"), p.get("Marker")
    )
    return page_view("InstanceProfiles", [profile_view(x) for x in found], marker)


@registry.op("ListInstanceProfilesForRole")
def list_instance_profiles_for_role(call: Call, p: Params) -> Result:
    found, marker = profiles.list_profiles(
        call.cloud, None, p.get("MaxItems"), p.get("Marker"), role_name=p["RoleName"]
    )
    return page_view("InstanceProfiles", [profile_view(x) for x in found], marker)


@registry.op("DeleteInstanceProfile")
def delete_instance_profile(call: Call, p: Params) -> Result:
    profiles.delete_profile(call.cloud, p["InstanceProfileName"])
    return {}


@registry.op("AddRoleToInstanceProfile")
def add_role_to_instance_profile(call: Call, p: Params) -> Result:
    profiles.add_role(call.cloud, p["InstanceProfileName"], p["RoleName"])
    return {}


@registry.op("RemoveRoleFromInstanceProfile")
def remove_role_from_instance_profile(call: Call, p: Params) -> Result:
    profiles.remove_role(call.cloud, p["InstanceProfileName"], p["RoleName"])
    return {}
