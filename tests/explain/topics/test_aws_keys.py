"""``explain aws-keys``: access keys, key pairs and roles told apart, in Korean and English,
with the user's own values (hand-made facts; the renderer is pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from pocketcloud.explain.topics.facts import (
    Association,
    CloudSnapshot,
    Instance,
    InstanceProfile,
    KeyPair,
    Profile,
    Role,
    TopicFacts,
    User,
)
from pocketcloud.explain.topics.registry import parse, render

ACCOUNT = "123456789012"
CLOUD = CloudSnapshot(
    "/var/tmp/x/state", "up", 77, "http://127.0.0.1:4800", 4800, 4801, "tq", "us-east-1", ACCOUNT
)
WEB = Instance(
    "i-00000000000000001",
    "running",
    "t3.micro",
    "10.9.0.5",
    "10.9.0.5",
    "blog",
    tags={"pocketcloud:app": "blog"},
)
SHOP = Instance(
    "i-00000000000000002",
    "running",
    "t3.micro",
    "10.9.0.6",
    "10.9.0.6",
    "blog",
    tags={"pocketcloud:app": "shop"},
)
SPARE = Instance("i-00000000000000003", "stopped", "t3.micro", "10.9.0.7", None, None)
LOST = Instance("i-00000000000000004", "running", "t3.micro", "10.9.0.8", "10.9.0.8", "blog")
PROFILE_ARN = f"arn:aws:iam::{ACCOUNT}:instance-profile/blog-app"
BLOG_ROLE = Role(
    "blog-app",
    f"arn:aws:iam::{ACCOUNT}:role/blog-app",
    ("ec2.amazonaws.com",),
    (),
    ("bucket",),
    ("arn:aws:s3:::blog-media", "arn:aws:s3:::blog-media/*"),
    "pocketcloud app blog: its bucket blog-media",
)
CI_ROLE = Role(
    "ci",
    f"arn:aws:iam::{ACCOUNT}:role/ci",
    (f"arn:aws:iam::{ACCOUNT}:user/alice",),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess",),
    (),
    ("*",),
)
FACTS = TopicFacts(
    CLOUD,
    (WEB, SHOP, SPARE, LOST),
    keys=(KeyPair("blog", "key-1", "ed25519", "SHA256:blogfp", "t1", "/home/u/.ssh/blog.pem"),),
    users=(
        User("admin", f"arn:aws:iam::{ACCOUNT}:user/admin", access_keys=(("AKIAADMIN", "Active"),)),
        User(
            "alice",
            f"arn:aws:iam::{ACCOUNT}:user/alice",
            access_keys=(("AKIAALICE1", "Active"), ("AKIAALICE2", "Inactive")),
        ),
    ),
    profile=Profile("pocketcloud", "AKIAADMIN", "admin"),
    roles=(BLOG_ROLE, CI_ROLE),
    instance_profiles=(
        InstanceProfile("blog-app", PROFILE_ARN, "blog-app"),
        InstanceProfile("spare", f"arn:aws:iam::{ACCOUNT}:instance-profile/spare"),
    ),
    associations=(
        Association(WEB.instance_id, "iip-assoc-1", PROFILE_ARN, "blog-app", "blog-app"),
        Association(
            SPARE.instance_id,
            "iip-assoc-2",
            f"arn:aws:iam::{ACCOUNT}:instance-profile/spare",
            "spare",
        ),
        Association(
            LOST.instance_id, "iip-assoc-3", f"arn:aws:iam::{ACCOUNT}:instance-profile/gone"
        ),
    ),
)
IMDS = (
    "ssh -i /home/u/.ssh/blog.pem admin@10.9.0.5 curl -s "
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/blog-app"
)


def _text(lang: str, facts: TopicFacts = FACTS, words: tuple[str, ...] = ("aws-keys",)) -> str:
    return render(parse(list(words)), facts, lang).text()


def _data(lang: str = "en", facts: TopicFacts = FACTS) -> dict[str, Any]:
    """The --json answer, through a JSON round trip as the CLI prints it."""
    answer = render(parse(["aws-keys"]), facts, lang).to_json()
    return dict(json.loads(json.dumps(answer, ensure_ascii=False)))


class TestWords:
    """The topic's names, in English and Korean."""

    @pytest.mark.parametrize(
        "word",
        ["aws-keys", "AWS-KEYS", "access-keys", "access-key", "role", "roles", "액세스키", "역할"],
    )
    def test_aliases(self, word: str) -> None:
        """Each word leads to aws-keys."""
        assert parse([word]).topic == "aws-keys"


