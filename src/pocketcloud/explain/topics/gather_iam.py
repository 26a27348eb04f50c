"""IAM as ``explain iam`` and ``explain aws-keys`` show it: the users, and the profile in
use — whose access key, which user, and what that user may do (its policies evaluated as
the server evaluates them); the roles (who may assume each, what its policies allow), the
instance profiles holding them and the instances those are given to. Reads the database
(through the read-only reader) and the AWS CLI's credentials file; never a secret."""

from __future__ import annotations

import configparser
import contextlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from pocketcloud.explain.topics.facts import Association, InstanceProfile, Profile, Role, User
from pocketcloud.iam import managed
from pocketcloud.iam.evaluate import RequestContext, evaluate
from pocketcloud.iam.policy import Effect, parse_policy
from pocketcloud.iam.resource_policy import ResourcePolicyKind, parse_resource_policy
from pocketcloud.store.reader import InstanceProfileRecord, RoleRecord, StateReader

#: what ``explain iam`` asks on behalf of the current profile's user
SAMPLE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:RunInstances",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateKeyPair",
    "iam:ListUsers",
    "iam:CreateUser",
)


def users(db: StateReader, account: str) -> list[User]:
    """Every IAM user with its groups, policies and access key ids."""
    return [
        User(
            u.name,
            f"arn:aws:iam::{account}:user{u.path}{u.name}",
            u.groups,
            u.attached,
            u.inline,
            u.access_keys,
        )
        for u in db.users()
    ]


def profile_name(env: Mapping[str, str], profiles: Iterable[str]) -> str:
    """The profile a CLI command uses: ``$AWS_PROFILE``, else ``pocketcloud`` (the one
    ``pocketcloud init`` writes) if it exists, else ``default`` (pure)."""
    if env.get("AWS_PROFILE"):
        return env["AWS_PROFILE"]
    return "pocketcloud" if "pocketcloud" in set(profiles) else "default"


def _credentials_file() -> Path:
    explicit = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(explicit).expanduser() if explicit else Path.home() / ".aws" / "credentials"


def profile(db: StateReader) -> Profile:
    """The profile a CLI command would use, its access key's user and what it may do."""
    parser = configparser.RawConfigParser()
    with contextlib.suppress(OSError, configparser.Error):
        parser.read(_credentials_file())
    name = profile_name(os.environ, parser.sections())
    key = parser.get(name, "aws_access_key_id", fallback=None)
    user = db.user_of_key(key) if key is not None else None
    if key is None or user is None:
        return Profile(name, key, None)
    return Profile(name, key, user, _decisions(db, user))


def _decisions(db: StateReader, user: str) -> tuple[tuple[str, str], ...]:
    """What each sample action would get for the user (its policies, evaluated as the
    server evaluates them)."""
    policies = []
    for document in _documents(db, user):
        with contextlib.suppress(Exception):  # a policy the server accepted parses; be safe
            policies.append(parse_policy(document))
    return tuple(
        (action, str(evaluate(policies, RequestContext(action, "*")))) for action in SAMPLE_ACTIONS
    )


def _documents(db: StateReader, user: str) -> list[str]:
    """Every policy document of a user: own and its groups', inline and managed."""
    owners = [("user", user)] + [("group", g) for g in db.groups_of_user(user)]
    docs: list[str] = []
    for kind, name in owners:
        docs += [document for _, document in db.inline_policies(kind, name)]
        for arn in db.attached_policies(kind, name):
            docs += _managed_document(db, arn)
    return docs


def _managed_document(db: StateReader, arn: str) -> list[str]:
    if arn in managed.AWS_MANAGED:
        return [managed.AWS_MANAGED[arn].document]
    doc = db.policy_document(arn)
    return [] if doc is None else [doc]


def roles(db: StateReader, account: str) -> list[Role]:
    """Every IAM role: who may assume it, its policies and the resources they allow."""
    return [_role(db, account, r) for r in db.roles()]


def _role(db: StateReader, account: str, r: RoleRecord) -> Role:
    documents = [document for _, document in db.inline_policies("role", r.name)]
    for arn in r.attached:
        documents += _managed_document(db, arn)
    return Role(
        r.name,
        f"arn:aws:iam::{account}:role{r.path}{r.name}",
        trusted(r.trust_policy),
        r.attached,
        r.inline,
        allowed_resources(documents),
        r.description,
    )


def trusted(document: str) -> tuple[str, ...]:
    """Whom a trust policy's Allow statements name: services, then ARNs, then account
    ids, "*" for anyone; () for a document that does not parse (pure)."""
    try:
        policy = parse_resource_policy(document, ResourcePolicyKind.TRUST)
    except Exception:  # a stored document parses; never fail on one
        return ()
    found: list[str] = []
    for entry in policy.statements:
        if entry.statement.effect is not Effect.ALLOW or entry.negated:
            continue
        p = entry.principals
        named = [*sorted(p.services), *sorted(p.arns), *sorted(p.accounts)]
        found += ["*"] if p.everyone else named
    return tuple(dict.fromkeys(found))


def allowed_resources(documents: Iterable[str]) -> tuple[str, ...]:
    """The resources the documents' Allow statements name, each once, in order; a
    document that does not parse adds nothing (pure)."""
    found: list[str] = []
    for document in documents:
        try:
            policy = parse_policy(document)
        except Exception:  # noqa: S112 (a stored document parses; never fail on one)
            continue
        for statement in policy.statements:
            if statement.effect is Effect.ALLOW and statement.resources is not None:
                found += statement.resources
    return tuple(dict.fromkeys(found))


def _profile_arn(account: str, p: InstanceProfileRecord) -> str:
    return f"arn:aws:iam::{account}:instance-profile{p.path}{p.name}"


def instance_profiles(db: StateReader, account: str) -> list[InstanceProfile]:
    """Every instance profile and the role it holds."""
    return [
        InstanceProfile(p.name, _profile_arn(account, p), p.role_name)
        for p in db.instance_profiles()
    ]


def associations(db: StateReader, profiles: Iterable[InstanceProfile]) -> list[Association]:
    """Each instance's live profile association, with the profile its ARN names and the
    role that profile holds now (as the metadata service finds them)."""
    by_arn = {p.arn: p for p in profiles}
    out = []
    for a in db.profile_associations():
        found = by_arn.get(a.profile_arn)
        profile, role = (found.name, found.role) if found else (None, None)
        out.append(Association(a.instance_id, a.association_id, a.profile_arn, profile, role))
    return out
