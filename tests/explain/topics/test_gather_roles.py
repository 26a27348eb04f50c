"""Roles, instance profiles and their associations read from a real database (made by the
store's own migrations) through the read-only reader, gathered into ``explain aws-keys``'s
facts and rendered — and never a secret, though the database and the AWS CLI's
credentials file both hold one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketcloud.explain.topics import registry
from pocketcloud.explain.topics.facts import Needs, TopicFacts
from pocketcloud.explain.topics.gather import gather
from pocketcloud.explain.topics.gather_iam import allowed_resources, trusted
from pocketcloud.explain.topics.registry import parse, render
from pocketcloud.store.reader import (
    InstanceProfileRecord,
    ProfileAssociationRecord,
    StateReader,
)
from pocketcloud.store.sqlite import Store

ACCOUNT = "123456789012"
SECRET = "wJalrXUtnFEMI-the-user-secret"
CLI_SECRET = "cli-file-secret-value"
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
BUCKET_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::media"},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::media/*",
            },
            {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::other"},
        ],
    }
)
PROFILE_ARN = f"arn:aws:iam::{ACCOUNT}:instance-profile/blog-app"
EC2_READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
ROLES = (
    "INSERT INTO iam_roles(name, role_id, path, trust_policy, description, "
    "max_session_duration, created) VALUES"
)
PROFILES = "INSERT INTO iam_instance_profiles(name, profile_id, path, role_name, created) VALUES"
ROWS: list[tuple[str, tuple[object, ...]]] = [
    ("INSERT INTO meta VALUES ('account_id', ?)", (ACCOUNT,)),
    ("INSERT INTO vpcs(vpc_id, cidr, is_default) VALUES ('vpc-1', '10.0.0.0/16', 1)", ()),
    ("INSERT INTO subnets VALUES ('subnet-1', 'vpc-1', '10.0.0.0/24', 'z1', 1, 1)", ()),
    ("INSERT INTO reservations VALUES ('r-1', NULL, 'me', 't0')", ()),
    ("INSERT INTO key_pairs VALUES ('key-1', 'blog', 'ed25519', 'SHA256:x', 'A', 't1')", ()),
    ("INSERT INTO iam_users VALUES ('admin', 'AIDA1', '/', 't1')", ()),
    ("INSERT INTO iam_access_keys VALUES ('AKIAADMIN', ?, 'admin', 'Active', 't1')", (SECRET,)),
    (f"{ROLES} ('blog-app', 'AROA1', '/', ?, '', 3600, 't1')", (EC2_TRUST,)),
    (f"{ROLES} ('broken', 'AROA2', '/ops/', 'not json', '', 3600, 't2')", ()),
    ("INSERT INTO iam_inline_policies VALUES ('role', 'blog-app', 'bucket', ?)", (BUCKET_POLICY,)),
    ("INSERT INTO iam_attachments VALUES ('role', 'broken', ?)", (EC2_READ_ONLY,)),
    (f"{PROFILES} ('blog-app', 'AIPA1', '/', 'blog-app', 't1')", ()),
    (f"{PROFILES} ('spare', 'AIPA2', '/apps/', NULL, 't1')", ()),
]  # fmt: skip


def _launch(store: Store, iid: str, ip: str, state: str, launched: str, app: str) -> None:
    store.execute(
        "INSERT INTO instances(instance_id, reservation_id, launch_index, image_id,"
        " instance_type, key_name, subnet_id, private_ip, state, launch_time, state_changed)"
        " VALUES (?, 'r-1', 0, 'ami-1', 't3.micro', 'blog', 'subnet-1', ?, ?, ?, ?)",
        (iid, ip, state, launched, launched),
    )
    store.execute("INSERT INTO tags VALUES (?, 'pocketcloud:app', ?)", (iid, app))


def _associate(store: Store, aid: str, iid: str, arn: str, state: str = "associated") -> None:
    store.execute(
        "INSERT INTO iam_profile_associations VALUES (?, ?, ?, 'AIPA1', ?, 't5')",
        (aid, iid, arn, state),
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A stopped cloud's state directory: app "blog" on i-web with the blog-app profile
    (an older association of it ended), app "shop" on i-shop without one, a terminated
    instance still associated, and an instance whose profile was deleted since."""
    state = tmp_path / "state"
    state.mkdir()
    store = Store(state / "pocketcloud.db")
    try:
        for sql, params in ROWS:
            store.execute(sql, params)
        _launch(store, "i-web", "10.0.0.5", "running", "t2", "blog")
        _launch(store, "i-shop", "10.0.0.6", "running", "t3", "shop")
        _launch(store, "i-gone", "10.0.0.7", "terminated", "t1", "old")
        _launch(store, "i-lost", "10.0.0.8", "running", "t4", "lost")
        _associate(store, "iip-assoc-old", "i-web", PROFILE_ARN, "disassociated")
        _associate(store, "iip-assoc-web", "i-web", PROFILE_ARN)
        _associate(store, "iip-assoc-gone", "i-gone", PROFILE_ARN)
        _associate(
            store, "iip-assoc-lost", "i-lost", f"arn:aws:iam::{ACCOUNT}:instance-profile/deleted"
        )
    finally:
        store.close()
    return state


@pytest.fixture
def reader(root: Path) -> Iterator[StateReader]:
    with StateReader(root / "pocketcloud.db") as opened:
        yield opened


