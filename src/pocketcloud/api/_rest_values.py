"""Text values of S3's rest-xml protocol, shared by its header, query and XML codecs.

The typed value of a scalar's text as the service model types it (``convert``; S3's
InvalidArgument for a bad header or query value, ``argument``), list headers split and
joined, timestamps in each of the model's ``timestampFormat`` styles, a header's text
(``header_text``), and the wire name of a model member (``wire_name``).
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pocketcloud.api.codec import format_timestamp
from pocketcloud.errors import ClientError

_INT_RE = re.compile(r"\s*[+-]?[0-9]{1,20}\s*")
_EPOCH_RE = re.compile(r"[+-]?[0-9]{1,12}(?:\.[0-9]{1,9})?")
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def wire_name(member: Any, name: str) -> str:
    return str(member.serialization.get("name", name))


def _parse_timestamp(raw: str) -> datetime:
    """An aware UTC datetime from RFC 7231/822, ISO 8601 or epoch-seconds text."""
    text = raw.strip()
    try:
        if _EPOCH_RE.fullmatch(text):
            return datetime.fromtimestamp(float(text), UTC)
        if "," in text or text.endswith("GMT"):
            stamp = email.utils.parsedate_to_datetime(text)
        else:
            stamp = datetime.fromisoformat(text)
    except (TypeError, OverflowError, OSError) as exc:
        raise ValueError(raw) from exc
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _to_int(raw: str) -> int:
    if not _INT_RE.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)


def _to_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(raw)
    return lowered == "true"


def _to_blob(raw: str) -> bytes:
    return base64.b64decode(raw, validate=True)


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": _to_int,
    "long": _to_int,
    "boolean": _to_bool,
    "float": float,
    "double": float,
    "timestamp": _parse_timestamp,
    "blob": _to_blob,
}


def convert(shape: Any, raw: str) -> Any:
    """The typed value of one scalar's text; ValueError when it is not one."""
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return json.loads(base64.b64decode(raw))
    return _CONVERTERS.get(shape.type_name, str)(raw)


def argument(shape: Any, raw: str, where: str) -> Any:
    """A header's or query key's typed value; S3's InvalidArgument when it is not one."""
    try:
        return convert(shape, raw)
    except ValueError as exc:
        raise ClientError("InvalidArgument", f"Invalid value for {where}") from exc


def split_list(raw: str) -> list[str]:
    """A list header: items joined by commas, an item holding ``,`` or ``"`` quoted."""
    items: list[str] = []
    rest = raw.strip()
    while rest:
        quoted = _QUOTED_RE.match(rest) if rest.startswith('"') else None
        if quoted is not None:
            items.append(re.sub(r"\\(.)", r"\1", quoted[1]))
            rest = rest[quoted.end() :].lstrip()
        else:
            item, _, rest = rest.partition(",")
            items.append(item.strip())
            rest = rest.lstrip()
    return items


def _quote_item(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"' if '"' in text or "," in text else text


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        return _parse_timestamp(value)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    stamp: datetime = value
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def format_time(value: Any, style: str) -> str:
    """A timestamp in a model's ``timestampFormat``: rfc822 (RFC 7231), iso8601, unixTimestamp."""
    stamp = _aware(value)
    if style == "iso8601":
        return format_timestamp(stamp)
    if style == "unixTimestamp":
        seconds = stamp.timestamp()
        return str(int(seconds)) if seconds.is_integer() else repr(seconds)
    return email.utils.format_datetime(stamp, usegmt=True)


def header_text(shape: Any, value: Any) -> str:
    kind: str = shape.type_name
    if kind == "timestamp":
        return format_time(value, shape.serialization.get("timestampFormat", "rfc822"))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "list":
        return ",".join(_quote_item(header_text(shape.member, v)) for v in value if v is not None)
    if kind in ("float", "double"):
        return repr(float(value))
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    return str(value)
