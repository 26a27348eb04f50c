"""Parsing and evaluation of resource-based policies: role trust policies and S3 bucket policies.

Their statements name *who* they apply to (``Principal`` / ``NotPrincipal``);
the rest of a statement (Sid, Effect, Action, Resource, Condition) is validated
and compiled by the identity-policy parser in :mod:`pocketcloud.iam.policy` and
matched by :func:`pocketcloud.iam.evaluate.statement_applies`.

:func:`parse_resource_policy` raises IAM's ``MalformedPolicyDocument`` for a
trust policy and S3's ``MalformedPolicy`` for a bucket policy; errors from the
shared parser keep their message and take the kind's code.
:func:`evaluate_resource` says how far a policy lets one caller in (a
:class:`Grant`). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from pocketcloud.errors import ClientError
from pocketcloud.iam.conditions import SYNTAX_ERROR, malformed
from pocketcloud.iam.evaluate import RequestContext, statement_applies
from pocketcloud.iam.policy import (
    _STATEMENT_KEYS,
    VARIABLES_VERSION,
    ActionMatcher,
    Effect,
    Statement,
    _check_action,
    _check_resource,
    _check_sids,
    _load,
    _raw_statements,
    _string_list,
    build_statement,
    policy_header,
)

MISSING_FIELD = "Missing required field {}"
PROHIBITED_FIELD = "Has prohibited field {}"
INVALID_PRINCIPAL = "Invalid principal in policy"
TRUST_ACTION_ERROR = "AssumeRole policy may only specify STS AssumeRole actions."
BUCKET_ACTION_ERROR = "Policy has invalid action"
BUCKET_RESOURCE_ERROR = "Policy has invalid resource"
BUCKET_JSON_ERROR = "Policies must be valid JSON and the first byte must be '{'"

TRUST_ACTIONS = (
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
)
"""The actions a trust policy may name (or match with a wildcard)."""

_KEYS = _STATEMENT_KEYS | {"Principal", "NotPrincipal"}
_PRINCIPAL_KEYS = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_PARTITION = r"aws(?:-[a-z]+)*"
_NAME = r"[\w+=,.@-]+"
_ACCOUNT = re.compile(r"[0-9]{12}")
_ROOT_ARN = re.compile(rf"arn:{_PARTITION}:iam::([0-9]{{12}}):root", re.ASCII)
_PRINCIPAL_ARN = re.compile(
    rf"arn:{_PARTITION}:(?:iam::[0-9]{{12}}:(?:user|role)/(?:{_NAME}/)*{_NAME}"
    rf"|sts::[0-9]{{12}}:assumed-role/{_NAME}/{_NAME})",
    re.ASCII,
)
_SERVICE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?")
_BUCKET_ARN = re.compile(rf"arn:{_PARTITION}:s3:::\S+")
_S3_ACTION = re.compile(r"s3:[A-Za-z0-9*?]+", re.IGNORECASE)


class ResourcePolicyKind(StrEnum):
    """Which resource a policy is attached to, and so which service's rules it follows."""

    TRUST = "trust"
    BUCKET = "bucket"


class Grant(StrEnum):
    """How far a resource policy lets a caller in."""

    NONE = "none"
    ACCOUNT = "account"
    DIRECT = "direct"
    EXPLICIT_DENY = "explicit_deny"


_RANK = {Grant.NONE: 0, Grant.ACCOUNT: 1, Grant.DIRECT: 2}


