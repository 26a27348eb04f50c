"""Parsing and validation of IAM identity-based policy documents.

:func:`parse_policy` turns the JSON text into a frozen :class:`Policy` whose
statements carry their compiled matchers, and raises
``ClientError("MalformedPolicyDocument", ...)`` with IAM's messages for what IAM
rejects. It is cached on the text: it runs on every API request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from pocketcloud.iam.arn import (
    ContextKeys,
    StrMatcher,
    Template,
    compile_arn,
    compile_segments,
    parse_template,
    resolve,
    static_segments,
)
from pocketcloud.iam.conditions import (
    LEGACY_PARSING_ERROR,
    SYNTAX_ERROR,
    Condition,
    malformed,
    parse_condition_block,
)

MAX_MANAGED = 6144
"""IAM's size limit for a managed policy document (characters, white space not counted)."""
MAX_USER_INLINE = 2048
"""IAM's aggregate size limit for a user's inline policies."""
MAX_GROUP_INLINE = 5120
"""IAM's aggregate size limit for a group's inline policies."""
MAX_ROLE_INLINE = 10240
"""IAM's aggregate size limit for a role's inline policies."""

VERSIONS = ("2012-10-17", "2008-10-17")
DEFAULT_VERSION = "2008-10-17"
"""The version IAM assumes when a document has no ``Version``."""
VARIABLES_VERSION = "2012-10-17"
"""The version that enables policy variables such as ``${aws:username}``."""

PRINCIPAL_ERROR = "Policy document should not specify a principal."
ACTIONS_ERROR = "Policy statement must contain actions."
RESOURCES_ERROR = "Policy statement must contain resources."
SID_ERROR = "Statement IDs (SID) in a single policy must be unique."
VENDOR_ERROR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
COLON_ERROR = "Actions/Condition can contain only one colon."
RESOURCE_VENDOR_ERROR = "Resource vendor must be fully qualified and cannot contain regexes."

_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
_PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)
_VENDOR = re.compile(r"[A-Za-z0-9.\-]+|\*")
_ACTION_NAME = re.compile(r"\S+")


class Effect(StrEnum):
    """A statement's effect."""

    ALLOW = "Allow"
    DENY = "Deny"


def policy_size(document: str) -> int:
    """A document's size as IAM counts it against its limits: white space is not counted."""
    return sum(1 for char in document if not char.isspace())


@dataclass(frozen=True)
class ActionMatcher:
    """Case-insensitive wildcard matching of an action against a list of action patterns."""

    match_all: bool
    exact: frozenset[str]
    regex: re.Pattern[str] | None

    @classmethod
    def compile(cls, patterns: Iterable[str]) -> ActionMatcher:
        """Compile patterns such as ``ec2:Describe*``, ``iam:Get?ser`` or ``*``."""
        lowered = {p.lower() for p in patterns}
        exact = frozenset(p for p in lowered if "*" not in p and "?" not in p)
        wild = sorted(lowered - exact)
        if "*" in wild:
            return cls(True, exact, None)
        sources = (compile_segments(((p, False),), False).pattern for p in wild)
        regex = re.compile("|".join(sources), re.DOTALL | re.IGNORECASE) if wild else None
        return cls(False, exact, regex)

    def matches(self, action: str) -> bool:
        """Whether ``action`` (e.g. ``ec2:CreateKeyPair``) matches any of the patterns."""
        if self.match_all:
            return True
        lowered = action.lower()
        return lowered in self.exact or (
            self.regex is not None and self.regex.fullmatch(lowered) is not None
        )


@dataclass(frozen=True)
class ResourceMatcher:
    """``ArnLike`` matching of a resource ARN against a list of resource patterns."""

    match_all: bool
    static: tuple[StrMatcher, ...]
    dynamic: tuple[Template, ...]

    @classmethod
    def compile(cls, patterns: Iterable[str], policy_variables: bool) -> ResourceMatcher:
        """Compile patterns; those holding policy variables are resolved per request."""
        match_all = False
        static: list[StrMatcher] = []
        dynamic: list[Template] = []
        for pattern in patterns:
            template = parse_template(pattern, policy_variables)
            segments = static_segments(template)
            if segments is None:
                dynamic.append(template)
            elif segments == (("*", False),):
                match_all = True
            else:
                static.append(compile_arn(segments))
        return cls(match_all, tuple(static), tuple(dynamic))

    def matches(self, resource: str, ctx: ContextKeys) -> bool:
        """Whether ``resource`` matches any pattern; an unresolvable variable never matches."""
        if self.match_all or any(m(resource) for m in self.static):
            return True
        resolved = (resolve(t, ctx) for t in self.dynamic)
        return any(compile_arn(s)(resource) for s in resolved if s is not None)


@dataclass(frozen=True)
class Statement:
    """One statement; exactly one of actions/not_actions and of resources/not_resources is set.

    ``action_matcher`` and ``resource_matcher`` are compiled from whichever list
    is set, when the statement is built.
    """

    sid: str | None
    effect: Effect
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditions: tuple[Condition, ...] = ()
    policy_variables: bool = True
    action_matcher: ActionMatcher = field(init=False, repr=False, compare=False)
    resource_matcher: ResourceMatcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        actions = self.actions if self.actions is not None else self.not_actions
        resources = self.resources if self.resources is not None else self.not_resources
        both = self.actions is not None and self.not_actions is not None
        if both or (self.resources is not None and self.not_resources is not None):
            raise ValueError("a statement takes actions or not_actions, resources or not_resources")
        if actions is None or resources is None:
            raise ValueError("a statement needs actions (or not_actions) and resources")
        resource_matcher = ResourceMatcher.compile(resources, self.policy_variables)
        object.__setattr__(self, "action_matcher", ActionMatcher.compile(actions))
        object.__setattr__(self, "resource_matcher", resource_matcher)


