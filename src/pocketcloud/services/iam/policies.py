"""IAM policies: inline user/group policies, managed policies and their versions.

Documents are validated by ``pocketcloud.iam.policy`` before they are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pocketcloud import ids
from pocketcloud.errors import ClientError
from pocketcloud.iam import managed
from pocketcloud.iam.policy import (
    MAX_GROUP_INLINE,
    MAX_MANAGED,
    MAX_ROLE_INLINE,
    MAX_USER_INLINE,
    parse_policy,
    policy_size,
)
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
from pocketcloud.services.iam.roles import Role, get_role
from pocketcloud.services.iam.users import Identity, get_group, get_user
from pocketcloud.store.sqlite import Row

MAX_VERSIONS = 5
MAX_ATTACHED = 10
MAX_INLINE = {"user": MAX_USER_INLINE, "group": MAX_GROUP_INLINE, "role": MAX_ROLE_INLINE}
OWNERS: dict[str, Callable[[Cloud, str], Identity | Role]] = {
    "user": get_user,
    "group": get_group,
    "role": get_role,
}


@dataclass(frozen=True)
class Policy:
    """A managed policy (customer or AWS managed)."""

    name: str
    policy_id: str
    arn: str
    path: str
    description: str
    default_version: str
    attachment_count: int
    created: str
    updated: str


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a managed policy's document."""

    version_id: str
    document: str
    is_default: bool
    created: str


def _validate(document: str, limit: int) -> None:
    if policy_size(document) > limit:
        raise limit_exceeded(f"Cannot exceed quota for PolicySize: {limit}")
    parse_policy(document)


def _owner(cloud: Cloud, kind: str, name: str) -> str:
    """The canonical name of an existing user or group."""
    return OWNERS[kind](cloud, name).name


# --- inline policies -------------------------------------------------------------------


def put_inline(cloud: Cloud, kind: str, owner: str, name: str, document: str) -> None:
    """PutUserPolicy / PutGroupPolicy: create or replace."""
    check_name("policyName", name, 128)
    _validate(document, MAX_INLINE[kind])
    with cloud.store.transaction():
        canonical = _owner(cloud, kind, owner)
        cloud.store.execute(
            "INSERT INTO iam_inline_policies(owner_kind, owner_name, policy_name, document) "
            "VALUES(?, ?, ?, ?) ON CONFLICT(owner_kind, owner_name, policy_name) "
            "DO UPDATE SET document = excluded.document",
            (kind, canonical, name, document),
        )
        cloud.iam_changed()


def get_inline(cloud: Cloud, kind: str, owner: str, name: str) -> tuple[str, str, str]:
    """GetUserPolicy / GetGroupPolicy: (owner, policy name, document)."""
    canonical = _owner(cloud, kind, owner)
    row = cloud.store.one(
        "SELECT * FROM iam_inline_policies WHERE owner_kind = ? AND owner_name = ? "
        "AND policy_name = ?",
        (kind, canonical, name),
    )
    if row is None:
        raise no_such_entity(f"The {kind} policy with name {name} cannot be found.")
    return canonical, row["policy_name"], row["document"]


def list_inline(
    cloud: Cloud, kind: str, owner: str, max_items: int | None, marker: str | None
) -> tuple[list[str], str | None]:
    """ListUserPolicies / ListGroupPolicies."""
    canonical = _owner(cloud, kind, owner)
    rows = cloud.store.all(
        "SELECT policy_name FROM iam_inline_policies WHERE owner_kind = ? AND owner_name = ? "
        "ORDER BY policy_name",
        (kind, canonical),
    )
    return page([r["policy_name"] for r in rows], str.lower, max_items, marker)


def delete_inline(cloud: Cloud, kind: str, owner: str, name: str) -> None:
    """DeleteUserPolicy / DeleteGroupPolicy."""
    with cloud.store.transaction():
        canonical = _owner(cloud, kind, owner)
        removed = cloud.store.execute(
            "DELETE FROM iam_inline_policies WHERE owner_kind = ? AND owner_name = ? "
            "AND policy_name = ?",
            (kind, canonical, name),
        )
        if not removed:
            raise no_such_entity(f"The {kind} policy with name {name} cannot be found.")
        cloud.iam_changed()


