"""IAM instance profiles: the holder that gives an EC2 instance one role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pocketcloud import ids
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
from pocketcloud.services.iam.roles import Role, check_tags, get_role, tags_of
from pocketcloud.store.sqlite import Row


@dataclass(frozen=True)
class InstanceProfile:
    """An instance profile and the role in it (at most one, as on AWS)."""

    name: str
    profile_id: str
    path: str
    arn: str
    created: str
    role: Role | None
    tags: tuple[tuple[str, str], ...] = ()


def _profile(cloud: Cloud, row: Row) -> InstanceProfile:
    role = get_role(cloud, row["role_name"]) if row["role_name"] else None
    return InstanceProfile(
        row["name"],
        row["profile_id"],
        row["path"],
        arn(cloud, "instance-profile", row["path"], row["name"]),
        row["created"],
        role,
        tags_of(row["tags"]),
    )


def create_profile(
    cloud: Cloud, name: str, path: str | None, tags: Sequence[tuple[str, str]] = ()
) -> InstanceProfile:
    """CreateInstanceProfile."""
    check_name("instanceProfileName", name, 128)
    check_path(path or "/")
    stored_tags = check_tags(tags)
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM iam_instance_profiles WHERE name = ?", (name,)):
            raise already_exists(f"Instance Profile {name} already exists.")
        cloud.store.execute(
            "INSERT INTO iam_instance_profiles(name, profile_id, path, created, tags) "
            "VALUES(?, ?, ?, ?, ?)",
            (name, ids.iam_id("AIPA"), path or "/", now(), stored_tags),
        )
        cloud.iam_changed()
        return get_profile(cloud, name)


def get_profile(cloud: Cloud, name: str) -> InstanceProfile:
    """GetInstanceProfile; NoSuchEntity if there is none."""
    row = cloud.store.one("SELECT * FROM iam_instance_profiles WHERE name = ?", (name,))
    if row is None:
        raise no_such_entity(f"Instance Profile {name} cannot be found.")
    return _profile(cloud, row)


def by_arn(cloud: Cloud, profile_arn: str) -> InstanceProfile | None:
    """The profile an ARN names, or None."""
    _, _, name = profile_arn.rpartition("/")
    row = cloud.store.one("SELECT * FROM iam_instance_profiles WHERE name = ?", (name,))
    if row is None:
        return None
    profile = _profile(cloud, row)
    return profile if profile.arn == profile_arn else None


def list_profiles(
    cloud: Cloud,
    prefix: str | None,
    max_items: int | None,
    marker: str | None,
    role_name: str | None = None,
) -> tuple[list[InstanceProfile], str | None]:
    """ListInstanceProfiles, or ListInstanceProfilesForRole when ``role_name`` is given."""
    if role_name is None:
        rows = cloud.store.all("SELECT * FROM iam_instance_profiles ORDER BY name")
    else:
        role = get_role(cloud, role_name)
        rows = cloud.store.all(
            "SELECT * FROM iam_instance_profiles WHERE role_name = ? ORDER BY name", (role.name,)
        )
    found = [_profile(cloud, r) for r in rows if r["path"].startswith(prefix or "/")]
    return page(found, lambda p: p.name.lower(), max_items, marker)


def delete_profile(cloud: Cloud, name: str) -> None:
    """DeleteInstanceProfile: refused while it holds a role."""
    with cloud.store.transaction():
        profile = get_profile(cloud, name)
        if profile.role is not None:
            raise delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first."
            )
        cloud.store.execute("DELETE FROM iam_instance_profiles WHERE name = ?", (profile.name,))
        cloud.iam_changed()


def add_role(cloud: Cloud, name: str, role_name: str) -> None:
    """AddRoleToInstanceProfile: a profile holds one role."""
    with cloud.store.transaction():
        profile = get_profile(cloud, name)
        role = get_role(cloud, role_name)
        if profile.role is not None:
            raise limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        cloud.store.execute(
            "UPDATE iam_instance_profiles SET role_name = ? WHERE name = ?",
            (role.name, profile.name),
        )
        cloud.iam_changed()


def remove_role(cloud: Cloud, name: str, role_name: str) -> None:
    """RemoveRoleFromInstanceProfile."""
    with cloud.store.transaction():
        profile = get_profile(cloud, name)
        role = get_role(cloud, role_name)
        if profile.role is None or profile.role.name != role.name:
            raise no_such_entity(
                f"The role with name {role_name} cannot be found in instance profile {name}."
            )
        cloud.store.execute(
            "UPDATE iam_instance_profiles SET role_name = NULL WHERE name = ?", (profile.name,)
        )
        cloud.iam_changed()