class TestThreeKinds:
    """What an access key, a key pair and a role are, and how deploy --bucket uses a role."""

    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("en", ("access key", "AKIA", "shown once", "never on a server", "key pair", ".pem",
                    "role", "instance profile", "ASIA", "metadata service", "AWS-related keys",
                    "<app>-app", "may use only that bucket", "No key on the server")),
            ("ko", ("액세스 키", "AKIA", "단 한 번만", "서버나 설정 파일, git에는", "키 페어",
                    ".pem", "역할", "인스턴스 프로파일", "ASIA", "메타데이터 서비스",
                    "AWS 관련 키", "<app>-app", "그 버킷만 쓸 수 있는", "서버에는 키가 없습니다")),
        ],
    )  # fmt: skip
    def test_explained(self, lang: str, words: tuple[str, ...]) -> None:
        """The three kinds are each explained, with the seed's settings JSON and what
        ``deploy --bucket`` sets up instead."""
        text = _text(lang)
        for word in words:
            assert word in text, word
        assert "pocketcloud deploy --bucket NAME" in text

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_missing_cloud(self, lang: str) -> None:
        """No cloud: the three kinds, then init and up; nothing live, no data."""
        answer = render(parse(["roles"]), TopicFacts(CloudSnapshot("/nowhere", "missing")), lang)
        assert "`pocketcloud init`" in answer.text()
        assert "ASIA" in answer.text()
        assert set(answer.data) == {"cloud"}


class TestNow:
    """The user's access keys, key pairs, roles, instance profiles and instances."""

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_access_keys(self, lang: str) -> None:
        """Each user's key ids with their status, and the CLI profile's key and user."""
        text = _text(lang)
        assert "admin  AKIAADMIN  Active" in text
        assert "alice  AKIAALICE1  Active" in text
        assert "alice  AKIAALICE2  Inactive" in text
        assert "pocketcloud" in text
        assert (
            "signs with AKIAADMIN (user admin)" if lang == "en" else "AKIAADMIN (사용자 admin)"
        ) in text

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_key_pairs(self, lang: str) -> None:
        """Key pairs with their fingerprints and the instances using them."""
        text = _text(lang)
        assert "blog  SHA256:blogfp" in text
        assert "i-00000000000000001, i-00000000000000002, i-00000000000000004" in text

    @pytest.mark.parametrize(
        ("lang", "blog_profile", "spare_profile"),
        [
            ("en", "blog-app  role blog-app  - given to {}", "spare  holds no role  - given to {}"),
            ("ko", "blog-app  역할 blog-app  - 붙은 인스턴스: {}",
             "spare  담긴 역할 없음  - 붙은 인스턴스: {}"),
        ],
    )  # fmt: skip
    def test_roles(self, lang: str, blog_profile: str, spare_profile: str) -> None:
        """Each role with its ARN, who its trust policy lets assume it (EC2 named as such),
        its policies and what they allow; each instance profile with its role (or none)
        and the instances it is given to."""
        text = _text(lang)
        assert f"blog-app  arn:aws:iam::{ACCOUNT}:role/blog-app" in text
        assert "ec2.amazonaws.com (EC2" in text
        assert "arn:aws:s3:::blog-media, arn:aws:s3:::blog-media/*" in text
        assert f"arn:aws:iam::{ACCOUNT}:user/alice" in text
        assert "ReadOnlyAccess" in text
        assert blog_profile.format(WEB.instance_id) in text
        assert spare_profile.format(SPARE.instance_id) in text

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_instance_with_role(self, lang: str) -> None:
        """An instance with a role shows its profile and role, and the try section gives
        the ssh line that reads the role's credentials from its metadata service."""
        text = _text(lang)
        if lang == "en":
            assert f"{WEB.instance_id} (running): instance profile blog-app, role blog-app" in text
        else:
            assert f"{WEB.instance_id} (running): 인스턴스 프로파일 blog-app, 역할 blog-app" in text
        assert f"  {IMDS}\n" in text
        assert "aws --profile pocketcloud iam list-roles" in text

    def test_instances_without_a_role(self) -> None:
        """No profile, a profile holding no role, a profile since deleted: each is said."""
        text = _text("en")
        assert f"{SHOP.instance_id} (running): no instance profile, no role" in text
        assert f"{SPARE.instance_id} (stopped): instance profile spare, which holds no role" in text
        gone = f"arn:aws:iam::{ACCOUNT}:instance-profile/gone"
        assert (
            f"{LOST.instance_id} (running): instance profile {gone}, which no longer exists" in text
        )

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_no_role_no_imds_line(self, lang: str) -> None:
        """Without an instance that has a role (or with the cloud down, when none runs)
        there is no metadata line to try; the IAM listings remain."""
        bare = replace(FACTS, associations=())
        down = replace(FACTS, cloud=replace(CLOUD, status="down", pid=None))
        for facts in (bare, down):
            text = _text(lang, facts)
            assert "security-credentials" not in text
            assert "aws --profile pocketcloud iam list-roles" in text
            assert "imds" not in render(parse(["role"]), facts, lang).data

    @pytest.mark.parametrize(
        ("lang", "blog", "shop"),
        [
            ("en", "blog on {}: the role blog-app, from its instance's metadata service",
             "shop on {}: none. The seed's way is keys in the settings; a role is safer: "
             "pocketcloud deploy --bucket NAME"),
            ("ko", "blog ({}): 역할 blog-app. 인스턴스의 메타데이터 서비스에서 받습니다",
             "shop ({}): 없음. 학습 노트의 방식은 설정 파일에 키를 넣는 것이지만, 역할이 더 "
             "안전합니다: pocketcloud deploy --bucket NAME"),
        ],
    )  # fmt: skip
    def test_apps(self, lang: str, blog: str, shop: str) -> None:
        """An app whose instance has a role gets its credentials from that role; one
        without has none, and the text says a role is safer than the seed's keys."""
        text = _text(lang)
        assert blog.format(WEB.instance_id) in text
        assert shop.format(SHOP.instance_id) in text

    def test_nothing_yet(self) -> None:
        """No key, role, instance or app: each section says so, with what to run."""
        text = _text("en", TopicFacts(CLOUD))
        assert "iam create-access-key --user-name <user>" in text
        assert "No key pair yet." in text
        assert "`pocketcloud deploy --bucket NAME` makes one" in text
        assert "run-instances" in text
        assert "No app is deployed" in text


