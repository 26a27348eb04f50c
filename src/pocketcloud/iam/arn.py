"""Patterns in IAM policies: wildcards, ARNs and policy variables; and ARN builders.

Patterns use IAM's two wildcards: ``*`` matches any run of characters (also an
empty one) and ``?`` matches exactly one. Internally a pattern is a tuple of
*segments* ``(text, literal)``: a literal segment is matched character for
character, so the ``${*}``, ``${?}`` escapes and substituted policy variables
never act as wildcards. Compiled forms are cached, since matching runs on every
API request. A policy string holding variables is parsed once into a
:data:`Template` and resolved against each request's context.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

Segment = tuple[str, bool]
"""A piece of a pattern: its text, and whether it is literal (no wildcards)."""

Segments = tuple[Segment, ...]

StrMatcher = Callable[[str], bool]

ContextKeys = Mapping[str, tuple[str, ...]]
"""A request's condition context: lower-cased key name -> its values."""

_WILDCARDS = re.compile(r"([*?])")
_STARS = re.compile(r"\*{2,}")
_ARN_PARTS = 6


def _segment_regex(text: str, literal: bool, star: str = ".*", one: str = ".") -> str:
    """Translate one segment; ``star`` and ``one`` are the regexes for ``*`` and ``?``."""
    if literal:
        return re.escape(text)
    out = []
    for piece in _WILDCARDS.split(_STARS.sub("*", text)):
        if piece == "*":
            out.append(star)
        elif piece == "?":
            out.append(one)
        elif piece:
            out.append(re.escape(piece))
    return "".join(out)


@lru_cache(maxsize=8192)
def compile_segments(segments: Segments, case_sensitive: bool = True) -> re.Pattern[str]:
    """Compile a segmented wildcard pattern into a regex to use with ``fullmatch``."""
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.compile("".join(_segment_regex(text, lit) for text, lit in segments), flags)


def has_wildcard(segments: Segments) -> bool:
    """Whether any non-literal segment holds a ``*`` or ``?``."""
    return any(not lit and ("*" in text or "?" in text) for text, lit in segments)


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """Match ``value`` against ``pattern`` where ``*`` is any run and ``?`` one character."""
    regex = compile_segments(((pattern, False),), case_sensitive)
    return regex.fullmatch(value) is not None


def _split_arn(segments: Segments) -> list[list[Segment]]:
    """Split a segmented pattern on its first five colons (the resource part keeps its own)."""
    parts: list[list[Segment]] = [[]]
    for text, lit in segments:
        pieces = text.split(":", _ARN_PARTS - len(parts))
        parts[-1].append((pieces[0], lit))
        for piece in pieces[1:]:
            parts.append([(piece, lit)])
    return parts


def _part_regex(part: list[Segment], last: bool) -> str:
    """The regex of one ARN component.

    Inside the first five components the wildcards stop at ``:``, except a ``*``
    ending its component, which may run on past the colons (as IAM documents for
    Resource ARNs). In the last component, the resource, they match anything.
    """
    if last:
        return "".join(_segment_regex(text, lit) for text, lit in part)
    text, lit = part[-1]
    trailing = not lit and text.endswith("*")
    body = [*part[:-1], (text[:-1], lit)] if trailing else part
    regex = "".join(_segment_regex(t, lt, "[^:]*", "[^:]") for t, lt in body)
    return regex + ".*" if trailing else regex


@lru_cache(maxsize=8192)
def compile_arn(segments: Segments) -> StrMatcher:
    """Compile an ARN pattern with ``ArnLike`` semantics into a matcher of ARN strings.

    The pattern is split into its six colon-delimited components and each is
    matched against the same component of the ARN; the sixth, the resource,
    keeps its own colons. See :func:`_part_regex` for how far a wildcard reaches.
    """
    if segments == (("*", False),):
        return lambda _arn: True
    if not has_wildcard(segments):
        return "".join(text for text, _ in segments).__eq__
    parts = _split_arn(segments)
    last = _ARN_PARTS - 1
    source = ":".join(_part_regex(part, i == last) for i, part in enumerate(parts))
    regex = re.compile(source, re.DOTALL)
    return lambda arn: regex.fullmatch(arn) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """Match an ARN against a pattern with ``ArnLike`` semantics (case-sensitive).

    Both are split into six ``:``-separated components (the sixth, the resource,
    may itself contain ``:`` and ``/``) and each component is wildcard-matched;
    a ``*`` that ends a component may also run on past its colons, as IAM allows
    in Resource ARNs. The pattern ``*`` matches everything.
    """
    if pattern == "*":
        return True
    return compile_arn(((pattern, False),))(arn)


def ec2_arn(region: str, account: str, resource_type: str, resource_id: str) -> str:
    """The ARN of an EC2 resource, e.g. ``arn:aws:ec2:us-east-1:123456789012:key-pair/k``."""
    return f"arn:aws:ec2:{region}:{account}:{resource_type}/{resource_id}"


def iam_arn(account: str, kind: str, name: str, path: str = "/") -> str:
    """The ARN of an IAM entity, e.g. ``arn:aws:iam::123456789012:user/division/alice``.

    ``path`` must begin and end with ``/``, as IAM paths do.
    """
    if not (path.startswith("/") and path.endswith("/")):
        raise ValueError(f"IAM path must begin and end with '/': {path!r}")
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


# --- policy variables -------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """A ``${key}`` or ``${key, 'default'}`` placeholder in a policy string."""

    key: str
    default: str | None = None


Template = tuple[Segment | Variable, ...]
"""A policy string cut into wildcard text, literal text and variables."""

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_VARIABLE = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?")
_ESCAPES = frozenset("*?$")


def _placeholder(inner: str) -> Segment | Variable:
    if inner in _ESCAPES:
        return (inner, True)
    found = _VARIABLE.fullmatch(inner)
    if found is None:
        return ("${" + inner + "}", False)
    default = found.group(2)
    return Variable(found.group(1).lower(), None if default is None else default.replace("''", "'"))


@lru_cache(maxsize=4096)
def parse_template(text: str, policy_variables: bool = True) -> Template:
    """Cut a policy string into parts; ``${...}`` is only special when variables are on.

    Policy variables need ``"Version": "2012-10-17"``; with an older or missing
    version IAM treats ``${aws:username}`` as literal text.
    """
    if not policy_variables or "${" not in text:
        return ((text, False),)
    parts: list[Segment | Variable] = []
    position = 0
    for found in _PLACEHOLDER.finditer(text):
        if found.start() > position:
            parts.append((text[position : found.start()], False))
        parts.append(_placeholder(found.group(1)))
        position = found.end()
    if position < len(text):
        parts.append((text[position:], False))
    return tuple(parts)


def static_segments(template: Template) -> Segments | None:
    """The template's segments when it holds no variable, else ``None``."""
    if any(isinstance(part, Variable) for part in template):
        return None
    return tuple(p for p in template if not isinstance(p, Variable))


def resolve(template: Template, ctx: ContextKeys) -> Segments | None:
    """Substitute the variables from the context; ``None`` when one cannot be resolved.

    A substituted value is literal: a ``*`` in a user name is not a wildcard.
    A variable resolves only to a single-valued key, or else to its default.
    """
    out: list[Segment] = []
    for part in template:
        if isinstance(part, Variable):
            values = ctx.get(part.key, ())
            value = values[0] if len(values) == 1 else part.default
            if value is None:
                return None
            out.append((value, True))
        else:
            out.append(part)
    return tuple(out)
