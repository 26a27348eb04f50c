"""Filters answered from a resource's wire view: ``network-interface.attachment.device-index``
reads ``NetworkInterfaces[].Attachment.DeviceIndex`` of the structure Describe returns.

EC2 documents dozens of filters per resource, most of them one-to-one with a member of
the output shape. Reading them from the view that the same call returns keeps filter and
output from disagreeing: a filter on a member the resource does not show matches
nothing, as on EC2. Segments map to members mechanically (``device-index`` →
``DeviceIndex``, a plural member for a singular segment); the irregular names are
spelled out by each resource's table of paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any


def camel(segment: str) -> str:
    """``device-index`` → ``DeviceIndex``."""
    return "".join(part[:1].upper() + part[1:] for part in segment.split("-"))


def _member(node: Mapping[str, Any], segment: str) -> Any:
    name = camel(segment)
    for candidate in (name, name + "s", name + "es", name + "Set"):
        if candidate in node:
            return node[candidate]
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _walk(nodes: Iterable[Any], path: list[str]) -> list[str]:
    current = list(nodes)
    for segment in path:
        following: list[Any] = []
        for node in current:
            found = node.get(segment) if segment[:1].isupper() else _member(node, segment)
            if isinstance(found, list):
                following += found
            elif found is not None:
                following.append(found)
        current = [n for n in following if n is not None]
    # an empty string is how EC2 shows "none" (GroupName ""): nothing for a filter to match
    return [_text(v) for v in current if not isinstance(v, (dict, list)) and v != ""]


def values(view: Mapping[str, Any], name: str, paths: Mapping[str, str]) -> list[str]:
    """The values filter ``name`` sees in ``view``. ``paths`` maps irregular filter names
    (or name prefixes ending in ``.``) to dotted member paths (``Placement.Tenancy``)."""
    path = paths.get(name)
    if path is None:
        prefix = next((p for p in paths if p.endswith(".") and name.startswith(p)), None)
        if prefix is not None:
            path = paths[prefix] + "." + name[len(prefix) :]
    segments = (path or name).split(".")
    return _walk([view], segments)
