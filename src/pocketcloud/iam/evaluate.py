"""Evaluation of identity-based policies against one request.

An explicit ``Deny`` in any applicable statement wins; otherwise any applicable
``Allow`` allows; otherwise the request is implicitly denied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from pocketcloud.iam.arn import ContextKeys
from pocketcloud.iam.conditions import normalize_context
from pocketcloud.iam.policy import Effect, Policy, Statement

_NO_KEYS: ContextKeys = {}


class Decision(StrEnum):
    """The outcome of evaluating a request."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


@dataclass(frozen=True)
class RequestContext:
    """What a request asks for, and its condition context.

    ``action`` is ``service:Action`` (``ec2:CreateKeyPair``); ``resource`` is an
    ARN, or ``*`` for actions without resource-level permissions; ``keys`` holds
    the condition keys (``aws:SourceIp``, ``aws:username``, ``ec2:ResourceTag/env``,
    ``aws:CurrentTime``...), each a string or a sequence of strings.
    """

    action: str
    resource: str
    keys: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    @cached_property
    def condition_keys(self) -> ContextKeys:
        """The keys with lower-cased names and tuple values, as conditions read them."""
        return normalize_context(self.keys)


def statement_applies(statement: Statement, ctx: RequestContext) -> bool:
    """Whether the statement's action, resource and condition parts all match the request."""
    action_hit = statement.action_matcher.matches(ctx.action)
    if action_hit != (statement.actions is not None):
        return False
    matcher = statement.resource_matcher
    # the condition keys are normalized only for a statement that reads them
    keys = ctx.condition_keys if matcher.dynamic or statement.conditions else _NO_KEYS
    resource_hit = matcher.matches(ctx.resource, keys)
    if resource_hit != (statement.resources is not None):
        return False
    return all(condition.matches(keys) for condition in statement.conditions)


def evaluate(policies: Iterable[Policy], ctx: RequestContext) -> Decision:
    """Decide a request against every policy that applies to the caller."""
    allowed = False
    for policy in policies:
        for statement in policy.statements:
            is_deny = statement.effect is Effect.DENY
            if (allowed and not is_deny) or not statement_applies(statement, ctx):
                continue
            if is_deny:
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
