"""The IAM policy engine: parsing, validation and evaluation of IAM policies.

Pure: no I/O. ``parse_policy`` validates an identity-based document (and is
cached on its text); ``evaluate`` decides a request against the caller's
policies. ``parse_resource_policy`` and ``evaluate_resource`` do the same for
resource-based ones (role trust policies, S3 bucket policies).
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
from pocketcloud.iam.resource_policy import (
    Caller,
    Grant,
    ResourcePolicy,
    ResourcePolicyKind,
    evaluate_resource,
    parse_resource_policy,
)

__all__ = [
    "AWS_MANAGED",
    "AWS_MANAGED_BY_NAME",
    "MAX_GROUP_INLINE",
    "MAX_MANAGED",
    "MAX_ROLE_INLINE",
    "MAX_USER_INLINE",
    "Caller",
    "Condition",
    "Decision",
    "Effect",
    "Grant",
    "ManagedPolicy",
    "Policy",
    "RequestContext",
    "ResourcePolicy",
    "ResourcePolicyKind",
    "Statement",
    "arn_match",
    "ec2_arn",
    "evaluate",
    "evaluate_resource",
    "iam_arn",
    "parse_policy",
    "parse_resource_policy",
    "policy_size",
    "wildcard_match",
]