@pytest.fixture
def facts(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TopicFacts:
    """What ``explain aws-keys`` gathers, the AWS CLI's profile signing with admin's key
    (its secret in the credentials file)."""
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[pocketcloud]\naws_access_key_id = AKIAADMIN\naws_secret_access_key = {CLI_SECRET}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    needs = registry.needs(registry.parse(["aws-keys"]))
    assert needs == Needs(iam=True, roles=True)
    return gather(root, needs)


class TestReader:
    """The reader's named queries for roles, instance profiles and associations."""

    def test_roles(self, reader: StateReader) -> None:
        """Every role by name with its trust document and the names of its policies."""
        blog, broken = reader.roles()
        assert (blog.name, blog.path, blog.trust_policy) == ("blog-app", "/", EC2_TRUST)
        assert (blog.inline, blog.attached) == (("bucket",), ())
        assert broken.attached == (EC2_READ_ONLY,)
        assert reader.inline_policies("role", "blog-app") == (("bucket", BUCKET_POLICY),)

    def test_instance_profiles(self, reader: StateReader) -> None:
        """Every profile by name with its path and the role it holds (None: empty)."""
        assert reader.instance_profiles() == (
            InstanceProfileRecord("blog-app", "AIPA1", "/", "blog-app", "t1"),
            InstanceProfileRecord("spare", "AIPA2", "/apps/", None, "t1"),
        )

    def test_live_associations(self, reader: StateReader) -> None:
        """Only live associations of instances not terminated, in launch order."""
        found = reader.profile_associations()
        assert [a.association_id for a in found] == ["iip-assoc-web", "iip-assoc-lost"]
        assert found[0] == ProfileAssociationRecord(
            "iip-assoc-web", "i-web", PROFILE_ARN, "AIPA1", "associated", "t5"
        )

    def test_changes_nothing(self, root: Path, reader: StateReader) -> None:
        """Reading the new queries leaves the database file as it was."""
        before = (root / "pocketcloud.db").read_bytes()
        reader.roles()
        reader.instance_profiles()
        reader.profile_associations()
        assert (root / "pocketcloud.db").read_bytes() == before


class TestDocuments:
    """Who a trust policy trusts and what a policy allows, read without ever failing."""

    def test_trusted(self) -> None:
        """Allow statements' principals: services, ARNs, accounts; "*" for anyone; a
        document that does not parse trusts nobody (no error)."""
        assert trusted(EC2_TRUST) == ("ec2.amazonaws.com",)
        anyone = EC2_TRUST.replace('{"Service": "ec2.amazonaws.com"}', '"*"')
        assert trusted(anyone) == ("*",)
        account = EC2_TRUST.replace('"Service": "ec2.amazonaws.com"', f'"AWS": "{ACCOUNT}"')
        assert trusted(account) == (ACCOUNT,)
        assert trusted("not json") == ()
        assert trusted("{}") == ()

    def test_allowed_resources(self) -> None:
        """The Allow statements' resources, each once; Deny and unparsable documents add
        nothing."""
        assert allowed_resources([BUCKET_POLICY, BUCKET_POLICY, "{"]) == (
            "arn:aws:s3:::media",
            "arn:aws:s3:::media/*",
        )


class TestGathered:
    """The facts gathered from the database, and the explanation made of them."""

    def test_roles_profiles_associations(self, facts: TopicFacts) -> None:
        """Roles with ARN, trust and allowed resources; profiles with ARN (path included)
        and role; each live association with the profile and role it names now."""
        blog, broken = facts.roles
        assert blog.arn == f"arn:aws:iam::{ACCOUNT}:role/blog-app"
        assert blog.trusted == ("ec2.amazonaws.com",)
        assert blog.resources == ("arn:aws:s3:::media", "arn:aws:s3:::media/*")
        assert (broken.arn, broken.trusted) == (f"arn:aws:iam::{ACCOUNT}:role/ops/broken", ())
        assert broken.resources == ("*",)  # AmazonEC2ReadOnlyAccess, as AWS has it
        assert [(p.arn, p.role) for p in facts.instance_profiles] == [
            (PROFILE_ARN, "blog-app"),
            (f"arn:aws:iam::{ACCOUNT}:instance-profile/apps/spare", None),
        ]
        web, lost = facts.associations
        assert (web.instance_id, web.profile, web.role) == ("i-web", "blog-app", "blog-app")
        assert (lost.instance_id, lost.profile, lost.role) == ("i-lost", None, None)
        assert facts.profile is not None
        assert (facts.profile.access_key_id, facts.profile.user) == ("AKIAADMIN", "admin")

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_rendered_without_a_secret(self, facts: TopicFacts, lang: str) -> None:
        """The key id is shown, the app with a role and the one without are told apart,
        and neither the stored secret nor the credentials file's appears in the text or
        the JSON."""
        answer = render(parse(["access-keys"]), facts, lang)
        text = answer.text()
        dumped = json.dumps(answer.to_json(), ensure_ascii=False)
        assert "AKIAADMIN" in text
        assert "blog-app" in text
        assert {a["app"]: a["credentials"] for a in answer.data["apps"]} == {
            "blog": "role",
            "shop": "none",
            "lost": "none",
        }
        for secret in (SECRET, CLI_SECRET):
            assert secret not in text
            assert secret not in dumped
        assert "security-credentials" not in text  # the cloud is down: nothing runs