class TestJson:
    """``--json``: the same facts as data; no secret, as the facts hold none."""

    def test_keys(self) -> None:
        """The data has every section, in the same words as the text."""
        facts = _data()["facts"]
        assert set(facts) == {
            "cloud",
            "access_keys",
            "profile",
            "key_pairs",
            "roles",
            "instance_profiles",
            "instances",
            "apps",
            "imds",
        }
        assert facts["access_keys"][0] == {
            "user": "admin",
            "access_key_id": "AKIAADMIN",
            "status": "Active",
        }
        assert facts["profile"]["access_key_id"] == "AKIAADMIN"
        assert facts["key_pairs"][0]["instance_ids"][0] == WEB.instance_id
        blog = facts["roles"][0]
        assert (blog["name"], blog["trusted"]) == ("blog-app", ["ec2.amazonaws.com"])
        assert (blog["instance_profiles"], blog["instance_ids"]) == (
            ["blog-app"],
            [WEB.instance_id],
        )
        assert facts["instance_profiles"][1] == {
            "name": "spare",
            "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/spare",
            "role": None,
            "instance_ids": [SPARE.instance_id],
        }

    def test_instances_apps_and_imds(self) -> None:
        """Each instance's association (nulls without one), each app's credentials ("role"
        or "none"), and the metadata line as run."""
        facts = _data("ko")["facts"]
        web, shop = facts["instances"][:2]
        assert (web["profile"], web["role"], web["association_id"]) == (
            "blog-app",
            "blog-app",
            "iip-assoc-1",
        )
        assert (shop["profile"], shop["role"], shop["association_id"]) == (None, None, None)
        assert facts["apps"] == [
            {
                "app": "blog",
                "instance_id": WEB.instance_id,
                "role": "blog-app",
                "credentials": "role",
            },
            {"app": "shop", "instance_id": SHOP.instance_id, "role": None, "credentials": "none"},
        ]
        assert facts["imds"] == {"instance_id": WEB.instance_id, "role": "blog-app", "ssh": IMDS}
