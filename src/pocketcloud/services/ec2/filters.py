"""Describe* filters and pagination, as EC2 applies them (pure)."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from pocketcloud.errors import ClientError, InvalidParameterValue

T = TypeVar("T")


@dataclass(frozen=True)
class Filter:
    """One EC2 filter: a name and the values any of which may match."""

    name: str
    values: tuple[str, ...]


@lru_cache(maxsize=4096)
def _pattern(value: str) -> re.Pattern[str]:
    """EC2 filter values take ``*`` and ``?`` wildcards (``\\`` escapes them)."""
    out = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def value_matches(pattern: str, value: str) -> bool:
    """Whether one filter value matches one field value."""
    if "*" not in pattern and "?" not in pattern and "\\" not in pattern:
        return pattern == value
    return _pattern(pattern).fullmatch(value) is not None


Fields = Callable[[str], Iterable[str] | None]


def matches(filters: Sequence[Filter], fields: Fields) -> bool:
    """All filters must match; within a filter any value may match any field value."""
    for flt in filters:
        candidates = fields(flt.name)
        if candidates is None:
            raise InvalidParameterValue(f"The filter '{flt.name}' is invalid")
        candidates = list(candidates)
        if not any(value_matches(p, c) for p in flt.values for c in candidates):
            return False
    return True


def tag_fields(name: str, tags: Mapping[str, str]) -> list[str] | None:
    """The values of the tag filters every taggable resource has, or None if not one."""
    if name == "tag-key":
        return list(tags)
    if name == "tag-value":
        return list(tags.values())
    if name.startswith("tag:"):
        key = name[4:]
        return [tags[key]] if key in tags else []
    return None


def check_filter_names(filters: Sequence[Filter], known: Iterable[str]) -> None:
    """Reject a filter name the resource does not offer (tag filters are always offered)."""
    allowed = set(known)
    for flt in filters:
        if (
            flt.name in allowed
            or flt.name in ("tag-key", "tag-value")
            or flt.name.startswith("tag:")
        ):
            continue
        if any(fnmatch.fnmatchcase(flt.name, k) for k in allowed if "*" in k):
            continue
        raise InvalidParameterValue(f"The filter '{flt.name}' is invalid")


def encode_token(position: str) -> str:
    """An opaque NextToken for the position after ``position``."""
    return base64.urlsafe_b64encode(position.encode()).decode()


def decode_token(token: str) -> str:
    """The position inside a NextToken; InvalidParameterValue if it is not one of ours."""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ClientError("InvalidNextToken", f"The token '{token}' is invalid.") from exc


def paginate(
    items: Sequence[T],
    key: Callable[[T], str],
    max_results: int | None,
    next_token: str | None,
    *,
    bounds: tuple[int, int] = (5, 1000),
) -> tuple[list[T], str | None]:
    """Items after the token's position, at most ``max_results`` of them, sorted by ``key``."""
    if max_results is not None and not bounds[0] <= max_results <= bounds[1]:
        raise InvalidParameterValue(
            f"Value ( {max_results} ) for parameter maxResults is invalid. "
            f"Expecting a value between {bounds[0]} and {bounds[1]}."
        )
    ordered = sorted(items, key=key)
    if next_token:
        after = decode_token(next_token)
        ordered = [item for item in ordered if key(item) > after]
    if max_results is None or len(ordered) <= max_results:
        return list(ordered), None
    page = list(ordered[:max_results])
    return page, encode_token(key(page[-1]))
