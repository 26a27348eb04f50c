"""STS wire handlers that issue temporary credentials."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.sts.identity import registry
from pocketcloud.errors import ClientError
from pocketcloud.services.iam import roles
from pocketcloud.services.sts import assume
from pocketcloud.services.sts.sessions import Session


def credentials_view(s: Session) -> Result:
    return {
        "AccessKeyId": s.access_key_id,
        "SecretAccessKey": s.secret,
        "SessionToken": s.token,
        "Expiration": datetime.fromtimestamp(s.expires, UTC).isoformat().replace("+00:00", "Z"),
    }


@registry.op("AssumeRole")
def assume_role(call: Call, p: Params) -> Result:
    role = roles.by_arn(call.cloud, p["RoleArn"])
    if role is None:  # authorize() refuses first; a role deleted since is refused the same
        raise ClientError(
            "AccessDenied",
            f"User: {call.principal.arn} is not authorized to perform: sts:AssumeRole on "
            f"resource: {p['RoleArn']}",
            status=403,
        )
    session = assume.assume_role(
        call.cloud,
        role,
        p["RoleSessionName"],
        p.get("DurationSeconds"),
        chained=not call.principal.is_user,
        at=time.time(),
    )
    return {
        "Credentials": credentials_view(session),
        "AssumedRoleUser": {
            "AssumedRoleId": f"{role.role_id}:{session.session_name}",
            "Arn": f"arn:aws:sts::{call.cloud.account_id}:assumed-role/{role.name}/"
            f"{session.session_name}",
        },
    }


@registry.op("GetSessionToken")
def get_session_token(call: Call, p: Params) -> Result:
    temporary = call.principal.token is not None
    session = assume.session_token(
        call.cloud, call.principal.user_name, temporary, p.get("DurationSeconds"), time.time()
    )
    return {"Credentials": credentials_view(session)}
