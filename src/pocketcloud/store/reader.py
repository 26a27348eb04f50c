"""The one read-only reader of a cloud's state database, for explain and the console.

Opens the database with SQLite's ``mode=ro`` — never through :class:`~pocketcloud.store.Store`,
which migrates and writes — so a reader beside a running server (or of a stopped cloud)
changes nothing. Each query has a name and returns plain frozen records in the store's
own words (snake_case; AWS's CamelCase lives in ``api/`` only). Every ``sqlite3`` error
surfaces as one :class:`ReadError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

#: seconds a read waits for the server's write lock
BUSY_TIMEOUT = 10


class ReadError(RuntimeError):
    """The state database cannot be read (not root, missing, damaged)."""


@dataclass(frozen=True)
class InstanceRecord:
    """An instance as stored, with its subnet's VPC, its groups and its tags."""

    instance_id: str
    state: str
    instance_type: str
    private_ip: str
    key_name: str | None
    vpc_id: str
    map_public_ip: bool  # its subnet gives instances a public address
    elastic_ip: str | None  # the Elastic IP associated with it, if any
    launch_time: str
    group_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleRecord:
    """One security group rule as stored."""

    rule_id: str
    group_id: str
    egress: bool
    protocol: str  # "tcp", "udp", "icmp", "-1" (all)
    from_port: int
    to_port: int
    cidr_ipv4: str | None
    cidr_ipv6: str | None
    ref_group_id: str | None
    description: str = ""


@dataclass(frozen=True)
class GroupRecord:
    """A security group, its rules and the instances (not terminated) it guards."""

    group_id: str
    name: str
    description: str
    vpc_id: str
    rules: tuple[RuleRecord, ...] = ()
    instance_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyPairRecord:
    """A key pair the cloud holds the public half of."""

    name: str
    key_pair_id: str
    key_type: str
    fingerprint: str
    created: str


@dataclass(frozen=True)
class UserRecord:
    """An IAM user: its path, groups, policies and access key ids (never a secret)."""

    name: str
    path: str
    groups: tuple[str, ...] = ()
    attached: tuple[str, ...] = ()  # managed policy ARNs
    inline: tuple[str, ...] = ()  # inline policy names
    access_keys: tuple[tuple[str, str], ...] = ()  # (access key id, status)


@dataclass(frozen=True)
class RoleRecord:
    """An IAM role: its trust policy (who may assume it) and the names of its policies."""

    name: str
    role_id: str
    path: str
    trust_policy: str  # the document, as stored
    description: str
    max_session_duration: int
    created: str
    attached: tuple[str, ...] = ()  # managed policy ARNs
    inline: tuple[str, ...] = ()  # inline policy names


@dataclass(frozen=True)
class InstanceProfileRecord:
    """An IAM instance profile and the one role it holds (None: empty)."""

    name: str
    profile_id: str
    path: str
    role_name: str | None
    created: str


@dataclass(frozen=True)
class ProfileAssociationRecord:
    """An instance's link to an instance profile (the profile's ARN and id as they were
    when it was made)."""

    association_id: str
    instance_id: str
    profile_arn: str
    profile_id: str
    state: str  # "associated" or "disassociated"
    created: str


_INSTANCE = (
    "SELECT i.instance_id, i.state, i.instance_type, i.private_ip, i.key_name, i.launch_time,"
    " s.vpc_id, s.map_public_ip, a.public_ip AS elastic_ip FROM instances i"
    " JOIN subnets s ON s.subnet_id = i.subnet_id LEFT JOIN addresses a"
    " ON a.instance_id = i.instance_id AND a.association_id IS NOT NULL"
)


