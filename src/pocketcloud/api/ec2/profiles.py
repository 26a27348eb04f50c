"""EC2 wire handlers for an instance's IAM instance profile association."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry
from pocketcloud.errors import ClientError
from pocketcloud.services.ec2 import instances
from pocketcloud.services.ec2 import profiles as ec2_profiles
from pocketcloud.services.ec2.lifecycle import State
from pocketcloud.services.ec2.profiles import Association
from pocketcloud.services.iam.profiles import InstanceProfile


def association_view(a: Association) -> Result:
    return {
        "AssociationId": a.association_id,
        "InstanceId": a.instance_id,
        "IamInstanceProfile": {"Arn": a.profile_arn, "Id": a.profile_id},
        "State": a.state,
        "Timestamp": a.created,
    }


def _profile(call: Call, p: Params) -> InstanceProfile:
    spec = p.get("IamInstanceProfile") or {}
    return ec2_profiles.resolve(call.cloud, spec.get("Arn"), spec.get("Name"))


@registry.op("AssociateIamInstanceProfile")
def associate_iam_instance_profile(call: Call, p: Params) -> Result:
    with call.cloud.store.transaction():
        instance = instances.require(call.cloud, [p["InstanceId"]])[0]
        if instance.state not in (State.PENDING, State.RUNNING, State.STOPPING, State.STOPPED):
            raise ClientError(
                "IncorrectInstanceState",
                f"The instance '{instance.instance_id}' is not in a valid state for this "
                "operation.",
            )
        found = ec2_profiles.associate(call.cloud, instance.instance_id, _profile(call, p))
    return {"IamInstanceProfileAssociation": association_view(found) | {"State": "associating"}}


@registry.op("DisassociateIamInstanceProfile")
def disassociate_iam_instance_profile(call: Call, p: Params) -> Result:
    found = ec2_profiles.disassociate(call.cloud, p["AssociationId"])
    return {"IamInstanceProfileAssociation": association_view(found)}


@registry.op("ReplaceIamInstanceProfileAssociation")
def replace_iam_instance_profile_association(call: Call, p: Params) -> Result:
    found = ec2_profiles.replace(call.cloud, p["AssociationId"], _profile(call, p))
    return {"IamInstanceProfileAssociation": association_view(found) | {"State": "associating"}}


@registry.op("DescribeIamInstanceProfileAssociations", filters=ec2_profiles.FILTERS)
def describe_iam_instance_profile_associations(call: Call, p: Params) -> Result:
    found, token = ec2_profiles.describe(
        call.cloud,
        p.get("AssociationIds") or [],
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {
        "IamInstanceProfileAssociations": [association_view(a) for a in found],
        "NextToken": token,
    }
