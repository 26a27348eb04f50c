"""``pocketcloud explain <topic>`` on a live test cloud: every topic names the live values
(instance id, listening address and process, rule id, URL, key fingerprint, policies,
releases) in English and in Korean; an unknown topic lists the known ones (exit 2).

The module's cloud has one instance, ``web``, in a group admitting TCP 8080 from anywhere;
inside it Python's http.server listens on 0.0.0.0:8080 and on 127.0.0.1:8081.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import BIN, Server, cloud, ec2, make_server
from tests.plugin.instances import Machine, image_id, key, launch, perm, ssh_group

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")
__all__ = ["cloud", "ec2", "image_id", "key"]
RELEASES = ("20260101-120000-aaaaaaa", "20260102-120000-bbbbbbb")


def explain(
    cloud: Server, *words: str, code: int = 0, **env: str
) -> subprocess.CompletedProcess[str]:
    """``pocketcloud explain <words> --state-dir <the cloud's>`` as its user runs it."""
    done = subprocess.run(
        [str(BIN / "pocketcloud"), "explain", *words, "--state-dir", str(cloud.state_dir)],
        env={**cloud.env, "AWS_PROFILE": "pocketcloud-test", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def text(cloud: Server, *words: str, lang: str = "en", **env: str) -> str:
    """The explanation as printed."""
    return explain(cloud, *words, "--lang", lang, **env).stdout


def data(cloud: Server, *words: str, lang: str = "en") -> dict[str, Any]:
    """The explanation as --json gives it."""
    return dict(json.loads(explain(cloud, *words, "--json", "--lang", lang).stdout))


@pytest.fixture(scope="module")
def web_group(ec2: Any) -> str:
    """A group admitting TCP 8080 from anywhere."""
    gid = str(ec2.create_security_group(GroupName="web", Description="web")["GroupId"])
    ec2.authorize_security_group_ingress(
        GroupId=gid, IpPermissions=[perm("tcp", 8080, cidr="0.0.0.0/0")]
    )
    return gid


@pytest.fixture(scope="module")
def rule_8080(ec2: Any, web_group: str) -> str:
    """The id of the rule admitting 8080."""
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [web_group]}]
    )["SecurityGroupRules"]
    return str(next(r["SecurityGroupRuleId"] for r in rules if r.get("FromPort") == 8080))


@pytest.fixture(scope="module")
def web(ec2: Any, image_id: str, key: tuple[str, Path], web_group: str) -> Machine:
    """The instance: http.server on 0.0.0.0:8080 and on 127.0.0.1:8081."""
    m = launch(ec2, image_id, key, SecurityGroupIds=[web_group, ssh_group(ec2)])
    for port, bind in ((8080, "0.0.0.0"), (8081, "127.0.0.1")):  # noqa: S104
        m.ssh(f"cd /tmp; nohup python3 -m http.server {port} --bind {bind} </dev/null "
              ">/dev/null 2>&1 &")  # fmt: skip
        m.ssh(f"for i in $(seq 50); do ss -Hltn | grep -q ':{port} ' && exit 0; sleep 0.1; done")
    return m


