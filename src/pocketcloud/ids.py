"""Identifier formats, as AWS shapes them."""

from __future__ import annotations

import secrets
import string

_UPPER = string.ascii_uppercase + string.digits
_SECRET = string.ascii_letters + string.digits + "+/"


def ec2_id(prefix: str) -> str:
    """An EC2 resource id: ``prefix-`` and 17 hex digits, e.g. ``sg-0a1b2c3d4e5f60718``."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def mac_address() -> str:
    """A locally administered unicast MAC, as EC2 gives interfaces: ``0e:1a:2b:3c:4d:5e``."""
    return "0e:" + ":".join(secrets.token_hex(1) for _ in range(5))


def iam_id(prefix: str) -> str:
    """An IAM unique id: a 4-letter prefix (AIDA user, AGPA group, ANPA policy) + 17 chars."""
    return prefix + "".join(secrets.choice(_UPPER) for _ in range(17))


def access_key_id() -> str:
    """A long-term access key id, ``AKIA`` + 16 characters."""
    return "AKIA" + "".join(secrets.choice(_UPPER) for _ in range(16))


def secret_access_key() -> str:
    """A 40-character secret access key."""
    return "".join(secrets.choice(_SECRET) for _ in range(40))


def account_id() -> str:
    """A 12-digit account id that never starts with 0."""
    return str(secrets.choice("123456789")) + "".join(
        secrets.choice("0123456789") for _ in range(11)
    )


def request_id() -> str:
    """A request id in AWS's UUID form."""
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def s3_version_id() -> str:
    """An S3 object version id: 32 URL-safe characters, as S3's."""
    return secrets.token_urlsafe(24)