@dataclass(frozen=True)
class Caller:
    """Who asks, as a resource policy sees them.

    ``arns`` are the ARNs the caller is known by: an IAM user's ARN; for a role
    session both its ``assumed-role`` ARN and its role's ARN. ``service`` is set
    when an AWS service acts (``ec2.amazonaws.com`` for instance profiles).
    """

    account: str
    arns: tuple[str, ...] = ()
    service: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class Principals:
    """A statement's ``Principal`` (or ``NotPrincipal``) element, validated.

    ``accounts`` holds account ids, from ids and ``:root`` ARNs; ``arns`` user,
    role and assumed-role ARNs. Federated and canonical users are kept but never
    match: nothing here signs in that way.
    """

    everyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    canonical_users: frozenset[str] = frozenset()

    def grant(self, caller: Caller) -> Grant:
        """``DIRECT`` if this names the caller itself, ``ACCOUNT`` if its account, else ``NONE``."""
        if self.everyone:
            return Grant.DIRECT
        if caller.anonymous:
            return Grant.NONE
        if caller.service in self.services or not self.arns.isdisjoint(caller.arns):
            return Grant.DIRECT
        return Grant.ACCOUNT if caller.account in self.accounts else Grant.NONE


@dataclass(frozen=True)
class ResourceStatement:
    """One statement of a resource-based policy: whom it names and what it says of them."""

    statement: Statement
    principals: Principals
    negated: bool = False
    """Whether the element was ``NotPrincipal``: the statement is for everyone else."""

    def grant(self, caller: Caller) -> Grant:
        """How the principal part names the caller; ``NONE`` when the statement is not for them."""
        named = self.principals.grant(caller)
        if not self.negated:
            return named
        return Grant.DIRECT if named is Grant.NONE else Grant.NONE


@dataclass(frozen=True)
class ResourcePolicy:
    """A parsed resource-based policy document."""

    version: str
    statements: tuple[ResourceStatement, ...]
    id: str | None = None


# --- validation -------------------------------------------------------------


def _check_trust_action(action: str) -> None:
    _check_action(action)
    matcher = ActionMatcher.compile((action,))
    if not any(matcher.matches(allowed) for allowed in TRUST_ACTIONS):
        raise malformed(TRUST_ACTION_ERROR)


def _check_bucket_action(action: str) -> None:
    if action != "*" and not _S3_ACTION.fullmatch(action):
        raise malformed(BUCKET_ACTION_ERROR)


def _check_bucket_resource(resource: str) -> None:
    if not _BUCKET_ARN.fullmatch(resource):
        raise malformed(BUCKET_RESOURCE_ERROR)


def _trust_principal_error(key: str | None, value: str) -> ClientError:
    if key is None:
        return malformed(SYNTAX_ERROR)
    return malformed(f'{INVALID_PRINCIPAL}: "{key.upper()}":"{value}"')


def _bucket_principal_error(_key: str | None, _value: str) -> ClientError:
    return malformed(INVALID_PRINCIPAL)


@dataclass(frozen=True)
class _Rules:
    """What one kind of resource policy requires; its errors are raised by ``malformed``."""

    code: str
    invalid_json: str
    required: tuple[str, ...]
    prohibited: tuple[str, ...]
    check_action: Callable[[str], None]
    check_resource: Callable[[str], None]
    principal_error: Callable[[str | None, str], ClientError]


_RULES = {
    ResourcePolicyKind.TRUST: _Rules(
        "MalformedPolicyDocument",
        SYNTAX_ERROR,
        ("Principal", "Action"),
        ("Resource", "NotResource"),
        _check_trust_action,
        _check_resource,
        _trust_principal_error,
    ),
    ResourcePolicyKind.BUCKET: _Rules(
        "MalformedPolicy",
        BUCKET_JSON_ERROR,
        ("Principal", "Action", "Resource"),
        (),
        _check_bucket_action,
        _check_bucket_resource,
        _bucket_principal_error,
    ),
}


def _valid_principal(key: str, value: str) -> bool:
    if key == "AWS":
        patterns = (_ACCOUNT, _ROOT_ARN, _PRINCIPAL_ARN)
        return value == "*" or any(p.fullmatch(value) for p in patterns)
    if key == "Service":
        return _SERVICE.fullmatch(value) is not None
    return bool(value)


def _principal_values(key: str, raw: object, rules: _Rules) -> frozenset[str]:
    values = _string_list(raw)
    if not values:
        raise rules.principal_error(None, "")
    for value in values:
        if not _valid_principal(key, value):
            raise rules.principal_error(key, value)
    return frozenset(values)


