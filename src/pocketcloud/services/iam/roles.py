"""IAM roles: who may assume them (the trust policy) and what their sessions may do."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from pocketcloud import ids
from pocketcloud.errors import ClientError
from pocketcloud.iam.policy import policy_size
from pocketcloud.iam.resource_policy import ResourcePolicyKind, parse_resource_policy
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

MAX_TRUST_POLICY = 2048
"""IAM's default quota for a trust policy (``ACLSizePerRole``)."""
SESSION_BOUNDS = (3600, 43200)
MAX_TAGS = 50
"""MaxSessionDuration: one to twelve hours."""


@dataclass(frozen=True)
class Role:
    """An IAM role."""

    name: str
    role_id: str
    path: str
    arn: str
    trust_policy: str
    description: str
    max_session_duration: int
    created: str
    tags: tuple[tuple[str, str], ...] = ()


def _role(cloud: Cloud, row: Row) -> Role:
    return Role(
        row["name"],
        row["role_id"],
        row["path"],
        arn(cloud, "role", row["path"], row["name"]),
        row["trust_policy"],
        row["description"],
        row["max_session_duration"],
        row["created"],
        tags_of(row["tags"]),
    )


def tags_of(text: str) -> tuple[tuple[str, str], ...]:
    """Stored tags as (key, value) pairs, in the order given."""
    return tuple((t["Key"], t["Value"]) for t in json.loads(text or "[]"))


def check_tags(tags: Sequence[tuple[str, str]]) -> str:
    """IAM's tag rules (at most 50, keys 1-128 and unique regardless of case, values at
    most 256); the tags as stored."""
    if len(tags) > MAX_TAGS:
        raise limit_exceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    keys = [key.lower() for key, _ in tags]
    if len(set(keys)) != len(keys):
        raise ClientError(
            "InvalidInput",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        )
    for key, value in tags:
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise ClientError(
                "ValidationError",
                "1 validation error detected: a tag key must be 1-128 characters and a value "
                "at most 256",
            )
    return json.dumps([{"Key": k, "Value": v} for k, v in tags])


def _check_trust(document: str) -> None:
    if policy_size(document) > MAX_TRUST_POLICY:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}")
    parse_resource_policy(document, ResourcePolicyKind.TRUST)


def _check_duration(seconds: int | None) -> int:
    low, high = SESSION_BOUNDS
    if seconds is None:
        return low
    if not low <= seconds <= high:
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value '{seconds}' at 'maxSessionDuration' failed "
            f"to satisfy constraint: Member must have value less than or equal to {high}"
            if seconds > high
            else f"1 validation error detected: Value '{seconds}' at 'maxSessionDuration' "
            f"failed to satisfy constraint: Member must have value greater than or equal "
            f"to {low}",
        )
    return seconds


def _check_description(description: str | None) -> str:
    if description is not None and len(description) > 1000:
        raise ClientError(
            "ValidationError",
            "1 validation error detected: Value at 'description' failed to satisfy "
            "constraint: Member must have length less than or equal to 1000",
        )
    return description or ""


def create_role(
    cloud: Cloud,
    name: str,
    path: str | None,
    trust_policy: str,
    description: str | None = None,
    max_session_duration: int | None = None,
    tags: Sequence[tuple[str, str]] = (),
) -> Role:
    """CreateRole: the trust policy is checked as IAM checks it."""
    check_name("roleName", name)
    check_path(path or "/")
    _check_trust(trust_policy)
    seconds = _check_duration(max_session_duration)
    text = _check_description(description)
    stored_tags = check_tags(tags)
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM iam_roles WHERE name = ?", (name,)):
            raise already_exists(f"Role with name {name} already exists.")
        cloud.store.execute(
            "INSERT INTO iam_roles(name, role_id, path, trust_policy, description, "
            "max_session_duration, created, tags) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                ids.iam_id("AROA"),
                path or "/",
                trust_policy,
                text,
                seconds,
                now(),
                stored_tags,
            ),
        )
        cloud.iam_changed()
        return get_role(cloud, name)


def get_role(cloud: Cloud, name: str) -> Role:
    """GetRole; NoSuchEntity if there is none."""
    row = cloud.store.one("SELECT * FROM iam_roles WHERE name = ?", (name,))
    if row is None:
        raise no_such_entity(f"The role with name {name} cannot be found.")
    return _role(cloud, row)


def by_arn(cloud: Cloud, role_arn: str) -> Role | None:
    """The role an ARN names (path and name must both match), or None."""
    _, _, name = role_arn.rpartition("/")
    row = cloud.store.one("SELECT * FROM iam_roles WHERE name = ?", (name,))
    if row is None:
        return None
    role = _role(cloud, row)
    return role if role.arn == role_arn else None


def list_roles(
    cloud: Cloud, prefix: str | None, max_items: int | None, marker: str | None
) -> tuple[list[Role], str | None]:
    """ListRoles with PathPrefix and Marker pagination."""
    rows = cloud.store.all("SELECT * FROM iam_roles ORDER BY name")
    roles = [_role(cloud, r) for r in rows if r["path"].startswith(prefix or "/")]
    return page(roles, lambda r: r.name.lower(), max_items, marker)


def update_trust_policy(cloud: Cloud, name: str, document: str) -> None:
    """UpdateAssumeRolePolicy."""
    _check_trust(document)
    with cloud.store.transaction():
        get_role(cloud, name)
        cloud.store.execute(
            "UPDATE iam_roles SET trust_policy = ? WHERE name = ?", (document, name)
        )
        cloud.iam_changed()


def update_role(
    cloud: Cloud, name: str, description: str | None, max_session_duration: int | None
) -> None:
    """UpdateRole: its description and maximum session duration."""
    text = _check_description(description)
    with cloud.store.transaction():
        role = get_role(cloud, name)
        seconds = (
            role.max_session_duration
            if max_session_duration is None
            else _check_duration(max_session_duration)
        )
        cloud.store.execute(
            "UPDATE iam_roles SET description = ?, max_session_duration = ? WHERE name = ?",
            (text if description is not None else role.description, seconds, name),
        )
        cloud.iam_changed()


def delete_role(cloud: Cloud, name: str) -> None:
    """DeleteRole: refused while the role is in an instance profile or has policies.

    Its sessions stop working at once: they are deleted with it.
    """
    with cloud.store.transaction():
        role = get_role(cloud, name)
        checks = (
            (
                "SELECT 1 FROM iam_instance_profiles WHERE role_name = ?",
                "Cannot delete entity, must remove roles from instance profile first.",
            ),
            (
                "SELECT 1 FROM iam_inline_policies WHERE owner_kind = 'role' AND owner_name = ?",
                "Cannot delete entity, must delete policies first.",
            ),
            (
                "SELECT 1 FROM iam_attachments WHERE owner_kind = 'role' AND owner_name = ?",
                "Cannot delete entity, must detach all policies first.",
            ),
        )
        for sql, message in checks:
            if cloud.store.one(sql, (role.name,)):
                raise delete_conflict(message)
        cloud.store.execute("DELETE FROM iam_roles WHERE name = ?", (role.name,))
        cloud.store.execute(
            "DELETE FROM sts_sessions WHERE kind = 'role' AND owner = ?", (role.name,)
        )
        cloud.iam_changed()
