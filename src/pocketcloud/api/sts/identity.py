"""STS wire handlers."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Registry, Result

registry = Registry("sts")


@registry.op("GetCallerIdentity")
def get_caller_identity(call: Call, p: Params) -> Result:
    return {
        "UserId": call.principal.user_id,
        "Account": call.cloud.account_id,
        "Arn": call.principal.arn,
    }
