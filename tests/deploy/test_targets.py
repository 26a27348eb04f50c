"""One deploy code path, three kinds of target: the cloud through a named AWS profile
(``aws``, pointed here at pocketcloud's endpoint, as real EC2 would be), any SSH host
(``ssh://``, no cloud calls at all), and the seed's own ``runserver 0:8080``; several
apps on one server, each its own nginx server block; destroy removes what deploy made.
"""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.plugin.clouds import PROFILE, Server
from tests.plugin.hosting import User, get, wait_for

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
AWS_PROFILE = "fake-aws"
NO_CLOUD: dict[str, Any] = {
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
}


@pytest.fixture(scope="module")
def aws_user(user: User) -> User:
    """The developer with a second, ordinary named profile: keys and an endpoint_url in
    ~/.aws, nothing pocketcloud-specific in the command line."""
    config, creds = configparser.RawConfigParser(), configparser.RawConfigParser()
    config.read(user.env["AWS_CONFIG_FILE"])
    creds.read(user.env["AWS_SHARED_CREDENTIALS_FILE"])
    config[f"profile {AWS_PROFILE}"] = dict(config[f"profile {PROFILE}"])
    creds[AWS_PROFILE] = dict(creds[PROFILE])
    with open(user.env["AWS_CONFIG_FILE"], "w") as out:
        config.write(out)
    with open(user.env["AWS_SHARED_CREDENTIALS_FILE"], "w") as out:
        creds.write(out)
    return user


@pytest.fixture(scope="module")
def first(aws_user: User, project: Path) -> dict[str, str]:
    """App ``first`` deployed with ``--target aws`` and a named profile; its record."""
    out = aws_user.run(
        "deploy", project, "--target", "aws", "--profile", AWS_PROFILE, "--app", "first",
        "--image-name", "debian-12", "--image-owner", "amazon",
    )  # fmt: skip
    assert "aws --profile fake-aws ec2 run-instances" in out
    return aws_user.record("first")


class TestAwsTarget:
    """``--target aws``: the same boto3 code, the endpoint from the profile."""

    def test_serves(self, first: dict[str, str]) -> None:
        """The site answers on the instance's address through nginx."""
        assert "Hello from mysite" in wait_for(first["host"], first["host"])
        assert first["target"] == "aws"
        assert first["profile"] == AWS_PROFILE


