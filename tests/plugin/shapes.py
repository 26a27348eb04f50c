"""Walking botocore's output shapes over a parsed response: which members are not filled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session

_SESSION = botocore.session.get_session()


def output_shape(service: str, operation: str) -> Any:
    """botocore's output shape of one operation."""
    return _SESSION.get_service_model(service).operation_model(operation).output_shape


def _walk(shape: Any, value: Any) -> Iterator[tuple[str, str]]:
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                yield from _walk(member, value[name])
            else:
                yield shape.name, name
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            yield from _walk(shape.member, item)


def unfilled(service: str, operation: str, responses: list[dict[str, Any]]) -> set[str]:
    """``Shape.Member`` for each member of a structure that some response contains but that
    no occurrence of it fills (a member filled once anywhere counts as filled)."""
    shape = output_shape(service, operation)
    missing: set[tuple[str, str]] = set()
    filled: set[tuple[str, str]] = set()
    for response in responses:
        body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        found = set(_walk(shape, body))
        missing |= found
        filled |= _present(shape, body)
    return {f"{s}.{m}" for s, m in missing - filled}


def _present(shape: Any, value: Any) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                out.add((shape.name, name))
                out |= _present(member, value[name])
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            out |= _present(shape.member, item)
    return out