class TestRunserver:
    """``explain runserver 0:8080``: the bind, who listens, which rule admits, the URL."""

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_text(self, cloud: Server, web: Machine, rule_8080: str, lang: str) -> None:
        """The instance's listener on 0.0.0.0:8080 with its process, the rule admitting
        8080 and the URL that answers; the loopback-only listener on 8081 is named so."""
        out = text(cloud, "runserver", "0:8080", lang=lang)
        assert "0.0.0.0" in out  # noqa: S104
        assert f"{web.instance_id} 0.0.0.0:8080  python3 (pid " in out
        assert rule_8080 in out
        assert f"http://{web.ip}:8080/" in out
        assert ("answers now" if lang == "en" else "지금 응답합니다") in out
        loopback = text(cloud, "runserver 8081", lang=lang)
        assert f"{web.instance_id} 127.0.0.1:8081  python3 (pid " in loopback
        assert ("loopback only" if lang == "en" else "루프백 전용") in loopback

    def test_json(self, cloud: Server, web: Machine, rule_8080: str) -> None:
        """--json: the parsed bind, the listeners, the admitting rule and each URL's status
        as data; 8081 (bound to 127.0.0.1) does not answer."""
        facts = data(cloud, "./manage.py", "runserver", "0:8080")["facts"]
        assert facts["bind"]["address"] == "0.0.0.0"  # noqa: S104
        assert facts["bind"]["port"] == 8080
        assert rule_8080 in [r["rule_id"] for r in facts["rules"]]  # (default: all from members)
        url = next(u for u in facts["urls"] if u["instance_id"] == web.instance_id)
        assert url == {
            "instance_id": web.instance_id,
            "url": f"http://{web.ip}:8080/",
            "status": "answers",
            "rule_ids": [rule_8080],
        }
        other = data(cloud, "runserver", "8081")["facts"]
        assert other["bind"]["address"] == "127.0.0.1"
        assert [u["status"] for u in other["urls"]] == ["loopback"]

    def test_refused_argument(self, cloud: Server) -> None:
        """An argument Django refuses exits 2 with its message."""
        done = explain(cloud, "runserver", "0:http", code=2)
        assert "not a valid port number or address:port pair" in done.stderr