# --- managed policies ------------------------------------------------------------------


def _attachments(cloud: Cloud, policy_arn: str) -> int:
    return int(
        cloud.store.scalar(
            "SELECT count(*) FROM iam_attachments WHERE policy_arn = ?", (policy_arn,)
        )
    )


def _local(cloud: Cloud, row: Row) -> Policy:
    return Policy(
        row["name"],
        row["policy_id"],
        row["arn"],
        row["path"],
        row["description"],
        row["default_version"],
        _attachments(cloud, row["arn"]),
        row["created"],
        row["updated"],
    )


def _aws(cloud: Cloud, policy: managed.ManagedPolicy) -> Policy:
    return Policy(
        policy.name,
        policy.policy_id,
        policy.arn,
        policy.path,
        policy.description,
        "v1",
        _attachments(cloud, policy.arn),
        "2015-02-06T18:39:46Z",
        "2015-02-06T18:39:46Z",
    )


def create_policy(
    cloud: Cloud, name: str, path: str | None, document: str, description: str | None
) -> Policy:
    """CreatePolicy: a customer managed policy with version v1 as default."""
    check_name("policyName", name, 128)
    check_path(path or "/")
    _validate(document, MAX_MANAGED)
    policy_arn = arn(cloud, "policy", path or "/", name)
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM iam_policies WHERE name = ?", (name,)):
            raise already_exists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            )
        stamp = now()
        cloud.store.execute(
            "INSERT INTO iam_policies(arn, name, policy_id, path, description, default_version,"
            " next_version, created, updated) VALUES(?, ?, ?, ?, ?, 'v1', 2, ?, ?)",
            (policy_arn, name, ids.iam_id("ANPA"), path or "/", description or "", stamp, stamp),
        )
        cloud.store.execute(
            "INSERT INTO iam_policy_versions(arn, version_id, document, created) "
            "VALUES(?, 'v1', ?, ?)",
            (policy_arn, document, stamp),
        )
        return get_policy(cloud, policy_arn)


def get_policy(cloud: Cloud, policy_arn: str) -> Policy:
    """GetPolicy: customer or AWS managed."""
    if policy_arn in managed.AWS_MANAGED:
        return _aws(cloud, managed.AWS_MANAGED[policy_arn])
    row = cloud.store.one("SELECT * FROM iam_policies WHERE arn = ?", (policy_arn,))
    if row is None:
        raise no_such_entity(f"Policy {policy_arn} does not exist or is not attachable.")
    return _local(cloud, row)


def list_policies(
    cloud: Cloud,
    scope: str | None,
    only_attached: bool,
    prefix: str | None,
    max_items: int | None,
    marker: str | None,
) -> tuple[list[Policy], str | None]:
    """ListPolicies: Scope All | AWS | Local, OnlyAttached, PathPrefix."""
    found: list[Policy] = []
    if scope in (None, "All", "AWS"):
        found += [_aws(cloud, p) for p in managed.AWS_MANAGED.values()]
    if scope in (None, "All", "Local"):
        found += [_local(cloud, r) for r in cloud.store.all("SELECT * FROM iam_policies")]
    found = [p for p in found if p.path.startswith(prefix or "/")]
    if only_attached:
        found = [p for p in found if p.attachment_count]
    return page(found, lambda p: p.arn, max_items, marker)


def delete_policy(cloud: Cloud, policy_arn: str) -> None:
    """DeletePolicy: only unattached customer policies with no extra versions."""
    with cloud.store.transaction():
        policy = get_policy(cloud, policy_arn)
        if policy_arn in managed.AWS_MANAGED:
            raise ClientError("AccessDenied", "AWS managed policies cannot be deleted", status=403)
        if policy.attachment_count:
            raise delete_conflict("Cannot delete a policy attached to entities.")
        versions = cloud.store.scalar(
            "SELECT count(*) FROM iam_policy_versions WHERE arn = ?", (policy_arn,)
        )
        if versions > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        cloud.store.execute("DELETE FROM iam_policies WHERE arn = ?", (policy_arn,))
        cloud.iam_changed()


