"""Block Public Access: a bucket's four settings (PutPublicAccessBlock,
GetPublicAccessBlock, DeletePublicAccessBlock) and the pure decision of whether a bucket
policy is public, as S3 defines it ("The meaning of public" in the S3 User Guide).

A new bucket has all four settings on, as S3 gives every bucket since April 2023.
``block_public_policy`` refuses a public bucket policy at PutBucketPolicy;
``restrict_public_buckets`` makes a public policy's grants to anonymous callers count
for nothing. The two ACL settings are stored and reported: ACLs are disabled here
(see ownership.py), so there is no public ACL to block or ignore.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass

from pocketcloud.errors import ClientError
from pocketcloud.iam.conditions import Condition, Qualifier
from pocketcloud.iam.policy import Effect
from pocketcloud.iam.resource_policy import ResourcePolicy, ResourceStatement
from pocketcloud.services.context import Cloud
from pocketcloud.services.s3.common import require_bucket


@dataclass(frozen=True)
class Settings:
    """A bucket's Block Public Access configuration."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


ALL_ON = Settings(True, True, True, True)
"""What a new bucket has."""

DEFAULT_TEXT = json.dumps(asdict(ALL_ON))
"""``ALL_ON`` as stored (the column's default is the same, so buckets made before the
column have it too)."""

#: condition keys that, given fixed values, narrow an Allow to everyone to a known party
NARROWING_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceIp",
        "aws:SourceArn",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceOwner",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)
#: the operators that test a key against fixed values (a Not… or …IfExists one lets
#: a request without the key, an anonymous one, through)
_FIXED_KINDS = frozenset({"str_eq", "str_ieq", "str_like", "arn_like", "ip_in"})
#: CIDRs broader than these are public all the same (S3: "very broad IP ranges")
_NARROWEST_BROAD = {4: 8, 6: 32}


def parse(stored: str | None) -> Settings | None:
    """The stored column as settings (None: the bucket has no configuration)."""
    return None if stored is None else Settings(**json.loads(stored))


def put_settings(cloud: Cloud, bucket: str, settings: Settings) -> None:
    """PutPublicAccessBlock: the bucket's whole configuration."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute(
            "UPDATE s3_buckets SET public_access_block = ? WHERE name = ?",
            (json.dumps(asdict(settings)), bucket),
        )


def get_settings(cloud: Cloud, bucket: str) -> Settings:
    """GetPublicAccessBlock (NoSuchPublicAccessBlockConfiguration when there is none)."""
    require_bucket(cloud, bucket)
    stored = cloud.store.scalar(
        "SELECT public_access_block FROM s3_buckets WHERE name = ?", (bucket,)
    )
    found = parse(stored)
    if found is None:
        raise ClientError(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
            status=404,
        )
    return found


def delete_settings(cloud: Cloud, bucket: str) -> None:
    """DeletePublicAccessBlock: every setting off."""
    with cloud.store.transaction():
        require_bucket(cloud, bucket)
        cloud.store.execute(
            "UPDATE s3_buckets SET public_access_block = NULL WHERE name = ?", (bucket,)
        )


# --- the meaning of public (pure) -------------------------------------------


def is_public(policy: ResourcePolicy) -> bool:
    """Whether any Allow of the policy is for everyone and not narrowed to a fixed party.

    Everyone is ``"*"``, ``{"AWS": "*"}``, any ``NotPrincipal``, or a federated
    principal. A statement is narrowed by a condition on one of ``NARROWING_KEYS`` that
    compares with fixed values (no wildcard, no policy variable) by a positive operator;
    for ``aws:SourceIp`` the CIDRs must be /8 or narrower (IPv6: /32). Deny statements
    never make a policy public.
    """
    return any(_public_statement(entry) for entry in policy.statements)


def _public_statement(entry: ResourceStatement) -> bool:
    if entry.statement.effect is not Effect.ALLOW:
        return False
    principals = entry.principals
    if not (entry.negated or principals.everyone or principals.federated):
        return False
    return not any(_narrows(condition) for condition in entry.statement.conditions)


def _narrows(condition: Condition) -> bool:
    spec = condition.spec
    if condition.key_lower not in NARROWING_KEYS or spec.negated or spec.if_exists:
        return False
    if spec.kind not in _FIXED_KINDS or spec.qualifier is Qualifier.ALL:
        return False
    if not condition.values or condition.dynamic:
        return False
    if condition.key_lower == "aws:sourceip":
        return spec.kind == "ip_in" and all(_narrow_cidr(v) for v in condition.values)
    return spec.kind != "ip_in" and not any(_wild(v) for v in condition.values)


def _wild(value: str) -> bool:
    return "*" in value or "?" in value or "${" in value


def _narrow_cidr(text: str) -> bool:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return network.prefixlen >= _NARROWEST_BROAD[network.version]