class TestSshTarget:
    """``--target ssh://admin@host``: a second app on the first one's server."""

    def test_second_app_beside_the_first(
        self, user: User, project: Path, first: dict[str, str]
    ) -> None:
        """Deployed with no AWS configuration at all (so no cloud call can succeed), app
        ``second`` answers for its own name while ``first`` keeps answering for the address;
        each has its own nginx server block and folder."""
        key = str(user.home / ".ssh" / "first.pem")
        out = user.run(
            "deploy", project, "--target", f"ssh://admin@{first['host']}", "-i", key,
            "--app", "second", "--domain", "second.test", **NO_CLOUD,
        )  # fmt: skip
        assert "aws " not in out
        second = wait_for(first["host"], "second.test")
        one = wait_for(first["host"], first["host"])
        release = re.compile(r"release <code>([^<]+)</code>")
        current = "basename $(readlink /srv/app/{}/current)"
        assert release.findall(second) == [user.ssh("second", current.format("second")).strip()]
        assert release.findall(one) == [user.ssh("second", current.format("first")).strip()]
        sites = user.ssh("second", "ls /etc/nginx/sites-enabled").split()
        assert {"pocketcloud-first.conf", "pocketcloud-second.conf"} <= set(sites)
        assert get(first["host"], "unknown.test")[0] == 0  # default_server: closed, no answer

    def test_runserver_needs_its_port_opened(
        self, user: User, cloud: Server, project: Path, first: dict[str, str]
    ) -> None:
        """The seed's ``runserver 0:8080`` (labelled as the development server) answers
        on the server at once, but from outside only after the group admits 8080."""
        key = str(user.home / ".ssh" / "first.pem")
        out = user.run(
            "deploy", project, "--target", f"ssh://admin@{first['host']}", "-i", key,
            "--app", "dev", "--runserver", "--domain", "dev.test", **NO_CLOUD,
        )  # fmt: skip
        assert "python manage.py runserver 0:8080" in out
        assert "does its security group admit port 8080?" in out
        assert "GET http://127.0.0.1:8080/healthz → 200" in out
        assert get(first["host"], "dev.test", port=8080, timeout=2)[0] == 0
        ec2 = cloud.client("ec2")
        group = ec2.describe_security_groups(GroupNames=["first-web"])["SecurityGroups"][0]
        ec2.authorize_security_group_ingress(
            GroupId=group["GroupId"],
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                            "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )  # fmt: skip
        assert "Hello from mysite" in wait_for(first["host"], "dev.test", port=8080, timeout=10)
        shown = user.run(
            "deploy", project, "--target", f"ssh://admin@{first['host']}", "-i", key,
            "--app", "dev", "--runserver", "--domain", "dev.test", "--force", **NO_CLOUD,
        )  # fmt: skip
        assert "development server" in shown

    def test_stock_startproject_layout(
        self, user: User, project: Path, first: dict[str, str]
    ) -> None:
        """A project deploy did not scaffold — ``django-admin startproject`` as is, no
        requirements.txt, no /healthz, DEBUG True and a made-up SECRET_KEY in its
        settings — is found by its manage.py, gets Django and gunicorn, runs with
        production settings (DEBUG off), and nginx serves its admin's static files."""
        stock = user.home / "stock"
        stock.mkdir()
        subprocess.run(
            [str(project / ".venv" / "bin" / "django-admin"), "startproject", "stock", str(stock)],
            check=True, capture_output=True,
        )  # fmt: skip
        key = str(user.home / ".ssh" / "first.pem")
        out = user.run(
            "deploy", stock, "--target", f"ssh://admin@{first['host']}", "-i", key,
            "--domain", "stock.test", **NO_CLOUD,
        )  # fmt: skip
        assert "GET http://localhost/healthz → 404" in out  # it runs, but has no such page
        assert get(first["host"], "stock.test", "/admin/login/")[0] == 200
        status, css = get(first["host"], "stock.test", "/static/admin/css/base.css")
        assert status == 200
        assert "body" in css
        status, page = get(first["host"], "stock.test", "/no-such-page/")
        assert status == 404
        assert "DEBUG = True" not in page  # Django's debug 404 page would say so
        # in the project's folder (or below it), commands act on the app deployed from it
        here = user.run("app", "status", cwd=stock / "stock", **NO_CLOUD)
        assert re.search(r"^app\s+stock \(gunicorn\)$", here, re.M), here
        elsewhere = user.fails("app", "status", cwd=user.home, **NO_CLOUD)
        assert "say which with --app" in elsewhere
        assert re.search(rf"^\s+stock\s+{stock}$", elsewhere, re.M), elsewhere
        user.run("destroy", "--yes", cwd=stock, **NO_CLOUD)
        assert not (user.home / ".config" / "pocketcloud" / "apps" / "stock.json").exists()

    def test_destroy_over_ssh(self, user: User, first: dict[str, str]) -> None:
        """destroy of an ssh-target app removes its servers, site and folder, and
        nothing of the other apps."""
        user.run("destroy", "--app", "second", "--yes", **NO_CLOUD)
        assert get(first["host"], "second.test")[0] == 0
        left = user.ssh("first", "ls /srv/app; ls /etc/nginx/sites-enabled").split()
        assert "second" not in left
        assert "pocketcloud-second.conf" not in left
        assert "Hello from mysite" in wait_for(first["host"], first["host"])


class TestDestroy:
    """destroy of a cloud-target app removes its instance, group, key pair and key file."""

    def test_destroy_asks_first(self, user: User, first: dict[str, str]) -> None:
        """Without --yes destroy asks; any answer but yes removes nothing."""
        out = user.fails("destroy", "--app", "first")
        assert "remove app first" in out
        assert "Hello from mysite" in wait_for(first["host"], first["host"])

    def test_destroy_cloud_app(self, user: User, cloud: Server, first: dict[str, str]) -> None:
        """After asking (here: --yes), everything deploy created is gone."""
        user.run("destroy", "--app", "dev", "--yes", **NO_CLOUD)
        out = user.run("destroy", "--app", "first", "--yes")
        assert "terminate-instances" in out
        ec2 = cloud.client("ec2")
        state = ec2.describe_instances(InstanceIds=[first["instance_id"]])
        assert state["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
        with pytest.raises(ClientError):
            ec2.describe_security_groups(GroupNames=["first-web"])
        assert (
            ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["first"]}])["KeyPairs"]
            == []
        )
        assert not (user.home / ".ssh" / "first.pem").exists()
        assert "no app 'first'" in user.fails("app", "status", "--app", "first")
