"""IAM as ``explain iam`` shows it: the users, and the profile in use — whose access key,
which user, and what that user may do (its policies evaluated as the server evaluates
them). Reads the database and the AWS CLI's credentials file; never a secret."""

from __future__ import annotations

import configparser
import contextlib
import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from pocketcloud.explain.live.rows import column, scalar
from pocketcloud.explain.topics_facts import Profile, User
from pocketcloud.iam import managed
from pocketcloud.iam.evaluate import RequestContext, evaluate
from pocketcloud.iam.policy import parse_policy

#: what ``explain iam`` asks on behalf of the current profile's user
SAMPLE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:RunInstances",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateKeyPair",
    "iam:ListUsers",
    "iam:CreateUser",
)


def users(db: sqlite3.Connection, account: str) -> list[User]:
    """Every IAM user with its groups, policies and access key ids."""
    out = []
    for u in db.execute("SELECT * FROM iam_users ORDER BY name"):
        name = u["name"]
        groups = column(db, "SELECT group_name FROM iam_group_members WHERE user_name = ?", name)
        attached = column(
            db,
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = 'user' AND owner_name = ?",
            name,
        )
        inline = column(
            db,
            "SELECT policy_name FROM iam_inline_policies WHERE owner_kind = 'user' "
            "AND owner_name = ?",
            name,
        )
        keys = tuple(
            (r["access_key_id"], r["status"])
            for r in db.execute(
                "SELECT access_key_id, status FROM iam_access_keys WHERE user_name = ?", (name,)
            )
        )
        arn = f"arn:aws:iam::{account}:user{u['path']}{name}"
        out.append(User(name, arn, groups, attached, inline, keys))
    return out


def profile_name(env: Mapping[str, str], profiles: Iterable[str]) -> str:
    """The profile a CLI command uses: ``$AWS_PROFILE``, else ``pocketcloud`` (the one
    ``pocketcloud init`` writes) if it exists, else ``default`` (pure)."""
    if env.get("AWS_PROFILE"):
        return env["AWS_PROFILE"]
    return "pocketcloud" if "pocketcloud" in set(profiles) else "default"


def _credentials_file() -> Path:
    explicit = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(explicit).expanduser() if explicit else Path.home() / ".aws" / "credentials"


def profile(db: sqlite3.Connection) -> Profile:
    """The profile a CLI command would use, its access key's user and what it may do."""
    parser = configparser.RawConfigParser()
    with contextlib.suppress(OSError, configparser.Error):
        parser.read(_credentials_file())
    name = profile_name(os.environ, parser.sections())
    key = parser.get(name, "aws_access_key_id", fallback=None)
    user = scalar(db, "SELECT user_name FROM iam_access_keys WHERE access_key_id = ?", (key,))
    if key is None or user is None:
        return Profile(name, key, None)
    return Profile(name, key, user, _decisions(db, user))


def _decisions(db: sqlite3.Connection, user: str) -> tuple[tuple[str, str], ...]:
    """What each sample action would get for the user (its policies, evaluated as the
    server evaluates them)."""
    policies = []
    for document in _documents(db, user):
        with contextlib.suppress(Exception):  # a policy the server accepted parses; be safe
            policies.append(parse_policy(document))
    return tuple(
        (action, str(evaluate(policies, RequestContext(action, "*")))) for action in SAMPLE_ACTIONS
    )


def _documents(db: sqlite3.Connection, user: str) -> list[str]:
    """Every policy document of a user: own and its groups', inline and managed."""
    groups = column(db, "SELECT group_name FROM iam_group_members WHERE user_name = ?", user)
    owners = [("user", user)] + [("group", g) for g in groups]
    docs: list[str] = []
    for kind, name in owners:
        args = (kind, name)
        docs += [
            str(r[0])
            for r in db.execute(
                "SELECT document FROM iam_inline_policies WHERE owner_kind = ? AND owner_name = ?",
                args,
            )
        ]
        for (arn,) in db.execute(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ? AND owner_name = ?", args
        ):
            docs += _managed_document(db, arn)
    return docs


def _managed_document(db: sqlite3.Connection, arn: str) -> list[str]:
    if arn in managed.AWS_MANAGED:
        return [managed.AWS_MANAGED[arn].document]
    doc = scalar(
        db,
        "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v "
        "ON v.arn = p.arn AND v.version_id = p.default_version WHERE p.arn = ?",
        (arn,),
    )
    return [] if doc is None else [doc]