class TestTopics:
    """Every other topic, in both languages, with the cloud's live values."""

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_port_and_listening(self, cloud: Server, web: Machine, lang: str) -> None:
        """The instance's sockets (sshd, both http.servers) and the cloud's API and
        metadata ports on this host."""
        for topic in ("port", "listening"):
            out = text(cloud, topic, lang=lang)
            assert f"{web.instance_id} ({web.ip}):" in out
            assert f"127.0.0.1:{cloud.port}" in out
            assert f"169.254.1.1:{cloud.port}" in out
        ports = text(cloud, "port", lang=lang)
        assert f"{web.instance_id} ({web.ip}): 22 sshd, 8080 python3, 8081 python3" in ports
        listening = text(cloud, "listening", lang=lang)
        assert "0.0.0.0:22  sshd (pid " in listening
        assert "0.0.0.0:8080  python3 (pid " in listening
        assert "127.0.0.1:8081  python3 (pid " in listening

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_security_group(
        self, cloud: Server, web: Machine, web_group: str, rule_8080: str, lang: str
    ) -> None:
        """The group's rules by id, the instances it guards, and the nft chain it became
        as the kernel has it."""
        out = text(cloud, "security-group", "web", lang=lang)
        assert web_group in out
        assert rule_8080 in out
        assert web.instance_id in out
        chain = "in_" + web.instance_id.replace("-", "_")
        assert f"inet {cloud.prefix}_fw" in out
        assert chain in out
        assert "    meta nfproto ipv4 tcp dport 8080 return" in out

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_key_pair(self, cloud: Server, ec2: Any, web: Machine, lang: str) -> None:
        """The key pair with its fingerprint and instance; chmod 400 and ssh -i lines for
        the running instance."""
        found = ec2.describe_key_pairs(KeyNames=["test-key"])["KeyPairs"][0]
        out = text(cloud, "key-pair", lang=lang)
        assert found["KeyFingerprint"] in out
        assert found["KeyPairId"] in out
        assert web.instance_id in out
        assert "chmod 400 ~/.ssh/test-key.pem" in out
        assert f"ssh -i ~/.ssh/test-key.pem admin@{web.ip}" in out

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_iam(self, cloud: Server, tmp_path: Path, lang: str) -> None:
        """Users and their policies; the profile's user and what it may do: the admin may
        everything, a read-only user describes but may not launch."""
        iam = cloud.client("iam")
        if not any(u["UserName"] == "alice" for u in iam.list_users()["Users"]):
            iam.create_user(UserName="alice")
            iam.attach_user_policy(
                UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
            )
        made = iam.create_access_key(UserName="alice")["AccessKey"]
        out = text(cloud, "iam", lang=lang)
        assert "user/admin" in out
        assert "AdministratorAccess" in out
        assert "AmazonEC2ReadOnlyAccess" in out
        assert made["AccessKeyId"] in out
        assert made["SecretAccessKey"] not in out
        admin = data(cloud, "iam", lang=lang)["facts"]["profile"]
        assert admin["user"] == "admin"
        assert {d for _, d in admin["decisions"]} == {"allow"}
        creds = configparser.RawConfigParser()
        creds["alice"] = {
            "aws_access_key_id": made["AccessKeyId"],
            "aws_secret_access_key": made["SecretAccessKey"],
        }
        with (tmp_path / "credentials").open("w") as handle:
            creds.write(handle)
        env = {"AWS_PROFILE": "alice", "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")}
        alice = text(cloud, "iam", lang=lang, **env)
        answer = json.loads(explain(cloud, "iam", "--json", **env).stdout)
        decisions = dict(answer["facts"]["profile"]["decisions"])
        assert decisions["ec2:DescribeInstances"] == "allow"
        assert decisions["ec2:RunInstances"] == "implicit_deny"
        assert made["AccessKeyId"] in alice

    def test_aws_keys(self, cloud: Server, ec2: Any, web: Machine) -> None:
        """A role EC2 may assume, in an instance profile given to the instance: the role,
        its trust and its instance are shown in both languages, with the admin's key id;
        the ssh line the try section gives really returns the role's temporary ASIA
        credentials from the instance's metadata service, whose secret explain never shows."""
        iam = cloud.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName="explain-app", AssumeRolePolicyDocument=json.dumps(trust))
        iam.create_instance_profile(InstanceProfileName="explain-app")
        iam.add_role_to_instance_profile(InstanceProfileName="explain-app", RoleName="explain-app")
        linked = ec2.associate_iam_instance_profile(
            IamInstanceProfile={"Name": "explain-app"}, InstanceId=web.instance_id
        )["IamInstanceProfileAssociation"]
        try:
            admin_key = iam.list_access_keys(UserName="admin")["AccessKeyMetadata"][0]
            for lang in ("en", "ko"):
                out = text(cloud, "aws-keys", lang=lang)
                assert "explain-app" in out
                assert "ec2.amazonaws.com" in out
                assert admin_key["AccessKeyId"] in out
                assert f"{web.instance_id} (running): " in out
            imds = data(cloud, "roles")["facts"]["imds"]
            url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/explain-app"
            assert imds["ssh"].endswith(f"admin@{web.ip} curl -s {url}")
            creds = json.loads(web.ssh(imds["ssh"].split(f"admin@{web.ip} ", 1)[1]))
            assert creds["AccessKeyId"].startswith("ASIA")
            again = text(cloud, "aws-keys") + json.dumps(data(cloud, "aws-keys"))
            assert creds["SecretAccessKey"] not in again
        finally:
            ec2.disassociate_iam_instance_profile(AssociationId=linked["AssociationId"])
            iam.remove_role_from_instance_profile(
                InstanceProfileName="explain-app", RoleName="explain-app"
            )
            iam.delete_instance_profile(InstanceProfileName="explain-app")
            iam.delete_role(RoleName="explain-app")

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_instance(self, cloud: Server, web: Machine, lang: str) -> None:
        """The instance with state and address; its netns, veth, cgroup and init pid."""
        out = text(cloud, "instance", lang=lang)
        assert f"{web.instance_id}  running  t3.micro" in out
        suffix = web.instance_id[-8:]
        assert f"{cloud.prefix}-{suffix}" in out
        assert f"{cloud.prefix}{suffix}h" in out
        assert f"pocketcloud/{cloud.prefix}/{web.instance_id}" in out
        pid = (cloud.state_dir / "instances" / web.instance_id / "pid").read_text().strip()
        assert f"init pid {pid}" in out

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_hosting(self, cloud: Server, ec2: Any, web: Machine, lang: str) -> None:
        """An instance tagged pocketcloud:app is an app: its URL and releases as its
        /srv/app holds them, the one `current` points at marked."""
        assert "pocketcloud deploy" in text(cloud, "hosting", lang=lang)  # none yet
        ec2.create_tags(
            Resources=[web.instance_id], Tags=[{"Key": "pocketcloud:app", "Value": "demo"}]
        )
        base = "/srv/app/demo"
        for release in RELEASES:
            meta = json.dumps(
                {"id": release, "created": f"{release[:8]}T12:00", "mode": "gunicorn"}
            )
            folder = f"{base}/releases/{release}"
            web.ssh(f"sudo mkdir -p {folder} && echo '{meta}' | sudo tee {folder}/.release.json")
        web.ssh(f"sudo ln -sfn releases/{RELEASES[0]} {base}/current")
        try:
            out = text(cloud, "hosting", lang=lang)
            assert "demo" in out
            assert web.instance_id in out
            assert f"http://{web.ip}/" in out
            assert f"→ {RELEASES[0]}" in out
            assert f"  {RELEASES[1]}" in out
        finally:
            ec2.delete_tags(Resources=[web.instance_id], Tags=[{"Key": "pocketcloud:app"}])

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_every_topic_json(self, cloud: Server, web: Machine, lang: str) -> None:
        """--json of every topic: its lines and facts, the cloud up."""
        for topic in ("port", "listening", "runserver 0:8080", "security-group", "key-pair",
                      "iam", "aws-keys", "instance", "hosting"):  # fmt: skip
            got = data(cloud, topic, lang=lang)
            assert got["lang"] == lang
            assert got["explanation"]
            assert got["facts"]["cloud"]["status"] == "up"

    def test_unknown_topic(self, cloud: Server) -> None:
        """An unknown topic exits 2 and lists the known ones."""
        done = explain(cloud, "firewalls", code=2)
        for topic in ("port", "listening", "runserver 0:8080", "security-group", "key-pair",
                      "iam", "aws-keys", "instance", "hosting"):  # fmt: skip
            assert topic in done.stderr

    def test_locale(self, cloud: Server, web: Machine) -> None:
        """Without --lang, a Korean locale gives Korean, another English."""
        korean = explain(cloud, "port", LANG="ko_KR.UTF-8", LC_ALL="", LC_MESSAGES="").stdout
        assert "포트" in korean
        english = explain(cloud, "port", LANG="en_US.UTF-8", LC_ALL="", LC_MESSAGES="").stdout
        assert "A port is a 16-bit number" in english


