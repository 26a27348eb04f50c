"""Console sign-in: an access key checked as the API checks it, and the open sessions.

The browser holds only a random session id in a signed, HttpOnly, SameSite=Strict
cookie; the server keeps which access key each id belongs to, so signing out ends the
session for every copy of the cookie, and a key deactivated or deleted meanwhile ends
it at the next page.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.principals import Principal, by_access_key

#: how long a session lasts without signing in again (seconds)
LIFETIME = 8 * 3600


def auth_failure() -> ClientError:
    """The error EC2 gives for an unknown key or a wrong secret (the same for both)."""
    return ClientError(
        "AuthFailure", "AWS was not able to validate the provided access credentials", status=401
    )


def check_key(cloud: Cloud, access_key_id: str, secret: str) -> Principal:
    """The active principal whose access key and secret these are; else AuthFailure.

    The same lookup the API's SigV4 check uses (``by_access_key``, Inactive keys
    refused); the secret is compared in constant time.
    """
    principal = by_access_key(cloud, access_key_id.strip())
    if principal is None or not principal.active or principal.token is not None:
        raise auth_failure()
    if not hmac.compare_digest(principal.secret.encode(), secret.strip().encode()):
        raise auth_failure()
    return principal


def current_principal(cloud: Cloud, access_key_id: str) -> Principal | None:
    """The principal of a signed-in key, if that key still exists and is active."""
    principal = by_access_key(cloud, access_key_id)
    return principal if principal is not None and principal.active else None


@dataclass(frozen=True)
class Session:
    """One signed-in browser: whose key, and since when (the clock's seconds)."""

    access_key_id: str
    started: float


class Sessions:
    """The server's table of open sessions, by random id (kept in memory: a restart of
    the server signs everyone out)."""

    def __init__(
        self, lifetime: float = LIFETIME, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._open: dict[str, Session] = {}

    def open(self, access_key_id: str) -> str:
        """Start a session for the key; its new id (expired sessions are dropped)."""
        now = self.clock()
        for old in [s for s, v in self._open.items() if now - v.started > self.lifetime]:
            del self._open[old]
        sid = secrets.token_urlsafe(32)
        self._open[sid] = Session(access_key_id, now)
        return sid

    def key_of(self, sid: str) -> str | None:
        """The access key of an open session; None if unknown, closed or expired."""
        session = self._open.get(sid)
        if session is None:
            return None
        if self.clock() - session.started > self.lifetime:
            del self._open[sid]
            return None
        return session.access_key_id

    def close(self, sid: str) -> None:
        """End the session (every copy of its cookie stops working)."""
        self._open.pop(sid, None)

    def __len__(self) -> int:
        return len(self._open)


class Throttle:
    """Failed sign-ins per client address: past ``limit`` failures within ``window``
    seconds, that address may not try again until the oldest of them is ``window`` old."""

    def __init__(
        self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, list[float]] = {}

    def check(self, who: str) -> None:
        """Raise RequestLimitExceeded if ``who`` failed too often lately."""
        now = self.clock()
        recent = [t for t in self._failures.get(who, []) if now - t < self.window]
        self._failures[who] = recent
        if not recent:
            del self._failures[who]
        if len(recent) >= self.limit:
            raise ClientError(
                "RequestLimitExceeded",
                "Request limit exceeded: too many failed sign-ins; try again in a minute.",
                status=429,
            )

    def failed(self, who: str) -> None:
        """Count one failed sign-in of ``who``."""
        self._failures.setdefault(who, []).append(self.clock())
