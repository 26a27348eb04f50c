"""IAM users, groups, group membership and access keys."""

from __future__ import annotations

from dataclasses import dataclass

from pocketcloud import ids
from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.iam.common import (
    already_exists,
    arn,
    check_name,
    check_path,
    delete_conflict,
    limit_exceeded,
    no_such_entity,
    page,
)
from pocketcloud.store.sqlite import Row

MAX_KEYS_PER_USER = 2


@dataclass(frozen=True)
class Identity:
    """An IAM user or group."""

    name: str
    unique_id: str
    path: str
    arn: str
    created: str


@dataclass(frozen=True)
class AccessKey:
    """An access key; ``secret`` is shown to the caller only when it is created."""

    access_key_id: str
    user_name: str
    status: str
    created: str
    secret: str = ""


def _user(cloud: Cloud, row: Row) -> Identity:
    return Identity(
        row["name"],
        row["user_id"],
        row["path"],
        arn(cloud, "user", row["path"], row["name"]),
        row["created"],
    )


def _group(cloud: Cloud, row: Row) -> Identity:
    return Identity(
        row["name"],
        row["group_id"],
        row["path"],
        arn(cloud, "group", row["path"], row["name"]),
        row["created"],
    )


def create_user(cloud: Cloud, name: str, path: str | None) -> Identity:
    """CreateUser."""
    check_name("userName", name)
    check_path(path or "/")
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM iam_users WHERE name = ?", (name,)):
            raise already_exists(f"User with name {name} already exists.")
        cloud.store.execute(
            "INSERT INTO iam_users(name, user_id, path, created) VALUES(?, ?, ?, ?)",
            (name, ids.iam_id("AIDA"), path or "/", now()),
        )
        cloud.iam_changed()
        return get_user(cloud, name)


def get_user(cloud: Cloud, name: str) -> Identity:
    """GetUser; NoSuchEntity if there is none."""
    row = cloud.store.one("SELECT * FROM iam_users WHERE name = ?", (name,))
    if row is None:
        raise no_such_entity(f"The user with name {name} cannot be found.")
    return _user(cloud, row)


def list_users(
    cloud: Cloud, prefix: str | None, max_items: int | None, marker: str | None
) -> tuple[list[Identity], str | None]:
    """ListUsers with PathPrefix and Marker pagination."""
    rows = cloud.store.all("SELECT * FROM iam_users ORDER BY name")
    users = [_user(cloud, r) for r in rows if r["path"].startswith(prefix or "/")]
    return page(users, lambda u: u.name.lower(), max_items, marker)


def delete_user(cloud: Cloud, name: str) -> None:
    """DeleteUser; refused while the user has keys, policies or groups (as IAM does)."""
    with cloud.store.transaction():
        get_user(cloud, name)
        checks = (
            ("SELECT 1 FROM iam_access_keys WHERE user_name = ?", "access keys"),
            (
                "SELECT 1 FROM iam_inline_policies WHERE owner_kind = 'user' AND owner_name = ?",
                "policies",
            ),
            (
                "SELECT 1 FROM iam_attachments WHERE owner_kind = 'user' AND owner_name = ?",
                "attached policies",
            ),
            ("SELECT 1 FROM iam_group_members WHERE user_name = ?", "groups"),
        )
        for sql, what in checks:
            if cloud.store.one(sql, (name,)):
                raise delete_conflict(f"Cannot delete entity, must remove {what} first.")
        cloud.store.execute("DELETE FROM iam_users WHERE name = ?", (name,))
        cloud.iam_changed()


def create_group(cloud: Cloud, name: str, path: str | None) -> Identity:
    """CreateGroup."""
    check_name("groupName", name, 128)
    check_path(path or "/")
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM iam_groups WHERE name = ?", (name,)):
            raise already_exists(f"Group with name {name} already exists.")
        cloud.store.execute(
            "INSERT INTO iam_groups(name, group_id, path, created) VALUES(?, ?, ?, ?)",
            (name, ids.iam_id("AGPA"), path or "/", now()),
        )
        cloud.iam_changed()
        return get_group(cloud, name)


def get_group(cloud: Cloud, name: str) -> Identity:
    """One group; NoSuchEntity if there is none."""
    row = cloud.store.one("SELECT * FROM iam_groups WHERE name = ?", (name,))
    if row is None:
        raise no_such_entity(f"The group with name {name} cannot be found.")
    return _group(cloud, row)


def group_members(cloud: Cloud, name: str) -> list[Identity]:
    """The users in a group."""
    rows = cloud.store.all(
        "SELECT u.* FROM iam_users u JOIN iam_group_members m ON m.user_name = u.name "
        "WHERE m.group_name = ? ORDER BY u.name",
        (name,),
    )
    return [_user(cloud, r) for r in rows]


def list_groups(
    cloud: Cloud, prefix: str | None, max_items: int | None, marker: str | None
) -> tuple[list[Identity], str | None]:
    """ListGroups with PathPrefix and Marker pagination."""
    rows = cloud.store.all("SELECT * FROM iam_groups ORDER BY name")
    groups = [_group(cloud, r) for r in rows if r["path"].startswith(prefix or "/")]
    return page(groups, lambda g: g.name.lower(), max_items, marker)


