"""IAM wire handlers for users, groups, membership and access keys."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.iam.common import (
    caller_or_named,
    group_view,
    key_view,
    page_view,
    registry,
    user_view,
)
from pocketcloud.services.iam import users
from pocketcloud.services.iam.common import page

# --- users and groups ------------------------------------------------------------------


@registry.op("CreateUser")
def create_user(call: Call, p: Params) -> Result:
    return {"User": user_view(users.create_user(call.cloud, p["UserName"], p.get("Path")))}


@registry.op("GetUser")
def get_user(call: Call, p: Params) -> Result:
    return {"User": user_view(users.get_user(call.cloud, caller_or_named(call, p)))}


@registry.op("ListUsers")
def list_users(call: Call, p: Params) -> Result:
    found, marker = users.list_users(
        call.cloud, p.get("PathPrefix"), p.get("MaxItems"), p.get("Marker")
    )
    return page_view("Users", [user_view(u) for u in found], marker)


@registry.op("DeleteUser")
def delete_user(call: Call, p: Params) -> Result:
    users.delete_user(call.cloud, p["UserName"])
    return {}


@registry.op("CreateGroup")
def create_group(call: Call, p: Params) -> Result:
    return {"Group": group_view(users.create_group(call.cloud, p["GroupName"], p.get("Path")))}


@registry.op("GetGroup")
def get_group(call: Call, p: Params) -> Result:
    group = users.get_group(call.cloud, p["GroupName"])
    members, marker = page(
        users.group_members(call.cloud, group.name),
        lambda u: u.name.lower(),
        p.get("MaxItems"),
        p.get("Marker"),
    )
    return {
        "Group": group_view(group),
        **page_view("Users", [user_view(u) for u in members], marker),
    }


@registry.op("ListGroups")
def list_groups(call: Call, p: Params) -> Result:
    found, marker = users.list_groups(
        call.cloud, p.get("PathPrefix"), p.get("MaxItems"), p.get("Marker")
    )
    return page_view("Groups", [group_view(g) for g in found], marker)


@registry.op("ListGroupsForUser")
def list_groups_for_user(call: Call, p: Params) -> Result:
    found, marker = users.groups_for_user(
        call.cloud, p["UserName"], p.get("MaxItems"), p.get("Marker")
    )
    return page_view("Groups", [group_view(g) for g in found], marker)


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
    return {"AccessKey": key_view(users.create_access_key(call.cloud, caller_or_named(call, p)))}


@registry.op("ListAccessKeys")
def list_access_keys(call: Call, p: Params) -> Result:
    found, marker = users.list_access_keys(
        call.cloud, caller_or_named(call, p), p.get("MaxItems"), p.get("Marker")
    )
    return page_view("AccessKeyMetadata", [key_view(k) for k in found], marker)


@registry.op("UpdateAccessKey")
def update_access_key(call: Call, p: Params) -> Result:
    users.update_access_key(call.cloud, caller_or_named(call, p), p["AccessKeyId"], p["Status"])
    return {}


@registry.op("DeleteAccessKey")
def delete_access_key(call: Call, p: Params) -> Result:
    users.delete_access_key(call.cloud, caller_or_named(call, p), p["AccessKeyId"])
    return {}