@dataclass(frozen=True)
class Policy:
    """A parsed policy document."""

    version: str
    statements: tuple[Statement, ...]
    id: str | None = None
    #: whether any part of it can read a resource's tags (``ec2:ResourceTag/…``,
    #: ``aws:ResourceTag/…``), so that a caller needs to look them up at all
    reads_resource_tags: bool = False


# --- validation -------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ValueError(name)


def _load(document: str, invalid_json: str = SYNTAX_ERROR) -> dict[str, object]:
    """The document's top-level object; ``invalid_json`` is the message when it is not one."""
    try:
        data = json.loads(document, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise malformed(invalid_json) from None
    if not isinstance(data, dict):
        raise malformed(invalid_json)
    if not data.keys() <= _TOP_KEYS:
        raise malformed()
    return data


def policy_header(data: dict[str, object]) -> tuple[str, str | None]:
    """A document's validated ``Version`` (IAM's default when absent) and ``Id``."""
    version = data.get("Version", DEFAULT_VERSION)
    if version not in VERSIONS:
        raise malformed()
    policy_id = data.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise malformed()
    return str(version), policy_id


def _raw_statements(data: dict[str, object]) -> list[dict[str, object]]:
    raw = data.get("Statement")
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise malformed()
    if not all(isinstance(item, dict) for item in items):
        raise malformed()
    return items


def _string_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise malformed()
    if not all(v is None or isinstance(v, str) for v in value):
        raise malformed()
    return tuple(v for v in value if v is not None)


_Pair = tuple[tuple[str, ...] | None, tuple[str, ...] | None]


def _one_of(raw: dict[str, object], key: str, message: str) -> _Pair:
    """``(values, None)`` or ``(None, values)`` for ``key`` / ``Not<key>``."""
    negated = "Not" + key
    if key in raw and negated in raw:
        raise malformed()
    name = key if key in raw else negated
    values = _string_list(raw[name]) if name in raw else ()
    if not values:
        raise malformed(message)
    return (values, None) if name == key else (None, values)


def _check_action(action: str) -> None:
    if action == "*":
        return
    vendor, colon, name = action.partition(":")
    if not colon:
        raise malformed(VENDOR_ERROR)
    if ":" in name:
        raise malformed(COLON_ERROR)
    if not _VENDOR.fullmatch(vendor):
        raise malformed(f"Vendor {vendor} is not valid")
    if not _ACTION_NAME.fullmatch(name):
        raise malformed()


def _check_resource(resource: str) -> None:
    if resource == "*":
        return
    parts = resource.split(":")
    if len(parts) < 2:
        raise malformed(f'Resource {resource} must be in ARN format or "*".')
    partition = parts[1]
    if partition != "*" and partition not in _PARTITIONS and "${" not in partition:
        raise malformed(f'Partition "{partition}" is not valid for resource "{resource}".')
    if len(parts) < 3 or "*" in parts[2] or "?" in parts[2]:
        raise malformed(RESOURCE_VENDOR_ERROR)
    if not parts[2] or (len(parts) < 6 and "::" in resource):
        raise malformed(LEGACY_PARSING_ERROR)


def _effect(value: object) -> Effect:
    if not isinstance(value, str) or value.lower() not in ("allow", "deny"):
        raise malformed()
    if value not in ("Allow", "Deny"):
        raise malformed(LEGACY_PARSING_ERROR)
    return Effect(value)


def build_statement(
    raw: dict[str, object],
    policy_variables: bool,
    keys: frozenset[str] = _STATEMENT_KEYS,
    check_action: Callable[[str], None] = _check_action,
    check_resource: Callable[[str], None] = _check_resource,
) -> Statement:
    """Validate and compile a statement whose keys must all be among ``keys``.

    ``check_action`` and ``check_resource`` vet each action and resource; the
    defaults are IAM's rules for identity-based policies.
    """
    if not raw.keys() <= keys:
        raise malformed()
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise malformed()
    effect = _effect(raw.get("Effect"))
    actions, not_actions = _one_of(raw, "Action", ACTIONS_ERROR)
    resources, not_resources = _one_of(raw, "Resource", RESOURCES_ERROR)
    for action in actions or not_actions or ():
        check_action(action)
    for resource in resources or not_resources or ():
        check_resource(resource)
    raw_conditions = raw.get("Condition", {})
    conditions = parse_condition_block(raw_conditions, policy_variables)
    return Statement(
        sid, effect, actions, not_actions, resources, not_resources, conditions, policy_variables
    )


def _statement(raw: dict[str, object], policy_variables: bool) -> Statement:
    if "Principal" in raw or "NotPrincipal" in raw:
        raise malformed(PRINCIPAL_ERROR)
    return build_statement(raw, policy_variables)


def _check_sids(statements: Iterable[Statement]) -> None:
    seen: set[str] = set()
    for statement in statements:
        if statement.sid:
            if statement.sid in seen:
                raise malformed(SID_ERROR)
            seen.add(statement.sid)


@lru_cache(maxsize=4096)
def parse_policy(document: str) -> Policy:
    """Parse and validate an identity-based policy document (cached on the text).

    Raises ``ClientError("MalformedPolicyDocument", ...)`` for what IAM rejects.
    Size limits are left to the caller: compare :func:`policy_size` with
    :data:`MAX_MANAGED` or :data:`MAX_USER_INLINE`.
    """
    data = _load(document)
    version, policy_id = policy_header(data)
    variables = version == VARIABLES_VERSION
    statements = tuple(_statement(raw, variables) for raw in _raw_statements(data))
    _check_sids(statements)
    reads_tags = "resourcetag/" in document.lower()
    return Policy(version, statements, policy_id, reads_tags)
