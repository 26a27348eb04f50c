"""CORS: a bucket's rules (PutBucketCors, GetBucketCors, DeleteBucketCors) and the one
that answers a browser's request (pure ``match``), as S3 judges them."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.s3.common import require_bucket

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100


@dataclass(frozen=True)
class Rule:
    """One CORSRule."""

    methods: tuple[str, ...]
    origins: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None
    rule_id: str | None = None


def _wildcard(pattern: str, text: str, fold: bool = False) -> bool:
    """Whether ``text`` matches ``pattern``, in which each ``*`` stands for any text."""
    flags = re.IGNORECASE if fold else 0
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text, flags) is not None


def check(rules: Sequence[Rule]) -> None:
    """S3's rules for a configuration (InvalidRequest, MalformedXML)."""
    if not rules or len(rules) > MAX_RULES:
        raise ClientError("MalformedXML", "The XML you provided was not well-formed or did not "
                          "validate against our published schema")  # fmt: skip
    for rule in rules:
        for method in rule.methods:
            if method not in METHODS:
                raise ClientError("InvalidRequest", "Found unsupported HTTP method in CORS "
                                  f"config. Unsupported method is {method[:16]}")  # fmt: skip
        for origin in rule.origins:
            if origin.count("*") > 1:
                raise ClientError("InvalidRequest", f'AllowedOrigin "{origin[:256]}" can not '
                                  "have more than one wildcard.")  # fmt: skip
        if not rule.methods or not rule.origins:
            raise ClientError("MalformedXML", "The XML you provided was not well-formed or did "
                              "not validate against our published schema")  # fmt: skip


def put_rules(cloud: Cloud, bucket: str, rules: Sequence[Rule]) -> None:
    """PutBucketCors: the bucket's whole configuration."""
    check(rules)
    stored = json.dumps([asdict(rule) for rule in rules])
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute("UPDATE s3_buckets SET cors = ? WHERE name = ?", (stored, bucket))


def rules_of(cloud: Cloud, bucket: str) -> list[Rule] | None:
    """The bucket's rules (None: it has no configuration)."""
    require_bucket(cloud, bucket)
    stored = cloud.store.scalar("SELECT cors FROM s3_buckets WHERE name = ?", (bucket,))
    if stored is None:
        return None
    return [_rule(item) for item in json.loads(stored)]


def _rule(item: dict[str, Any]) -> Rule:
    return Rule(tuple(item["methods"]), tuple(item["origins"]), tuple(item["headers"]),
                tuple(item["expose"]), item["max_age"], item["rule_id"])  # fmt: skip


def get_rules(cloud: Cloud, bucket: str) -> list[Rule]:
    """GetBucketCors (NoSuchCORSConfiguration when there is none)."""
    found = rules_of(cloud, bucket)
    if found is None:
        raise ClientError(
            "NoSuchCORSConfiguration", "The CORS configuration does not exist", status=404
        )
    return found


def delete_rules(cloud: Cloud, bucket: str) -> None:
    """DeleteBucketCors."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute("UPDATE s3_buckets SET cors = NULL WHERE name = ?", (bucket,))


def match(rules: Sequence[Rule], origin: str, method: str, headers: Sequence[str]) -> Rule | None:
    """The first rule admitting a request from ``origin`` with ``method`` and the request
    headers named (case-insensitive), or None."""
    for rule in rules:
        if method not in rule.methods:
            continue
        if not any(_wildcard(pattern, origin) for pattern in rule.origins):
            continue
        if all(any(_wildcard(p, h, fold=True) for p in rule.headers) for h in headers):
            return rule
    return None
