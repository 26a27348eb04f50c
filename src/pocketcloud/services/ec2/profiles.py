"""An instance's IAM instance profile: its association, as EC2 records and reports it.

The association keeps the profile's ARN and id from when it was made; the role the
instance's metadata service hands out credentials for is the one the profile holds now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import filters
from pocketcloud.services.iam import profiles
from pocketcloud.services.iam.profiles import InstanceProfile
from pocketcloud.store.sqlite import Row

FILTERS = ("instance-id", "state")


@dataclass(frozen=True)
class Association:
    """One instance's link to an instance profile."""

    association_id: str
    instance_id: str
    profile_arn: str
    profile_id: str
    state: str
    created: str


def _association(row: Row) -> Association:
    return Association(
        row["association_id"],
        row["instance_id"],
        row["profile_arn"],
        row["profile_id"],
        row["state"],
        row["created"],
    )


def resolve(cloud: Cloud, arn: str | None, name: str | None) -> InstanceProfile:
    """The profile an IamInstanceProfile specification names (by Arn or Name)."""
    if arn and name:
        raise ClientError(
            "InvalidParameterCombination",
            "The parameter 'iamInstanceProfile.name' may not be used in combination with "
            "'iamInstanceProfile.arn'",
        )
    if arn:
        found = profiles.by_arn(cloud, arn)
        if found is None:
            raise InvalidParameterValue(
                f"Value ({arn}) for parameter iamInstanceProfile.arn is invalid. "
                "Invalid IAM Instance Profile ARN"
            )
        return found
    if name:
        row = cloud.store.one("SELECT name FROM iam_instance_profiles WHERE name = ?", (name,))
        if row is None:
            raise InvalidParameterValue(
                f"Value ({name}) for parameter iamInstanceProfile.name is invalid. "
                "Invalid IAM Instance Profile name"
            )
        return profiles.get_profile(cloud, name)
    raise ClientError(
        "MissingParameter", "The request must contain the parameter IamInstanceProfile"
    )


def associate(cloud: Cloud, instance_id: str, profile: InstanceProfile) -> Association:
    """Record a new association (the caller holds the transaction)."""
    if current(cloud, instance_id) is not None:
        raise ClientError(
            "IncorrectState", f"There is an existing association for instance {instance_id}"
        )
    association_id = ids.ec2_id("iip-assoc")
    cloud.store.execute(
        "INSERT INTO iam_profile_associations(association_id, instance_id, profile_arn, "
        "profile_id, state, created) VALUES(?, ?, ?, ?, 'associated', ?)",
        (association_id, instance_id, profile.arn, profile.profile_id, now()),
    )
    return require(cloud, association_id)


def current(cloud: Cloud, instance_id: str) -> Association | None:
    """The instance's live association, if it has one."""
    row = cloud.store.one(
        "SELECT * FROM iam_profile_associations WHERE instance_id = ? AND state = 'associated'",
        (instance_id,),
    )
    return None if row is None else _association(row)


def require(cloud: Cloud, association_id: str) -> Association:
    """A live association by id; InvalidAssociationID.NotFound otherwise."""
    row = cloud.store.one(
        "SELECT a.* FROM iam_profile_associations a JOIN instances i "
        "ON i.instance_id = a.instance_id WHERE a.association_id = ? "
        "AND a.state = 'associated' AND i.state != 'terminated'",
        (association_id,),
    )
    if row is None:
        raise ClientError(
            "InvalidAssociationID.NotFound",
            f"An association ID '{association_id}' does not exist",
        )
    return _association(row)


def disassociate(cloud: Cloud, association_id: str) -> Association:
    """DisassociateIamInstanceProfile: the association as it was, now ``disassociating``."""
    with cloud.store.transaction():
        found = require(cloud, association_id)
        cloud.store.execute(
            "UPDATE iam_profile_associations SET state = 'disassociated' WHERE association_id = ?",
            (association_id,),
        )
    return Association(
        found.association_id,
        found.instance_id,
        found.profile_arn,
        found.profile_id,
        "disassociating",
        found.created,
    )


def replace(cloud: Cloud, association_id: str, profile: InstanceProfile) -> Association:
    """ReplaceIamInstanceProfileAssociation: the instance's profile, swapped in one step."""
    with cloud.store.transaction():
        found = require(cloud, association_id)
        cloud.store.execute(
            "UPDATE iam_profile_associations SET state = 'disassociated' WHERE association_id = ?",
            (association_id,),
        )
        return associate(cloud, found.instance_id, profile)


def live(cloud: Cloud) -> Mapping[str, Association]:
    """Every live association, by instance id."""
    rows = cloud.store.all(
        "SELECT a.* FROM iam_profile_associations a JOIN instances i "
        "ON i.instance_id = a.instance_id WHERE a.state = 'associated' "
        "AND i.state != 'terminated'"
    )
    return {r["instance_id"]: _association(r) for r in rows}


def describe(
    cloud: Cloud,
    association_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Association], str | None]:
    """DescribeIamInstanceProfileAssociations."""
    filters.check_filter_names(flts, FILTERS)
    for association_id in association_ids:
        require(cloud, association_id)
    found = [
        a
        for a in live(cloud).values()
        if (not association_ids or a.association_id in association_ids)
        and filters.matches(flts, partial(_fields, a))
    ]
    return filters.paginate(found, lambda a: a.association_id, max_results, next_token)


def _fields(a: Association, name: str) -> list[str] | None:
    return {"instance-id": [a.instance_id], "state": [a.state]}.get(name)
