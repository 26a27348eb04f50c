"""Temporary credentials: AssumeRole, GetSessionToken and an instance profile's sessions.

A session is an ``ASIA…`` access key, its secret and a session token, issued for a role
or a user until an epoch second. Every call signed with it names the token
(``X-Amz-Security-Token``); the key stops working when it expires, or at once when its
role or user is deleted (the row goes with them, or names an owner id that is gone).
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass

from pocketcloud import ids
from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.store.sqlite import Row

PREFIX = "ASIA"
ASSUME_BOUNDS = (900, 43200)
USER_BOUNDS = (900, 129600)
USER_DEFAULT = 43200
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


@dataclass(frozen=True)
class Session:
    """One issued set of temporary credentials."""

    access_key_id: str
    secret: str
    token: str
    kind: str
    owner: str
    owner_id: str
    session_name: str
    expires: float
    issued: float


def _session(row: Row) -> Session:
    return Session(
        row["access_key_id"],
        row["secret"],
        row["token"],
        row["kind"],
        row["owner"],
        row["owner_id"],
        row["session_name"],
        row["expires"],
        row["issued"],
    )


def find(cloud: Cloud, access_key_id: str) -> Session | None:
    """The session an ``ASIA…`` key belongs to, or None."""
    row = cloud.store.one("SELECT * FROM sts_sessions WHERE access_key_id = ?", (access_key_id,))
    return None if row is None else _session(row)


def _token() -> str:
    """An opaque session token, long as AWS's are."""
    return base64.b64encode(secrets.token_bytes(264)).decode()


def issue(
    cloud: Cloud,
    kind: str,
    owner: str,
    owner_id: str,
    session_name: str,
    seconds: int,
    at: float,
    source: str = "",
) -> Session:
    """Issue a session for a role or a user (the caller holds the transaction)."""
    session = Session(
        PREFIX + ids.access_key_id()[4:],
        ids.secret_access_key(),
        _token(),
        kind,
        owner,
        owner_id,
        session_name,
        at + seconds,
        at,
    )
    cloud.store.execute("DELETE FROM sts_sessions WHERE expires < ?", (at,))
    cloud.store.execute(
        "INSERT INTO sts_sessions(access_key_id, secret, token, kind, owner, owner_id, "
        "session_name, expires, issued, source) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session.access_key_id,
            session.secret,
            session.token,
            kind,
            owner,
            owner_id,
            session_name,
            session.expires,
            at,
            source,
        ),
    )
    return session


def latest_for(cloud: Cloud, source: str, owner: str) -> Session | None:
    """The newest session issued for ``source`` (an instance) as role ``owner``."""
    row = cloud.store.one(
        "SELECT * FROM sts_sessions WHERE source = ? AND kind = 'role' AND owner = ? "
        "ORDER BY issued DESC LIMIT 1",
        (source, owner),
    )
    return None if row is None else _session(row)


def check_session_name(name: str) -> None:
    """RoleSessionName: 2-64 characters of ``[\\w+=,.@-]``."""
    if not _SESSION_NAME.fullmatch(name):
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value '{name[:100]}' at 'roleSessionName' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: "
            "[\\w+=,.@-]*",
        )


def check_duration(seconds: int | None, bounds: tuple[int, int], default: int) -> int:
    """DurationSeconds within ``bounds`` (STS's ValidationError otherwise)."""
    if seconds is None:
        return default
    low, high = bounds
    if seconds < low:
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must have value greater than or equal to {low}",
        )
    if seconds > high:
        raise ClientError(
            "ValidationError",
            f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must have value less than or equal to {high}",
        )
    return seconds
