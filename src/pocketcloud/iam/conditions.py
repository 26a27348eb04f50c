"""IAM condition operators and the request's condition context.

Semantics follow the IAM JSON policy reference ("Condition operators",
"Single-valued vs. multivalued context keys"):

* condition key names are case-insensitive;
* several values for one key are OR'ed (NOR'ed for a negated operator), and
  several keys and operators in a block are AND'ed;
* a key missing from the request makes a positive operator false and a negated
  one (``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike``...) true;
  ``...IfExists`` makes a missing key true; ``Null`` tests presence;
* ``ForAnyValue:`` is false and ``ForAllValues:`` true when the key is missing
  or has no values.
"""

from __future__ import annotations

import ipaddress
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from pocketcloud.errors import ClientError
from pocketcloud.iam.arn import (
    ContextKeys,
    Segments,
    StrMatcher,
    Template,
    compile_arn,
    compile_segments,
    has_wildcard,
    parse_template,
    resolve,
    static_segments,
)

SYNTAX_ERROR = "Syntax errors in policy."
LEGACY_PARSING_ERROR = "The policy failed legacy parsing"


def malformed(message: str = SYNTAX_ERROR) -> ClientError:
    """The ``MalformedPolicyDocument`` error IAM returns for an invalid policy."""
    return ClientError("MalformedPolicyDocument", message)


