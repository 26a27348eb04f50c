"""The AWS managed policies pocketcloud knows, with their real ARNs, ids and documents.

The documents are the policies' current default versions as published in the
AWS Managed Policy Reference; the ids are the ones ``iam get-policy`` returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

AWS_MANAGED_ARN_PREFIX = "arn:aws:iam::aws:policy"


@dataclass(frozen=True)
class ManagedPolicy:
    """An AWS managed policy: its identity and the document of its default version."""

    name: str
    arn: str
    path: str
    policy_id: str
    document: str
    description: str
    default_version_id: str = "v1"
    create_date: str = "2015-02-06T18:39:46Z"
    update_date: str = "2015-02-06T18:39:46Z"


def _allow(action: str | list[str], **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **extra}


def _document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


_EC2_SERVICE_LINKED_ROLES = [
    "autoscaling.amazonaws.com",
    "ec2scheduled.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "spot.amazonaws.com",
    "spotfleet.amazonaws.com",
    "transitgateway.amazonaws.com",
]

_IAM_FULL_ACTIONS = [
    "iam:*",
    "organizations:DescribeAccount",
    "organizations:DescribeOrganization",
    "organizations:DescribeOrganizationalUnit",
    "organizations:DescribePolicy",
    "organizations:ListChildren",
    "organizations:ListParents",
    "organizations:ListPoliciesForTarget",
    "organizations:ListRoots",
    "organizations:ListPolicies",
    "organizations:ListTargetsForPolicy",
]

_IAM_READ_ONLY_ACTIONS = [
    "iam:GenerateCredentialReport",
    "iam:GenerateServiceLastAccessedDetails",
    "iam:Get*",
    "iam:List*",
    "iam:SimulateCustomPolicy",
    "iam:SimulatePrincipalPolicy",
]


def _managed(
    name: str, policy_id: str, description: str, document: str, **dates: str
) -> ManagedPolicy:
    arn = f"{AWS_MANAGED_ARN_PREFIX}/{name}"
    return ManagedPolicy(name, arn, "/", policy_id, document, description, **dates)


_POLICIES = (
    _managed(
        "AdministratorAccess",
        "ANPAIWMBCKSKIEE64ZLYK",
        "Provides full access to AWS services and resources.",
        _document(_allow("*")),
    ),
    _managed(
        "AmazonEC2FullAccess",
        "ANPAI3VAJF5ZCRZ7MCQE6",
        "Provides full access to Amazon EC2 via the AWS Management Console.",
        _document(
            _allow("ec2:*"),
            _allow("elasticloadbalancing:*"),
            _allow("cloudwatch:*"),
            _allow("autoscaling:*"),
            _allow(
                "iam:CreateServiceLinkedRole",
                Condition={"StringEquals": {"iam:AWSServiceName": _EC2_SERVICE_LINKED_ROLES}},
            ),
        ),
        default_version_id="v5",
        create_date="2015-02-06T18:40:15Z",
        update_date="2018-11-27T02:16:56Z",
    ),
    _managed(
        "AmazonEC2ReadOnlyAccess",
        "ANPAIGDT4SV4GSETWTBZK",
        "Provides read only access to Amazon EC2 via the AWS Management Console.",
        _document(
            _allow(["ec2:Describe*", "ec2:GetSecurityGroupsForVpc"]),
            _allow("elasticloadbalancing:Describe*"),
            _allow(
                ["cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics", "cloudwatch:Describe*"]
            ),
            _allow("autoscaling:Describe*"),
        ),
        default_version_id="v5",
        create_date="2015-02-06T18:40:17Z",
        update_date="2026-02-12T18:03:17Z",
    ),
    _managed(
        "AmazonS3FullAccess",
        "ANPAIFIR6V6BVTRAHWINE",
        "Provides full access to all buckets via the AWS Management Console.",
        _document(_allow(["s3:*", "s3-object-lambda:*"])),
        default_version_id="v2",
        create_date="2015-02-06T18:40:58Z",
        update_date="2021-09-27T20:16:37Z",
    ),
    _managed(
        "AmazonS3ReadOnlyAccess",
        "ANPAIZTJ4DXE7G6AGAE6M",
        "Provides read only access to all buckets via the AWS Management Console.",
        _document(
            _allow(
                [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ]
            )
        ),
        default_version_id="v3",
        create_date="2015-02-06T18:40:59Z",
        update_date="2023-08-10T21:31:39Z",
    ),
    _managed(
        "IAMFullAccess",
        "ANPAI7XKCFMBPM3QQRRVQ",
        "Provides full access to IAM via the AWS Management Console.",
        _document(_allow(_IAM_FULL_ACTIONS)),
        default_version_id="v2",
        create_date="2015-02-06T18:40:38Z",
        update_date="2019-06-21T19:40:00Z",
    ),
    _managed(
        "IAMReadOnlyAccess",
        "ANPAJKSO7NDY4T57MWDSQ",
        "Provides read only access to IAM via the AWS Management Console.",
        _document(_allow(_IAM_READ_ONLY_ACTIONS)),
        default_version_id="v4",
        create_date="2015-02-06T18:40:39Z",
        update_date="2018-01-25T19:11:27Z",
    ),
)

AWS_MANAGED: Mapping[str, ManagedPolicy] = MappingProxyType({p.arn: p for p in _POLICIES})
"""The AWS managed policies, keyed by ARN."""

AWS_MANAGED_BY_NAME: Mapping[str, ManagedPolicy] = MappingProxyType({p.name: p for p in _POLICIES})
"""The same policies, keyed by name."""