def groups_for_user(
    cloud: Cloud, user: str, max_items: int | None, marker: str | None
) -> tuple[list[Identity], str | None]:
    """ListGroupsForUser."""
    get_user(cloud, user)
    rows = cloud.store.all(
        "SELECT g.* FROM iam_groups g JOIN iam_group_members m ON m.group_name = g.name "
        "WHERE m.user_name = ? ORDER BY g.name",
        (user,),
    )
    return page([_group(cloud, r) for r in rows], lambda g: g.name.lower(), max_items, marker)


def delete_group(cloud: Cloud, name: str) -> None:
    """DeleteGroup; refused while it has members or policies."""
    with cloud.store.transaction():
        get_group(cloud, name)
        checks = (
            ("SELECT 1 FROM iam_group_members WHERE group_name = ?", "users"),
            (
                "SELECT 1 FROM iam_inline_policies WHERE owner_kind = 'group' AND owner_name = ?",
                "policies",
            ),
            (
                "SELECT 1 FROM iam_attachments WHERE owner_kind = 'group' AND owner_name = ?",
                "attached policies",
            ),
        )
        for sql, what in checks:
            if cloud.store.one(sql, (name,)):
                raise delete_conflict(f"Cannot delete entity, must remove {what} first.")
        cloud.store.execute("DELETE FROM iam_groups WHERE name = ?", (name,))
        cloud.iam_changed()


def add_user_to_group(cloud: Cloud, group: str, user: str) -> None:
    """AddUserToGroup (adding twice is not an error, as in IAM)."""
    with cloud.store.transaction():
        g, u = get_group(cloud, group), get_user(cloud, user)
        cloud.store.execute(
            "INSERT OR IGNORE INTO iam_group_members(group_name, user_name) VALUES(?, ?)",
            (g.name, u.name),
        )
        cloud.iam_changed()


def remove_user_from_group(cloud: Cloud, group: str, user: str) -> None:
    """RemoveUserFromGroup; NoSuchEntity if the user is not a member."""
    with cloud.store.transaction():
        g, u = get_group(cloud, group), get_user(cloud, user)
        removed = cloud.store.execute(
            "DELETE FROM iam_group_members WHERE group_name = ? AND user_name = ?", (g.name, u.name)
        )
        if not removed:
            raise no_such_entity(f"User {user} is not in group {group}.")
        cloud.iam_changed()


def _key(row: Row, secret: str = "") -> AccessKey:
    return AccessKey(row["access_key_id"], row["user_name"], row["status"], row["created"], secret)


def create_access_key(cloud: Cloud, user: str) -> AccessKey:
    """CreateAccessKey: at most two per user."""
    with cloud.store.transaction():
        u = get_user(cloud, user)
        count = cloud.store.scalar(
            "SELECT count(*) FROM iam_access_keys WHERE user_name = ?", (u.name,)
        )
        if count >= MAX_KEYS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
        key = AccessKey(ids.access_key_id(), u.name, "Active", now(), ids.secret_access_key())
        cloud.store.execute(
            "INSERT INTO iam_access_keys(access_key_id, secret, user_name, status, created) "
            "VALUES(?, ?, ?, ?, ?)",
            (key.access_key_id, key.secret, key.user_name, key.status, key.created),
        )
        cloud.iam_changed()
        return key


def list_access_keys(
    cloud: Cloud, user: str, max_items: int | None, marker: str | None
) -> tuple[list[AccessKey], str | None]:
    """ListAccessKeys (never shows secrets)."""
    u = get_user(cloud, user)
    rows = cloud.store.all(
        "SELECT * FROM iam_access_keys WHERE user_name = ? ORDER BY created", (u.name,)
    )
    return page([_key(r) for r in rows], lambda k: k.access_key_id, max_items, marker)


def _owned_key(cloud: Cloud, user: str, key_id: str) -> Row:
    u = get_user(cloud, user)
    row = cloud.store.one(
        "SELECT * FROM iam_access_keys WHERE access_key_id = ? AND user_name = ?", (key_id, u.name)
    )
    if row is None:
        raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
    return row


def update_access_key(cloud: Cloud, user: str, key_id: str, status: str) -> None:
    """UpdateAccessKey: Active or Inactive; takes effect on the next request."""
    if status not in ("Active", "Inactive"):
        raise ClientError(
            "ValidationError",
            f"Value '{status}' at 'status' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Active, Inactive]",
        )
    with cloud.store.transaction():
        _owned_key(cloud, user, key_id)
        cloud.store.execute(
            "UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?", (status, key_id)
        )
        cloud.iam_changed()


def delete_access_key(cloud: Cloud, user: str, key_id: str) -> None:
    """DeleteAccessKey: the key stops working at once."""
    with cloud.store.transaction():
        _owned_key(cloud, user, key_id)
        cloud.store.execute("DELETE FROM iam_access_keys WHERE access_key_id = ?", (key_id,))
        cloud.iam_changed()


_TABLES = {
    "user": "iam_users",
    "group": "iam_groups",
    "role": "iam_roles",
    "instance-profile": "iam_instance_profiles",
}


def arn_of(cloud: Cloud, kind: str, name: str) -> str:
    """The ARN of a user, group, role or instance profile, with its real path if it exists
    (``/`` if not)."""
    table = _TABLES[kind]
    path = cloud.store.scalar(f"SELECT path FROM {table} WHERE name = ?", (name,))  # noqa: S608
    return arn(cloud, kind, path or "/", name)
