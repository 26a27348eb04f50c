"""The IAM policy engine: parsing, validation and evaluation of identity-based policies.

Pure: no I/O. ``parse_policy`` validates a document (and is cached on its
text); ``evaluate`` decides a request against the caller's policies.
"""

from pocketcloud.iam.arn import arn_match, ec2_arn, iam_arn, wildcard_match
from pocketcloud.iam.conditions import Condition
from pocketcloud.iam.evaluate import Decision, RequestContext, evaluate
from pocketcloud.iam.managed import AWS_MANAGED, AWS_MANAGED_BY_NAME, ManagedPolicy
from pocketcloud.iam.policy import (
    MAX_GROUP_INLINE,
    MAX_MANAGED,
    MAX_ROLE_INLINE,
    MAX_USER_INLINE,
    Effect,
    Policy,
    Statement,
    parse_policy,
    policy_size,
)

__all__ = [
    "AWS_MANAGED",
    "AWS_MANAGED_BY_NAME",
    "MAX_GROUP_INLINE",
    "MAX_MANAGED",
    "MAX_ROLE_INLINE",
    "MAX_USER_INLINE",
    "Condition",
    "Decision",
    "Effect",
    "ManagedPolicy",
    "Policy",
    "RequestContext",
    "Statement",
    "arn_match",
    "ec2_arn",
    "evaluate",
    "iam_arn",
    "parse_policy",
    "policy_size",
    "wildcard_match",
]
