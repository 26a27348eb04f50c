"""deploy --bucket's plan (pure): what exists + the app's bucket → the AWS calls."""

from __future__ import annotations

import json

import pytest

from pocketcloud.deploy.storage import (
    StorageConflict,
    StorageFacts,
    StorageNames,
    app_settings,
    attach,
    bucket_policy,
    key_note,
    plan,
)

NAMES = StorageNames("shop", "shop-media")
PROFILE_ARN = "arn:aws:iam::123456789012:instance-profile/shop-app"


def _ops(calls: list) -> list[str]:  # type: ignore[type-arg]
    return [c.operation for c in calls]


def test_nothing_exists() -> None:
    """Bucket, role (EC2 may assume it), its policy, the profile and the role in it."""
    calls = plan(NAMES, StorageFacts(), "us-east-1")
    assert _ops(calls) == [
        "create_bucket",
        "create_role",
        "put_role_policy",
        "create_instance_profile",
        "add_role_to_instance_profile",
    ]
    assert calls[0].params == {"Bucket": "shop-media"}
    trust = json.loads(calls[1].params["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert calls[1].params["RoleName"] == "shop-app"


def test_the_role_may_use_its_bucket_only() -> None:
    """The policy lists the bucket and reads, writes and deletes its objects; no wildcard
    bucket, no other action."""
    policy = bucket_policy("shop-media")
    resources = {r for s in policy["Statement"] for r in [s["Resource"]]}
    assert resources == {"arn:aws:s3:::shop-media", "arn:aws:s3:::shop-media/*"}
    actions = {
        a
        for s in policy["Statement"]
        for a in [s["Action"]]
        for a in ([a] if isinstance(a, str) else a)
    }
    assert actions == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


OURS = {"pocketcloud:app": "shop"}


def test_everything_in_place_is_no_call() -> None:
    """A second deploy makes no call."""
    facts = StorageFacts(True, True, bucket_policy("shop-media"), True, ("shop-app",), OURS, OURS)
    assert plan(NAMES, facts, "us-east-1") == []


@pytest.mark.parametrize(
    "facts",
    [
        StorageFacts(True, True, None, False, (), {}, {}),
        StorageFacts(True, True, None, False, (), {"pocketcloud:app": "blog"}, {}),
        StorageFacts(True, True, None, True, (), OURS, {}),
    ],
)
def test_someone_elses_role_or_profile_is_left_alone(facts: StorageFacts) -> None:
    """A role or profile of the app's name that deploy did not make for this app (no tag,
    or another app's) is refused, and no call is planned."""
    with pytest.raises(StorageConflict, match="left as it is"):
        plan(NAMES, facts, None)


def test_a_changed_policy_is_set_again() -> None:
    """A role whose policy was edited gets the wanted one back."""
    empty = {"Version": "2012-10-17", "Statement": []}
    facts = StorageFacts(True, True, empty, True, ("shop-app",), OURS, OURS)
    assert _ops(plan(NAMES, facts, None)) == ["put_role_policy"]


def test_another_role_in_the_profile_is_replaced() -> None:
    """A profile holds one role: another one is removed first."""
    facts = StorageFacts(True, True, bucket_policy("shop-media"), True, ("old",), OURS, OURS)
    calls = plan(NAMES, facts, None)
    assert _ops(calls) == ["remove_role_from_instance_profile", "add_role_to_instance_profile"]
    assert calls[0].params["RoleName"] == "old"


def test_region_outside_us_east_1_is_the_location_constraint() -> None:
    """CreateBucket outside us-east-1 names the region, as S3 requires."""
    call = plan(NAMES, StorageFacts(), "eu-west-1")[0]
    assert call.params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    assert "aws --profile p --region eu-west-1 s3api create-bucket" in call.cli("p", "eu-west-1")


def test_attach() -> None:
    """No association: associate; the app's: nothing; another: replace it."""
    first = attach(NAMES, "i-1", PROFILE_ARN, [])
    assert first is not None
    assert first.operation == "associate_iam_instance_profile"
    mine = {"State": "associated", "AssociationId": "a-1",
            "IamInstanceProfile": {"Arn": PROFILE_ARN}}  # fmt: skip
    assert attach(NAMES, "i-1", PROFILE_ARN, [mine]) is None
    other = {**mine, "IamInstanceProfile": {"Arn": PROFILE_ARN + "-old"}}
    swap = attach(NAMES, "i-1", PROFILE_ARN, [other])
    assert swap is not None
    assert swap.operation == "replace_iam_instance_profile_association"
    assert swap.params["AssociationId"] == "a-1"


def test_app_settings_hold_no_key() -> None:
    """The app learns its bucket and region; no credential is written."""
    settings = app_settings("shop-media", "us-east-1")
    assert settings == {"AWS_STORAGE_BUCKET_NAME": "shop-media", "AWS_S3_REGION_NAME": "us-east-1"}


def test_a_local_access_key_gets_a_note() -> None:
    """A key in settings_local.json (the seed's way) makes deploy say a role is safer; an
    empty one (as django new writes it) says nothing."""
    assert key_note({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}) is None
    note = key_note({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12"})
    assert note is not None
    assert "--bucket" in note
    assert "AKIA" not in note
