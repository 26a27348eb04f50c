"""What the IAM services share: name checks, errors, ARNs and Marker pagination."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters

T = TypeVar("T")
_NAME = re.compile(r"[\w+=,.@-]{1,128}")
_PATH = re.compile(r"/([\x21-\x7e]*/)?")


def no_such_entity(message: str) -> ClientError:
    """IAM's 404."""
    return ClientError("NoSuchEntity", message, status=404)


def already_exists(message: str) -> ClientError:
    """IAM's 409 for a duplicate name."""
    return ClientError("EntityAlreadyExists", message, status=409)


def delete_conflict(message: str) -> ClientError:
    """IAM's 409 for deleting something still in use."""
    return ClientError("DeleteConflict", message, status=409)


def limit_exceeded(message: str) -> ClientError:
    """IAM's 409 for a quota."""
    return ClientError("LimitExceeded", message, status=409)


def check_name(kind: str, name: str, limit: int = 64) -> None:
    """IAM names: 1-``limit`` characters of ``[\\w+=,.@-]``."""
    if len(name) > limit or not _NAME.fullmatch(name):
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value '{name[:200]}' at '{kind}' failed to satisfy "
            f"constraint: Member must have length 1-{limit} and match pattern [\\w+=,.@-]+",
        )


def check_path(path: str) -> None:
    """IAM paths start and end with ``/``."""
    if len(path) > 512 or not _PATH.fullmatch(path):
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value '{path[:200]}' at 'path' failed to satisfy "
            "constraint: Member must begin and end with '/'",
        )


def arn(cloud: Cloud, kind: str, path: str, name: str) -> str:
    """An IAM ARN in this cloud's account: ``arn:aws:iam::<acct>:user/path/name``."""
    return f"arn:aws:iam::{cloud.account_id}:{kind}{path}{name}"


def page(
    items: Sequence[T], key: Callable[[T], str], max_items: int | None, marker: str | None
) -> tuple[list[T], str | None]:
    """IAM's Marker/MaxItems pagination (1-1000, default 100)."""
    if max_items is not None and not 1 <= max_items <= 1000:
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value between 1 and 1000",
        )
    return filters.paginate(items, key, max_items or 100, marker, bounds=(1, 1000))