class TestCloudState:
    """A cloud that is not there, or not running, is said to be so, with what to run."""

    def test_missing(self, tmp_path: Path) -> None:
        """No state directory: init and up."""
        done = subprocess.run(
            [str(BIN / "pocketcloud"), "explain", "port", "--lang", "en",
             "--state-dir", str(tmp_path / "none")],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert "`pocketcloud init`" in done.stdout
        assert "`pocketcloud up`" in done.stdout

    def test_unreadable(self, tmp_path: Path) -> None:
        """A state database that cannot be read is one line and exit 1, no traceback."""
        (tmp_path / "pocketcloud.db").write_bytes(b"not a database" * 100)
        done = subprocess.run(
            [str(BIN / "pocketcloud"), "explain", "iam", "--state-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert f"cannot read {tmp_path / 'pocketcloud.db'}" in done.stderr
        assert "Traceback" not in done.stderr

    def test_down(self, tmp_path: Path) -> None:
        """A cloud initialized but not started: up; no instance: how to launch one."""
        stopped = make_server(tmp_path)
        try:
            for lang, expect in (("en", "is not running"), ("ko", "꺼져 있습니다")):
                out = text(stopped, "runserver", "0:8080", lang=lang)
                assert expect in out
                assert "`pocketcloud up`" in out
                assert "run-instances" in out
        finally:
            shutil.rmtree(stopped.state_dir.parent)  # never started: no host objects
