"""The POST policy of a browser upload (S3's "POST Policy" language), pure: decoded from
its base64 JSON, then judged against the form's fields, the bucket, the clock and the
file's size.

    {"expiration": "2026-12-01T12:00:00.000Z",
     "conditions": [{"bucket": "photos"}, ["starts-with", "$key", "user/eric/"],
                    ["eq", "$acl", "private"], ["content-length-range", 1, 10485760]]}

A simple condition ``{"acl": "private"}`` is ``["eq", "$acl", "private"]``; field names
and operators are matched in any case, values exactly; a condition on a field the form
lacks fails, even ``starts-with ""``; a Content-Type ``starts-with`` judges each item of a
comma-separated list. Every field the form sends, except the signature, the file, the
policy itself and ``x-ignore-*``, must be named by a condition ("Extra input fields").

Errors as S3 answers them: a policy it cannot read is InvalidPolicyDocument (400); an
expired policy, a failed condition or an uncovered field AccessDenied (403) with
"Invalid according to Policy: …"; a file outside ``content-length-range`` EntityTooSmall
or EntityTooLarge (400) with the sizes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pocketcloud.errors import ClientError, DetailedError

EQ = "eq"
STARTS_WITH = "starts-with"
RANGE = "content-length-range"
#: fields no condition needs to name (SigV4's and SigV2's signature, the file, the policy)
UNCOVERED = frozenset({"x-amz-signature", "signature", "awsaccesskeyid", "file", "policy"})
IGNORED_PREFIX = "x-ignore-"
_MEMBERS = ("expiration", "conditions")
_EXPIRATION_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ")
#: the escapes S3's policy text allows beyond JSON's: ``\$`` (a dollar) and ``\v``
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class Condition:
    """One condition: ``op`` (eq, starts-with, content-length-range), the field it names
    as written (``$key``; empty for a range) and its operands; ``text`` is how S3 quotes
    it when it fails."""

    op: str
    field: str
    value: str
    text: str
    low: Any = None
    high: Any = None

    @property
    def name(self) -> str:
        """The form field it judges, lower-case, without the ``$``."""
        return self.field.removeprefix("$").lower()


@dataclass(frozen=True)
class PostPolicy:
    """A decoded policy: when it stops being valid, and its conditions."""

    expiration: datetime
    conditions: tuple[Condition, ...]

    def size_range(self) -> tuple[int, int] | None:
        """The tightest ``content-length-range`` its conditions allow (None: no range).
        Bounds S3 cannot read as numbers fail when checked (``check_size``)."""
        found = None
        for cond in self.conditions:
            if cond.op == RANGE and _is_count(cond.low) and _is_count(cond.high):
                low, high = int(cond.low), int(cond.high)
                found = (low, high) if found is None else (max(found[0], low), min(found[1], high))
        return found


def invalid(detail: str) -> ClientError:
    return ClientError("InvalidPolicyDocument", f"Invalid Policy: {detail}")


def _denied(detail: str) -> ClientError:
    return ClientError("AccessDenied", f"Invalid according to Policy: {detail}", status=403)


# -- decoding ------------------------------------------------------------------------------


def decode(encoded: str) -> PostPolicy:
    """The policy a form's ``policy`` field carries (InvalidPolicyDocument if unreadable)."""
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid("invalid Base64 encoding.") from None
    try:
        document = json.loads(_ESCAPE.sub(_json_escape, text), parse_float=_no_float)
    except ValueError:
        raise invalid("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise invalid("Invalid JSON.")
    for member in document:
        if member not in _MEMBERS:
            raise invalid(f"Unexpected: '{member.lower()}'")
    if "expiration" not in document:
        raise invalid("Policy missing expiration.")
    if "conditions" not in document:
        raise invalid("Policy missing conditions.")
    expiration = _expiration(document["expiration"])
    conditions = document["conditions"]
    if not isinstance(conditions, list):
        raise invalid("Invalid 'conditions' value: must be a List.")
    return PostPolicy(expiration, tuple(_condition(item) for item in conditions))


def _json_escape(found: re.Match[str]) -> str:
    char = found.group(1)
    return {"$": "$", "v": "\\u000b"}.get(char, found.group(0))


def _no_float(text: str) -> float:
    raise ValueError(f"not an integer: {text}")


def _expiration(value: object) -> datetime:
    for layout in _EXPIRATION_FORMATS:
        try:
            return datetime.strptime(str(value), layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise invalid(f"Invalid 'expiration' value: '{value}'")


def _condition(item: object) -> Condition:
    if isinstance(item, dict):
        return _simple(item)
    if not isinstance(item, list):
        raise invalid("Invalid condition test: must be a List or Object.")
    if not item or not isinstance(item[0], str):
        raise invalid("Invalid Condition: missing operation identifier.")
    op = item[0].lower()
    if op not in (EQ, STARTS_WITH, RANGE):
        raise invalid(f"Invalid Condition: unknown operation '{item[0]}'.")
    if len(item) != 3:
        raise invalid(f"Invalid {item[0]}: wrong number of arguments.")
    text = json.dumps(item, ensure_ascii=False)
    if op == RANGE:
        return _range(item, text)
    field, value = item[1], item[2]
    if not isinstance(field, str) or not isinstance(value, str):
        raise invalid("Invalid JSON.")
    return Condition(op, field, value, text)


def _simple(item: dict[str, Any]) -> Condition:
    if len(item) != 1:
        raise invalid(
            "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
        )
    ((field, value),) = item.items()
    if value is None:
        raise invalid("Invalid JSON.")
    if not isinstance(value, str):
        raise invalid("Invalid Simple-Condition: value must be a string.")
    text = json.dumps([EQ, f"${field}", value], ensure_ascii=False)
    return Condition(EQ, f"${field}", value, text)


def _range(item: list[Any], text: str) -> Condition:
    low, high = item[1], item[2]
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, int | str):
            raise invalid("Invalid JSON.")
        if isinstance(bound, int) and bound < 0:
            raise invalid(f"Invalid {item[0]}: the bounds must not be negative.")
    return Condition(RANGE, "", "", text, low, high)


def _is_count(bound: object) -> bool:
    return isinstance(bound, int) or (isinstance(bound, str) and bound.isdigit())


# -- judging -------------------------------------------------------------------------------


def check(
    policy: PostPolicy,
    fields: Mapping[str, str],
    names: Iterable[str],
    bucket: str,
    now: datetime,
) -> None:
    """The form against the policy: not expired, every condition met by ``fields`` (keyed
    by lower-case name, ``${filename}`` already expanded) and the ``bucket`` posted to,
    and every field sent (``names``, as sent) named by a condition."""
    if now > policy.expiration:
        raise _denied("Policy expired.")
    for cond in policy.conditions:
        if cond.op != RANGE and not _holds(cond, fields, bucket):
            raise _denied(f"Policy Condition failed: {cond.text}")
        if cond.op == RANGE and not (_is_count(cond.low) and _is_count(cond.high)):
            raise _denied(f"Policy Condition failed: {cond.text}")
    named = {cond.name for cond in policy.conditions if cond.op != RANGE}
    extra = [name for name in names if _needs_condition(name) and name.lower() not in named]
    if extra:
        raise _denied("Extra input fields: " + ", ".join(dict.fromkeys(extra)))


def _needs_condition(name: str) -> bool:
    lower = name.lower()
    return lower not in UNCOVERED and not lower.startswith(IGNORED_PREFIX)


def _holds(cond: Condition, fields: Mapping[str, str], bucket: str) -> bool:
    if not cond.field.startswith("$"):
        return False
    actual = bucket if cond.name == "bucket" else fields.get(cond.name)
    if actual is None:
        return False
    if cond.op == EQ:
        return actual == cond.value
    if cond.name == "content-type":  # a list: each item must start so
        return all(item.lstrip().startswith(cond.value) for item in actual.split(","))
    return actual.startswith(cond.value)


def check_size(policy: PostPolicy, size: int) -> None:
    """The file's size against the policy's ``content-length-range`` (bounds inclusive)."""
    allowed = policy.size_range()
    if allowed is None:
        return
    low, high = allowed
    if size < low:
        raise too_small(size, low)
    if size > high:
        raise too_large(size, high)


def too_small(size: int, low: int) -> ClientError:
    return DetailedError(
        "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
        [("ProposedSize", str(size)), ("MinSizeAllowed", str(low))],
    )  # fmt: skip


def too_large(size: int, high: int) -> ClientError:
    return DetailedError(
        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
        [("ProposedSize", str(size)), ("MaxSizeAllowed", str(high))],
    )  # fmt: skip
