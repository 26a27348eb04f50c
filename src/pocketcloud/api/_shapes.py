"""Per-shape input plans compiled from botocore shapes: query parameters in, dicts out.

``InputPlans`` turns a shape into a *parser*: a closure that takes the request
parameters below one node (keys relative to it, ``""`` for the node's own value)
and the node's wire path (for error messages), and returns the plain value, or
``ABSENT`` when nothing usable was sent. Parsers are memoised by shape name, and a
structure registers itself before its members, so recursive shapes terminate.
The output side (emitters) lives in ``codec``; ``escape`` is shared by both.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NoReturn

from pocketcloud.errors import ClientError, InvalidParameterValue, MissingParameter

Params = dict[str, str]
Parser = Callable[[Params, str], Any]
Converter = Callable[[str, str], Any]
Emitter = Callable[[Any, list[str], str, str], None]
Unknown = Callable[[str], None]

ABSENT: Any = object()  # a parser's answer when nothing usable was sent for its node
MAX_LIST = 1000
_INT_RE = re.compile(r"[+-]?[0-9]{1,20}")
_EPOCH_RE = re.compile(r"[+-]?[0-9]{1,12}(?:\.[0-9]{1,9})?")
_TYPE_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_SHOWN = 256  # longest value echoed back in an error message
_SHOWN_ENUM = 32  # largest enum whose values an error message lists
_SPECIAL = re.compile("[&<>\"'\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ENTITIES: dict[int, str] = {
    **dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)], "\ufffd"),
    **dict.fromkeys([*range(0xD800, 0xE000), 0xFFFE, 0xFFFF], "\ufffd"),
    **{ord(k): v for k, v in {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}.items()},
    ord("'"): "&apos;",
    ord("\r"): "&#13;",
}


def escape(text: str) -> str:
    """XML-escape ``text``; characters XML 1.0 cannot carry become U+FFFD."""
    if _SPECIAL.search(text) is None:
        return text
    return text.translate(_ENTITIES)


def group(params: Params) -> dict[str, Params]:
    """Split keys at their first dot: ``{"A.B": v}`` -> ``{"A": {"B": v}}``."""
    groups: dict[str, Params] = {}
    for key, value in params.items():
        head, _, rest = key.partition(".")
        sub = groups.get(head)
        if sub is None:
            groups[head] = {rest: value}
        else:
            sub[rest] = value
    return groups


def _join(path: str, head: str) -> str:
    return f"{path}.{head}" if path else head


def _full_name(path: str, head: str, sub: Params) -> str:
    """Rebuild one original key from a node path, a group head and its sub-params."""
    rest = next(iter(sub), "")
    return _join(path, head) + (f".{rest}" if rest else "")


def _index(head: str) -> int | None:
    if head.isascii() and head.isdigit() and len(head) <= 9 and head[0] != "0":
        return int(head)
    return None


def missing(name: str) -> MissingParameter:
    """The MissingParameter error for the parameter with wire name ``name``."""
    return MissingParameter(f"The request must contain the parameter {name}")


def _shown(raw: str) -> str:
    return raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "..."


def invalid(raw: str, path: str, sensitive: bool = False) -> NoReturn:
    """Raise InvalidParameterValue naming the parameter (and the value unless secret)."""
    if sensitive:
        raise InvalidParameterValue(f"Invalid value for {path}")
    raise InvalidParameterValue(f"Invalid value '{_shown(raw)}' for {path}")


# -- scalar converters: (raw text, wire path) -> value ------------------------------------


def _to_bool(raw: str, path: str) -> bool:
    lowered = raw.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    invalid(raw, path)


def _to_float(raw: str, path: str) -> float:
    try:
        return float(raw)
    except ValueError:
        invalid(raw, path)


def _to_timestamp(raw: str, path: str) -> datetime:
    try:
        if _EPOCH_RE.fullmatch(raw):
            return datetime.fromtimestamp(float(raw), UTC)
        stamp = datetime.fromisoformat(raw)
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        invalid(raw, path)


def _to_blob(raw: str, path: str) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        invalid(raw, path)


def _as_is(raw: str, path: str) -> str:
    return raw


_CONVERTERS: dict[str, Converter] = {
    "boolean": _to_bool,
    "float": _to_float,
    "double": _to_float,
    "timestamp": _to_timestamp,
    "blob": _to_blob,
}


def _scalar_parser(convert: Converter, unknown: Unknown) -> Parser:
    def parse(params: Params, path: str) -> Any:
        raw = params.get("")
        if raw is not None and len(params) == 1:
            return convert(raw, path)
        for rest in params:
            if rest:
                unknown(f"{path}.{rest}")
        return ABSENT if raw is None else convert(raw, path)

    return parse


def _structure_parser(
    fields: dict[str, tuple[str, Parser]], required: list[tuple[str, str]], unknown: Unknown
) -> Parser:
    def parse(params: Params, path: str) -> Any:
        out: dict[str, Any] = {}
        for head, sub in group(params).items():
            field = fields.get(head)
            if field is None:
                unknown(_full_name(path, head, sub))
                continue
            value = field[1](sub, _join(path, head))
            if value is not ABSENT:
                out[field[0]] = value
        for name, wire in required:
            if name not in out:
                raise missing(_join(path, wire))
        return out

    return parse


def _indexed(
    params: Params, path: str, wrapper: str | None, unknown: Unknown
) -> tuple[str, list[tuple[int, Params]], bool]:
    """Collect ``path[.wrapper].N...`` entries sorted by N; also say whether ``path=`` came."""
    bare = params.pop("", None)
    if bare:
        unknown(path)
    base = path
    if wrapper is not None:
        groups = group(params)
        params = groups.pop(wrapper, {})
        base = f"{path}.{wrapper}"
        for head, sub in groups.items():
            unknown(_full_name(path, head, sub))
    entries: list[tuple[int, Params]] = []
    for head, sub in group(params).items():
        index = _index(head)
        if index is None:
            unknown(_full_name(base, head, sub))
        else:
            entries.append((index, sub))
    if len(entries) > MAX_LIST:
        raise InvalidParameterValue(f"Too many values for {path}: at most {MAX_LIST} are allowed")
    entries.sort(key=itemgetter(0))
    return base, entries, bare == ""


def _list_parser(element: Parser, wrapper: str | None, unknown: Unknown) -> Parser:
    def parse(params: Params, path: str) -> Any:
        base, entries, empty = _indexed(params, path, wrapper, unknown)
        items = [element(sub, f"{base}.{index}") for index, sub in entries]
        items = [item for item in items if item is not ABSENT]
        return items if items or empty else ABSENT

    return parse


def _map_parser(
    key: tuple[str, Parser], value: tuple[str, Parser], wrapper: str | None, unknown: Unknown
) -> Parser:
    def part(parts: dict[str, Params], path: str, name: str, parser: Parser) -> Any:
        sub = parts.pop(name, None)
        if sub is None:
            raise missing(f"{path}.{name}")
        return parser(sub, f"{path}.{name}")

    def parse(params: Params, path: str) -> Any:
        base, entries, empty = _indexed(params, path, wrapper, unknown)
        out: dict[Any, Any] = {}
        for index, sub in entries:
            entry_path, parts = f"{base}.{index}", group(sub)
            k, v = part(parts, entry_path, *key), part(parts, entry_path, *value)
            for head, rest in parts.items():
                unknown(_full_name(entry_path, head, rest))
            if k is not ABSENT and v is not ABSENT:
                out[k] = v
        return out if out or empty else ABSENT

    return parse


class InputPlans:
    """Compiles (and caches by shape name) the parser of each input shape for one protocol."""

    def __init__(self, protocol: str) -> None:
        self._ec2 = protocol == "ec2"
        self._memo: dict[str, Parser] = {}

    def parser(self, shape: Any) -> Parser:
        """The parser for ``shape``; ``None`` stands for an operation without input."""
        if shape is None:
            return _structure_parser({}, [], self._unknown)
        name: str = shape.name
        found = self._memo.get(name)
        if found is None:
            found = self._build(shape)
            self._memo[name] = found
        return found

    def _build(self, shape: Any) -> Parser:
        kind: str = shape.type_name
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            flat = self._ec2 or shape.serialization.get("flattened")
            wrapper = None if flat else shape.member.serialization.get("name", "member")
            return _list_parser(self.parser(shape.member), wrapper, self._unknown)
        if kind == "map":
            wrapper = None if shape.serialization.get("flattened") else "entry"
            key = (self._wire_name(shape.key, "key"), self.parser(shape.key))
            value = (self._wire_name(shape.value, "value"), self.parser(shape.value))
            return _map_parser(key, value, wrapper, self._unknown)
        return _scalar_parser(self._converter(shape), self._unknown)

    def _structure(self, shape: Any) -> Parser:
        fields: dict[str, tuple[str, Parser]] = {}
        required: list[tuple[str, str]] = []
        parse = _structure_parser(fields, required, self._unknown)
        self._memo[shape.name] = parse  # before the members: a recursive shape finds itself
        for name, member in shape.members.items():
            wire = self._wire_name(member, name)
            fields[wire] = (name, self.parser(member))
            if name in shape.required_members:
                required.append((name, wire))
        return parse

    def _wire_name(self, member: Any, default: str) -> str:
        """The parameter name botocore's EC2Serializer / QuerySerializer gives ``member``."""
        ser = member.serialization
        if self._ec2:
            if "queryName" in ser:
                return str(ser["queryName"])
            name = ser.get("name")
            return str(name[0].upper() + name[1:]) if name else default
        if member.type_name == "list" and ser.get("flattened"):
            default = ser.get("name", default)
            return str(member.member.serialization.get("name", default))
        return str(ser.get("name", default))

    def _unknown(self, name: str) -> None:
        if self._ec2:
            raise ClientError("UnknownParameter", f"The parameter {name} is not recognized")

    def _violation(self, raw: str, path: str, constraint: str, sensitive: bool) -> NoReturn:
        value = "" if sensitive else f" '{_shown(raw)}'"
        if self._ec2:
            raise InvalidParameterValue(f"Invalid value{value} for {path}: {constraint}")
        where = ".".join(part[:1].lower() + part[1:] for part in path.split("."))
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value{value} at '{where}' "
            f"failed to satisfy constraint: {constraint}",
        )

    def _converter(self, shape: Any) -> Converter:
        kind: str = shape.type_name
        meta = shape.metadata
        low, high, sensitive = meta.get("min"), meta.get("max"), bool(meta.get("sensitive"))
        if kind in _TYPE_RANGE:
            return self._integer(kind, low, high, sensitive)
        if kind != "string":
            return _CONVERTERS.get(kind, _as_is)
        values: list[str] = meta.get("enum") or []
        if low is None and high is None and not values:
            return _as_is
        return self._string(low, high, values, sensitive)

    def _string(
        self, low: int | None, high: int | None, values: list[str], sensitive: bool
    ) -> Converter:
        enum = frozenset(values)
        shown = f": [{', '.join(values)}]" if len(values) <= _SHOWN_ENUM else ""
        choices = f"Member must satisfy enum value set{shown}"

        def convert(raw: str, path: str) -> str:
            if low is not None and len(raw) < low:
                text = f"Member must have length greater than or equal to {low}"
                self._violation(raw, path, text, sensitive)
            if high is not None and len(raw) > high:
                text = f"Member must have length less than or equal to {high}"
                self._violation(raw, path, text, sensitive)
            if enum and raw not in enum:
                self._violation(raw, path, choices, sensitive)
            return raw

        return convert

    def _integer(self, kind: str, low: int | None, high: int | None, sensitive: bool) -> Converter:
        floor, ceiling = _TYPE_RANGE[kind]

        def convert(raw: str, path: str) -> int:
            if not _INT_RE.fullmatch(raw) or not floor <= (value := int(raw)) <= ceiling:
                invalid(raw, path, sensitive)
            if low is not None and value < low:
                text = f"Member must have value greater than or equal to {low}"
                self._violation(raw, path, text, sensitive)
            if high is not None and value > high:
                text = f"Member must have value less than or equal to {high}"
                self._violation(raw, path, text, sensitive)
            return value

        return convert