def _local_row(cloud: Cloud, policy_arn: str) -> Row:
    get_policy(cloud, policy_arn)
    row = cloud.store.one("SELECT * FROM iam_policies WHERE arn = ?", (policy_arn,))
    if row is None:
        raise ClientError("AccessDenied", "AWS managed policies cannot be changed", status=403)
    return row


def create_policy_version(
    cloud: Cloud, policy_arn: str, document: str, set_default: bool
) -> PolicyVersion:
    """CreatePolicyVersion: at most five versions."""
    _validate(document, MAX_MANAGED)
    with cloud.store.transaction():
        row = _local_row(cloud, policy_arn)
        count = cloud.store.scalar(
            "SELECT count(*) FROM iam_policy_versions WHERE arn = ?", (policy_arn,)
        )
        if count >= MAX_VERSIONS:
            raise limit_exceeded(
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a "
                "new version, you must delete an existing version."
            )
        version = f"v{row['next_version']}"
        stamp = now()
        cloud.store.execute(
            "INSERT INTO iam_policy_versions(arn, version_id, document, created) "
            "VALUES(?, ?, ?, ?)",
            (policy_arn, version, document, stamp),
        )
        default = version if set_default else row["default_version"]
        cloud.store.execute(
            "UPDATE iam_policies SET next_version = next_version + 1, default_version = ?, "
            "updated = ? WHERE arn = ?",
            (default, stamp, policy_arn),
        )
        cloud.iam_changed()
        return PolicyVersion(version, document, set_default, stamp)


def get_policy_version(cloud: Cloud, policy_arn: str, version_id: str) -> PolicyVersion:
    """GetPolicyVersion."""
    if policy_arn in managed.AWS_MANAGED and version_id == "v1":
        doc = managed.AWS_MANAGED[policy_arn].document
        return PolicyVersion("v1", doc, True, "2015-02-06T18:39:46Z")
    policy = get_policy(cloud, policy_arn)
    row = cloud.store.one(
        "SELECT * FROM iam_policy_versions WHERE arn = ? AND version_id = ?",
        (policy_arn, version_id),
    )
    if row is None:
        raise no_such_entity(f"Policy {policy_arn} version {version_id} does not exist.")
    return PolicyVersion(
        version_id, row["document"], version_id == policy.default_version, row["created"]
    )


def list_policy_versions(
    cloud: Cloud, policy_arn: str, max_items: int | None, marker: str | None
) -> tuple[list[PolicyVersion], str | None]:
    """ListPolicyVersions (documents omitted, as IAM does)."""
    policy = get_policy(cloud, policy_arn)
    if policy_arn in managed.AWS_MANAGED:
        return [PolicyVersion("v1", "", True, policy.created)], None
    rows = cloud.store.all(
        "SELECT version_id, created FROM iam_policy_versions WHERE arn = ?", (policy_arn,)
    )
    versions = [
        PolicyVersion(r["version_id"], "", r["version_id"] == policy.default_version, r["created"])
        for r in rows
    ]
    return page(versions, lambda v: f"{int(v.version_id[1:]):09d}", max_items, marker)


def delete_policy_version(cloud: Cloud, policy_arn: str, version_id: str) -> None:
    """DeletePolicyVersion: never the default one."""
    with cloud.store.transaction():
        row = _local_row(cloud, policy_arn)
        if version_id == row["default_version"]:
            raise delete_conflict("Cannot delete the default version of a policy.")
        removed = cloud.store.execute(
            "DELETE FROM iam_policy_versions WHERE arn = ? AND version_id = ?",
            (policy_arn, version_id),
        )
        if not removed:
            raise no_such_entity(f"Policy {policy_arn} version {version_id} does not exist.")


def set_default_version(cloud: Cloud, policy_arn: str, version_id: str) -> None:
    """SetDefaultPolicyVersion: takes effect on the next request."""
    with cloud.store.transaction():
        _local_row(cloud, policy_arn)
        get_policy_version(cloud, policy_arn, version_id)
        cloud.store.execute(
            "UPDATE iam_policies SET default_version = ?, updated = ? WHERE arn = ?",
            (version_id, now(), policy_arn),
        )
        cloud.iam_changed()