def normalize_context(keys: Mapping[str, str | Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Lower-case the key names and make every value a tuple of strings."""
    return {k.lower(): (v,) if isinstance(v, str) else tuple(v) for k, v in keys.items()}


# --- operators --------------------------------------------------------------


class Qualifier(StrEnum):
    """The set operators for multivalued context keys."""

    ANY = "ForAnyValue"
    ALL = "ForAllValues"


_BASES: dict[str, tuple[str, bool]] = {
    "StringEquals": ("str_eq", False),
    "StringNotEquals": ("str_eq", True),
    "StringEqualsIgnoreCase": ("str_ieq", False),
    "StringNotEqualsIgnoreCase": ("str_ieq", True),
    "StringLike": ("str_like", False),
    "StringNotLike": ("str_like", True),
    "NumericEquals": ("num_eq", False),
    "NumericNotEquals": ("num_eq", True),
    "NumericLessThan": ("num_lt", False),
    "NumericLessThanEquals": ("num_le", False),
    "NumericGreaterThan": ("num_gt", False),
    "NumericGreaterThanEquals": ("num_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool_eq", False),
    "IpAddress": ("ip_in", False),
    "NotIpAddress": ("ip_in", True),
    "ArnEquals": ("arn_like", False),
    "ArnLike": ("arn_like", False),
    "ArnNotEquals": ("arn_like", True),
    "ArnNotLike": ("arn_like", True),
    "Null": ("null", False),
}
_QUALIFIERS = frozenset(q.value for q in Qualifier)
OPERATORS = frozenset(_BASES)
"""The base condition operators (before ``ForAnyValue:``/``ForAllValues:``/``IfExists``)."""


@dataclass(frozen=True)
class OperatorSpec:
    """A parsed condition operator name such as ``ForAllValues:StringNotLikeIfExists``."""

    kind: str
    negated: bool
    if_exists: bool
    qualifier: Qualifier | None

    @property
    def missing_result(self) -> bool:
        """The operator's result when the key is missing or has no values."""
        if self.if_exists or self.qualifier is Qualifier.ALL:
            return True
        if self.qualifier is Qualifier.ANY:
            return False
        return self.negated


@lru_cache(maxsize=256)
def parse_operator(name: str) -> OperatorSpec:
    """Parse an operator name; an unknown one is a ``MalformedPolicyDocument`` error."""
    qualifier = None
    prefix, colon, rest = name.partition(":")
    if colon:
        if prefix not in _QUALIFIERS:
            raise malformed()
        qualifier, name = Qualifier(prefix), rest
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name.removesuffix("IfExists") if if_exists else name
    if base not in _BASES or (base == "Null" and if_exists):
        raise malformed()
    kind, negated = _BASES[base]
    return OperatorSpec(kind, negated, if_exists, qualifier)


# --- value matchers ---------------------------------------------------------

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "eq": operator.eq,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_EPOCH = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _never(_value: str) -> bool:
    return False


def to_number(text: str) -> float | None:
    """A finite number from a policy or context string, else ``None``."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def to_epoch(text: str) -> float | None:
    """Seconds since the epoch from ISO 8601 (UTC when no offset) or epoch seconds."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        return to_number(text)
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (ValueError, OverflowError):
        return None


def _ordered(parse: Callable[[str], float | None], cmp: str, text: str) -> StrMatcher:
    bound = parse(text)
    if bound is None:
        return _never
    compare = _COMPARE[cmp]

    def match(value: str) -> bool:
        number = parse(value)
        return number is not None and compare(number, bound)

    return match


def _ip_matcher(text: str) -> StrMatcher:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return _never

    def match(value: str) -> bool:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return address.version == network.version and address in network

    return match


def _string_matcher(cmp: str, segments: Segments, text: str) -> StrMatcher:
    if cmp == "ieq":
        folded = text.casefold()
        return lambda value: value.casefold() == folded
    if cmp == "like" and has_wildcard(segments):
        regex = compile_segments(segments)
        return lambda value: regex.fullmatch(value) is not None
    return text.__eq__


@lru_cache(maxsize=8192)
def value_matcher(kind: str, segments: Segments) -> StrMatcher:
    """The test of one context value against one (resolved) policy value."""
    family, _, cmp = kind.partition("_")
    text = "".join(t for t, _ in segments)
    if family == "str":
        return _string_matcher(cmp, segments, text)
    if family in ("num", "date"):
        return _ordered(to_number if family == "num" else to_epoch, cmp, text)
    if family == "bool":
        lowered = text.lower()
        return lambda value: value.lower() == lowered
    if family == "ip":
        return _ip_matcher(text)
    return compile_arn(segments)


# --- conditions -------------------------------------------------------------


def _aggregate(spec: OperatorSpec, values: tuple[str, ...], matchers: Sequence[StrMatcher]) -> bool:
    def hit(value: str) -> bool:
        return any(m(value) for m in matchers)

    if spec.qualifier is None:
        return any(map(hit, values)) != spec.negated
    outcomes = ((not hit(v)) if spec.negated else hit(v) for v in values)
    return all(outcomes) if spec.qualifier is Qualifier.ALL else any(outcomes)


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` test of a statement's Condition block.

    The derived fields (parsed operator, compiled matchers) are computed once,
    when the condition is built, so evaluation only resolves policy variables.
    """

    operator: str
    key: str
    values: tuple[str, ...]
    policy_variables: bool = True
    spec: OperatorSpec = field(init=False, repr=False, compare=False)
    key_lower: str = field(init=False, repr=False, compare=False)
    static: tuple[StrMatcher, ...] = field(init=False, repr=False, compare=False)
    dynamic: tuple[Template, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = parse_operator(self.operator)
        templates = [parse_template(v, self.policy_variables) for v in self.values]
        static: list[StrMatcher] = []
        dynamic: list[Template] = []
        for template in templates:
            segments = static_segments(template)
            if segments is None:
                dynamic.append(template)
                continue
            if spec.kind.startswith("date") and to_epoch("".join(t for t, _ in segments)) is None:
                raise malformed(LEGACY_PARSING_ERROR)
            static.append(value_matcher(spec.kind, segments))
        object.__setattr__(self, "spec", spec)
        object.__setattr__(self, "key_lower", self.key.lower())
        object.__setattr__(self, "static", tuple(static))
        object.__setattr__(self, "dynamic", tuple(dynamic))

    def _matchers(self, ctx: ContextKeys) -> Sequence[StrMatcher]:
        if not self.dynamic:
            return self.static
        resolved = (resolve(t, ctx) for t in self.dynamic)
        extra = [value_matcher(self.spec.kind, s) for s in resolved if s is not None]
        return [*self.static, *extra]

    def matches(self, ctx: ContextKeys) -> bool:
        """Whether the request context satisfies this condition."""
        values = ctx.get(self.key_lower, ())
        if self.spec.kind == "null":
            wanted = {v.strip().lower() for v in self.values}
            return ("false" if values else "true") in wanted
        if not values:
            return self.spec.missing_result
        return _aggregate(self.spec, values, self._matchers(ctx))


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise malformed()


def parse_condition_block(raw: object, policy_variables: bool = True) -> tuple[Condition, ...]:
    """Validate and compile a statement's ``Condition`` element."""
    if not isinstance(raw, dict):
        raise malformed()
    conditions: list[Condition] = []
    for name, block in raw.items():
        parse_operator(name)
        if not isinstance(block, dict):
            raise malformed()
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            texts = tuple(_scalar(v) for v in values)
            conditions.append(Condition(name, key, texts, policy_variables))
    return tuple(conditions)