class StateReader:
    """A read-only connection to one cloud's database and the queries explain and the
    console ask. Use as a context manager (closes the connection)."""

    def __init__(self, database: Path) -> None:
        """Open ``database`` read-only (reads a file; ReadError if it cannot be opened)."""
        self.database = database
        try:
            uri = f"{database.absolute().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT)
        except sqlite3.Error as exc:
            raise ReadError(f"cannot read {database}: {exc} (as root it can)") from exc
        self._db.row_factory = sqlite3.Row

    def __enter__(self) -> StateReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise ReadError(f"cannot read {self.database}: {exc}") from exc

    def _column(self, sql: str, params: Sequence[object] = ()) -> tuple[str, ...]:
        return tuple(str(row[0]) for row in self._rows(sql, params))

    def _scalar(self, sql: str, params: Sequence[object] = ()) -> str | None:
        found = self._column(sql, params)
        return found[0] if found else None

    # the cloud and its instances

    def account_id(self) -> str:
        """The cloud's account id ("" if none is recorded)."""
        return self._scalar("SELECT value FROM meta WHERE key = 'account_id'") or ""

    def instances(self) -> tuple[InstanceRecord, ...]:
        """Every instance that is not terminated, in launch order."""
        rows = self._rows(
            f"{_INSTANCE} WHERE i.state != 'terminated' ORDER BY i.launch_time, i.instance_id"
        )
        return tuple(self._instance(row) for row in rows)

    def instance(self, instance_id: str) -> InstanceRecord | None:
        """One instance by id, whatever its state (None: no such instance)."""
        rows = self._rows(f"{_INSTANCE} WHERE i.instance_id = ?", (instance_id,))
        return self._instance(rows[0]) if rows else None

    def _instance(self, row: sqlite3.Row) -> InstanceRecord:
        iid = row["instance_id"]
        groups = self._column(
            "SELECT group_id FROM instance_groups WHERE instance_id = ? ORDER BY position", (iid,)
        )
        tags = self._rows("SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key", (iid,))
        return InstanceRecord(
            iid,
            row["state"],
            row["instance_type"],
            row["private_ip"],
            row["key_name"],
            row["vpc_id"],
            bool(row["map_public_ip"]),
            row["elastic_ip"],
            row["launch_time"],
            groups,
            {t["key"]: t["value"] for t in tags},
        )

    def instances_tagged(self, key: str, value: str) -> tuple[str, ...]:
        """The ids of the instances whose tag ``key`` is ``value``: running ones first,
        then the newest."""
        return self._column(
            "SELECT t.resource_id FROM tags t JOIN instances i ON i.instance_id = t.resource_id"
            " WHERE t.key = ? AND t.value = ?"
            " ORDER BY i.state = 'running' DESC, i.launch_time DESC",
            (key, value),
        )

    def instance_at(self, address: str) -> str | None:
        """The id of the instance with this private address (a live one first, then the
        newest), else of the one this Elastic IP is associated with."""
        return self._scalar(
            "SELECT instance_id FROM instances WHERE private_ip = ?"
            " ORDER BY state = 'terminated', launch_time DESC",
            (address,),
        ) or self._scalar(
            "SELECT instance_id FROM addresses WHERE public_ip = ? AND instance_id IS NOT NULL",
            (address,),
        )

    # security groups and key pairs

    def security_groups(self) -> tuple[GroupRecord, ...]:
        """Every security group by name, with its rules (egress last) and the instances
        that are not terminated it guards (in launch order)."""
        rules: dict[str, list[RuleRecord]] = {}
        for rule in self._rule_records("ORDER BY egress, rule_id"):
            rules.setdefault(rule.group_id, []).append(rule)
        members: dict[str, list[str]] = {}
        for row in self._rows(
            "SELECT ig.group_id, ig.instance_id FROM instance_groups ig"
            " JOIN instances i ON i.instance_id = ig.instance_id"
            " WHERE i.state != 'terminated' ORDER BY i.launch_time"
        ):
            members.setdefault(row["group_id"], []).append(row["instance_id"])
        return tuple(
            GroupRecord(
                g["group_id"],
                g["name"],
                g["description"],
                g["vpc_id"],
                tuple(rules.get(g["group_id"], ())),
                tuple(members.get(g["group_id"], ())),
            )
            for g in self._rows("SELECT * FROM security_groups ORDER BY name, group_id")
        )

    def ipv4_rules(self, group_ids: Sequence[str], egress: bool) -> tuple[RuleRecord, ...]:
        """The IPv4 ingress (or egress) rules of these groups."""
        if not group_ids:
            return ()
        marks = ",".join("?" * len(group_ids))
        where = f"WHERE egress = ? AND group_id IN ({marks}) AND cidr_ipv6 IS NULL"
        return self._rule_records(where, (int(egress), *group_ids))

    def _rule_records(self, tail: str, params: Sequence[object] = ()) -> tuple[RuleRecord, ...]:
        """The rules ``tail`` (a WHERE and/or ORDER BY clause of this module's) selects."""
        rows = self._rows(f"SELECT * FROM security_group_rules {tail}", params)  # noqa: S608
        return tuple(
            RuleRecord(
                r["rule_id"],
                r["group_id"],
                bool(r["egress"]),
                r["protocol"],
                r["from_port"],
                r["to_port"],
                r["cidr_ipv4"],
                r["cidr_ipv6"],
                r["ref_group_id"],
                r["description"],
            )
            for r in rows
        )

    def key_pairs(self) -> tuple[KeyPairRecord, ...]:
        """Every key pair, oldest first."""
        return tuple(
            KeyPairRecord(
                k["name"], k["key_pair_id"], k["key_type"], k["fingerprint"], k["created"]
            )
            for k in self._rows("SELECT * FROM key_pairs ORDER BY created, name")
        )

    # IAM

    def users(self) -> tuple[UserRecord, ...]:
        """Every IAM user by name, with its groups, policies and access key ids."""
        out = []
        for u in self._rows("SELECT name, path FROM iam_users ORDER BY name"):
            name = u["name"]
            keys = self._rows(
                "SELECT access_key_id, status FROM iam_access_keys WHERE user_name = ?", (name,)
            )
            out.append(
                UserRecord(
                    name,
                    u["path"],
                    self.groups_of_user(name),
                    self.attached_policies("user", name),
                    tuple(policy for policy, _ in self.inline_policies("user", name)),
                    tuple((k["access_key_id"], k["status"]) for k in keys),
                )
            )
        return tuple(out)

    def user_of_key(self, access_key_id: str) -> str | None:
        """The user an access key belongs to (None: no such key)."""
        return self._scalar(
            "SELECT user_name FROM iam_access_keys WHERE access_key_id = ?", (access_key_id,)
        )

    def groups_of_user(self, user: str) -> tuple[str, ...]:
        """The IAM groups a user is a member of."""
        return self._column("SELECT group_name FROM iam_group_members WHERE user_name = ?", (user,))

    def inline_policies(self, owner_kind: str, owner: str) -> tuple[tuple[str, str], ...]:
        """(name, document) of each inline policy of a user, group or role (``owner_kind``
        "user", "group" or "role")."""
        rows = self._rows(
            "SELECT policy_name, document FROM iam_inline_policies"
            " WHERE owner_kind = ? AND owner_name = ?",
            (owner_kind, owner),
        )
        return tuple((str(r["policy_name"]), str(r["document"])) for r in rows)

    def attached_policies(self, owner_kind: str, owner: str) -> tuple[str, ...]:
        """The ARNs of the managed policies attached to a user, group or role."""
        return self._column(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ? AND owner_name = ?",
            (owner_kind, owner),
        )

    def policy_document(self, arn: str) -> str | None:
        """The default version's document of a customer managed policy (None: not one of
        this cloud's policies — AWS managed policies are not stored)."""
        return self._scalar(
            "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v"
            " ON v.arn = p.arn AND v.version_id = p.default_version WHERE p.arn = ?",
            (arn,),
        )

    # roles and instance profiles

    def roles(self) -> tuple[RoleRecord, ...]:
        """Every IAM role by name, with its trust policy and the names of its policies."""
        return tuple(
            RoleRecord(
                r["name"],
                r["role_id"],
                r["path"],
                r["trust_policy"],
                r["description"],
                r["max_session_duration"],
                r["created"],
                self.attached_policies("role", r["name"]),
                tuple(policy for policy, _ in self.inline_policies("role", r["name"])),
            )
            for r in self._rows("SELECT * FROM iam_roles ORDER BY name")
        )

    def instance_profiles(self) -> tuple[InstanceProfileRecord, ...]:
        """Every instance profile by name, with the role it holds."""
        return tuple(
            InstanceProfileRecord(
                p["name"], p["profile_id"], p["path"], p["role_name"], p["created"]
            )
            for p in self._rows("SELECT * FROM iam_instance_profiles ORDER BY name")
        )

    def profile_associations(self) -> tuple[ProfileAssociationRecord, ...]:
        """The live ("associated") instance profile associations of the instances that
        are not terminated, in the instances' launch order."""
        rows = self._rows(
            "SELECT a.* FROM iam_profile_associations a"
            " JOIN instances i ON i.instance_id = a.instance_id"
            " WHERE a.state = 'associated' AND i.state != 'terminated'"
            " ORDER BY i.launch_time, i.instance_id"
        )
        return tuple(
            ProfileAssociationRecord(
                a["association_id"],
                a["instance_id"],
                a["profile_arn"],
                a["profile_id"],
                a["state"],
                a["created"],
            )
            for a in rows
        )
