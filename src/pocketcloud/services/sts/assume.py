"""AssumeRole and GetSessionToken: who gets a session, for how long (authorization is the
caller's: ``api.authorize`` checks the role's trust policy with the caller's own)."""

from __future__ import annotations

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.roles import Role
from pocketcloud.services.iam.users import get_user
from pocketcloud.services.sts import sessions
from pocketcloud.services.sts.sessions import Session

CHAINED_LIMIT = 3600
"""A role session that assumes a role gets at most an hour (role chaining)."""


def assume_role(
    cloud: Cloud, role: Role, session_name: str, duration: int | None, chained: bool, at: float
) -> Session:
    """A session of ``role`` named ``session_name``."""
    sessions.check_session_name(session_name)
    seconds = sessions.check_duration(duration, sessions.ASSUME_BOUNDS, 3600)
    if chained and seconds > CHAINED_LIMIT:
        raise ClientError(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining.",
        )
    if seconds > role.max_session_duration:
        raise ClientError(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )
    with cloud.store.transaction():
        return sessions.issue(cloud, "role", role.name, role.role_id, session_name, seconds, at)


def session_token(
    cloud: Cloud, user_name: str, temporary: bool, duration: int | None, at: float
) -> Session:
    """GetSessionToken: temporary credentials of an IAM user, from its long-term key."""
    if temporary:
        raise ClientError(
            "AccessDenied", "Cannot call GetSessionToken with session credentials", status=403
        )
    seconds = sessions.check_duration(duration, sessions.USER_BOUNDS, sessions.USER_DEFAULT)
    with cloud.store.transaction():
        user = get_user(cloud, user_name)
        return sessions.issue(cloud, "user", user.name, user.unique_id, user.name, seconds, at)