# --- attachments -----------------------------------------------------------------------


def attach_policy(cloud: Cloud, kind: str, owner: str, policy_arn: str) -> None:
    """AttachUserPolicy / AttachGroupPolicy: at most ten per entity."""
    with cloud.store.transaction():
        canonical = _owner(cloud, kind, owner)
        get_policy(cloud, policy_arn)
        count = cloud.store.scalar(
            "SELECT count(*) FROM iam_attachments WHERE owner_kind = ? AND owner_name = ?",
            (kind, canonical),
        )
        if count >= MAX_ATTACHED:
            raise limit_exceeded(f"Cannot exceed quota for PoliciesPerUser: {MAX_ATTACHED}")
        cloud.store.execute(
            "INSERT OR IGNORE INTO iam_attachments(owner_kind, owner_name, policy_arn) "
            "VALUES(?, ?, ?)",
            (kind, canonical, policy_arn),
        )
        cloud.iam_changed()


def detach_policy(cloud: Cloud, kind: str, owner: str, policy_arn: str) -> None:
    """DetachUserPolicy / DetachGroupPolicy."""
    with cloud.store.transaction():
        canonical = _owner(cloud, kind, owner)
        removed = cloud.store.execute(
            "DELETE FROM iam_attachments WHERE owner_kind = ? AND owner_name = ? "
            "AND policy_arn = ?",
            (kind, canonical, policy_arn),
        )
        if not removed:
            raise no_such_entity(f"Policy {policy_arn} was not found.")
        cloud.iam_changed()


def list_attached(
    cloud: Cloud, kind: str, owner: str, max_items: int | None, marker: str | None
) -> tuple[list[Policy], str | None]:
    """ListAttachedUserPolicies / ListAttachedGroupPolicies."""
    canonical = _owner(cloud, kind, owner)
    rows = cloud.store.all(
        "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ? AND owner_name = ?",
        (kind, canonical),
    )
    policies = [get_policy(cloud, r["policy_arn"]) for r in rows]
    return page(policies, lambda p: p.arn, max_items, marker)


def entities_for_policy(cloud: Cloud, policy_arn: str) -> tuple[list[str], list[str], list[str]]:
    """ListEntitiesForPolicy: (user names, group names, role names)."""
    get_policy(cloud, policy_arn)
    rows = cloud.store.all(
        "SELECT owner_kind, owner_name FROM iam_attachments WHERE policy_arn = ? "
        "ORDER BY owner_name",
        (policy_arn,),
    )
    users = [r["owner_name"] for r in rows if r["owner_kind"] == "user"]
    groups = [r["owner_name"] for r in rows if r["owner_kind"] == "group"]
    roles = [r["owner_name"] for r in rows if r["owner_kind"] == "role"]
    return users, groups, roles


def documents_for_user(cloud: Cloud, user: str) -> list[str]:
    """Every policy document that applies to a user: own and groups', inline and managed."""
    groups = [
        r["group_name"]
        for r in cloud.store.all(
            "SELECT group_name FROM iam_group_members WHERE user_name = ?", (user,)
        )
    ]
    return _documents(cloud, [("user", user)] + [("group", g) for g in groups])


def documents_for_role(cloud: Cloud, role: str) -> list[str]:
    """Every policy document a role's sessions act with: inline and managed."""
    return _documents(cloud, [("role", role)])


def _documents(cloud: Cloud, owners: list[tuple[str, str]]) -> list[str]:
    documents: list[str] = []
    for kind, name in owners:
        documents += [
            r["document"]
            for r in cloud.store.all(
                "SELECT document FROM iam_inline_policies WHERE owner_kind = ? AND owner_name = ?",
                (kind, name),
            )
        ]
        for row in cloud.store.all(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ? AND owner_name = ?",
            (kind, name),
        ):
            policy = get_policy(cloud, row["policy_arn"])
            documents.append(get_policy_version(cloud, policy.arn, policy.default_version).document)
    return documents