def _aws_principals(values: frozenset[str]) -> Principals:
    accounts: set[str] = set()
    arns: set[str] = set()
    for value in values - {"*"}:
        if root := _ROOT_ARN.fullmatch(value):
            accounts.add(root[1])
        elif _ACCOUNT.fullmatch(value):
            accounts.add(value)
        else:
            arns.add(value)
    return Principals("*" in values, frozenset(accounts), frozenset(arns))


def _principals(raw: object, rules: _Rules) -> Principals:
    if raw == "*":
        return Principals(everyone=True)
    if not isinstance(raw, dict) or not raw or not raw.keys() <= _PRINCIPAL_KEYS:
        raise rules.principal_error(None, "")
    values = {key: _principal_values(key, raw[key], rules) for key in raw}
    aws = _aws_principals(values.get("AWS", frozenset()))
    return Principals(
        aws.everyone,
        aws.accounts,
        aws.arns,
        values.get("Service", frozenset()),
        values.get("Federated", frozenset()),
        values.get("CanonicalUser", frozenset()),
    )


def _check_fields(raw: dict[str, object], rules: _Rules) -> None:
    if "Principal" in raw and "NotPrincipal" in raw:
        raise malformed()
    for name in rules.required:
        if name not in raw and "Not" + name not in raw:
            raise malformed(MISSING_FIELD.format(name))
    for name in rules.prohibited:
        if name in raw:
            raise malformed(PROHIBITED_FIELD.format(name))


def _statement(raw: dict[str, object], rules: _Rules, variables: bool) -> ResourceStatement:
    _check_fields(raw, rules)
    # a statement without Resource (a trust policy's) is about the resource it is attached to
    body = raw if "Resource" in raw or "NotResource" in raw else {**raw, "Resource": "*"}
    statement = build_statement(body, variables, _KEYS, rules.check_action, rules.check_resource)
    negated = "NotPrincipal" in raw
    principals = _principals(raw["NotPrincipal" if negated else "Principal"], rules)
    return ResourceStatement(statement, principals, negated)


def _parse(document: str, rules: _Rules) -> ResourcePolicy:
    data = _load(document, rules.invalid_json)
    version, policy_id = policy_header(data)
    variables = version == VARIABLES_VERSION
    statements = tuple(_statement(raw, rules, variables) for raw in _raw_statements(data))
    _check_sids(s.statement for s in statements)
    return ResourcePolicy(version, statements, policy_id)


@lru_cache(maxsize=1024)
def parse_resource_policy(document: str, kind: ResourcePolicyKind) -> ResourcePolicy:
    """Parse and validate a trust or bucket policy document (cached on text and kind).

    Raises ``ClientError`` with the kind's code: ``MalformedPolicyDocument``
    (IAM) for a trust policy, ``MalformedPolicy`` (S3) for a bucket policy.
    """
    rules = _RULES[kind]
    try:
        return _parse(document, rules)
    except ClientError as error:
        if error.code == rules.code:
            raise
        raise ClientError(rules.code, error.message) from None


# --- evaluation -------------------------------------------------------------


def evaluate_resource(policy: ResourcePolicy, caller: Caller, ctx: RequestContext) -> Grant:
    """How far the policy lets ``caller`` make the request.

    An applicable Deny gives ``EXPLICIT_DENY`` at once; otherwise the strongest
    applicable Allow: ``DIRECT`` (the caller is named) beats ``ACCOUNT`` (its
    account is named, so its identity policies must allow too) beats ``NONE``.
    """
    best = Grant.NONE
    for entry in policy.statements:
        grant = entry.grant(caller)
        is_deny = entry.statement.effect is Effect.DENY
        if grant is Grant.NONE or (not is_deny and _RANK[grant] <= _RANK[best]):
            continue
        if not statement_applies(entry.statement, ctx):
            continue
        if is_deny:
            return Grant.EXPLICIT_DENY
        best = grant
    return best
