"""The web console in headless Chromium against a live test cloud: what each user sees,
signing in and out, and the AWS API working beside it."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.plugin import clouds, instances
from tests.plugin.clouds import BIN, Server
from tests.plugin.instances import Machine, launch, perm, ssh_group

cloud = clouds.cloud  # a cloud of the module's own (its own prefix and subnet)
ec2 = clouds.ec2
image_id = instances.image_id
key = instances.key

#: Debian's chromium, never a downloaded build; nothing leaves the machine
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RELEASE = "20261202T120000-abc1234"
#: a stand-in for a deployed site: answers every GET with the release header nginx adds
SITE = f"""
import http.server
class Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"demo site"
        self.send_response(200)
        self.send_header("X-Pocketcloud-Release", "{RELEASE}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 80), Site).serve_forever()
"""
EC2_READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
DENY_INSTANCES = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "ec2:DescribeInstances", "Resource": "*"}],
}
ALLOW_INSTANCES = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), driven by Playwright."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def web_group(ec2: Any) -> str:
    """A security group admitting HTTP from anywhere."""
    group_id = str(ec2.create_security_group(GroupName="web", Description="web site")["GroupId"])
    ec2.authorize_security_group_ingress(
        GroupId=group_id, IpPermissions=[perm("tcp", 80, cidr="0.0.0.0/0")]
    )
    return group_id


@pytest.fixture(scope="module")
def site(ec2: Any, image_id: str, key: tuple[str, Path], web_group: str) -> Machine:
    """An instance tagged as the app "demo", serving a site on port 80 that names its
    release."""
    tags = [{"Key": "Name", "Value": "demo"}, {"Key": "pocketcloud:app", "Value": "demo"}]
    machine = launch(
        ec2,
        image_id,
        key,
        SecurityGroupIds=[ssh_group(ec2), web_group],
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    machine.ssh("cat > /tmp/site.py", stdin=SITE)
    machine.ssh("nohup python3 /tmp/site.py </dev/null >/tmp/site.log 2>&1 &")
    deadline = time.monotonic() + 20
    while "LISTEN" not in machine.ssh("ss -ltn 'sport = :80'"):
        assert time.monotonic() < deadline, machine.ssh("cat /tmp/site.log")
        time.sleep(0.1)
    return machine


@pytest.fixture(scope="module")
def closed(ec2: Any, image_id: str, key: tuple[str, Path]) -> Machine:
    """An instance tagged as the app "closed" whose groups admit SSH only."""
    tags = [{"Key": "pocketcloud:app", "Value": "closed"}]
    return launch(
        ec2, image_id, key, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}]
    )


def new_user(
    cloud: Server, name: str, managed: str | None = None, inline: dict[str, Any] | None = None
) -> tuple[str, str]:
    """An IAM user with a managed policy and/or an inline one; its access key and secret."""
    iam = cloud.client("iam")
    iam.create_user(UserName=name)
    if managed:
        iam.attach_user_policy(UserName=name, PolicyArn=managed)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
    made = iam.create_access_key(UserName=name)["AccessKey"]
    return made["AccessKeyId"], made["SecretAccessKey"]


@pytest.fixture(scope="module")
def reader(cloud: Server) -> tuple[str, str]:
    """A read-only EC2 user's access key."""
    return new_user(cloud, "reader", EC2_READ_ONLY)


@pytest.fixture(scope="module")
def blind(cloud: Server) -> tuple[str, str]:
    """A read-only EC2 user denied ec2:DescribeInstances."""
    return new_user(cloud, "blind", EC2_READ_ONLY, DENY_INSTANCES)


@pytest.fixture(scope="module")
def narrow(cloud: Server) -> tuple[str, str]:
    """A user allowed ec2:DescribeInstances and nothing else."""
    return new_user(cloud, "narrow", inline=ALLOW_INSTANCES)


def sign_in(page: Page, cloud: Server, key_id: str, secret: str) -> None:
    """Open the console, fill in the access key, submit."""
    page.goto(f"{cloud.endpoint}/console/")
    expect(page).to_have_url(f"{cloud.endpoint}/console/signin")
    page.fill("#access_key_id", key_id)
    page.fill("#secret", secret)
    page.click("#signin")


def admin(page: Page, cloud: Server) -> None:
    """Sign in as the cloud's admin and land on the overview."""
    sign_in(page, cloud, cloud.access_key_id, cloud.secret)
    expect(page).to_have_url(f"{cloud.endpoint}/console/")


def instance_row(page: Page, instance_id: str) -> Any:
    """The row of an instance in the overview's instances section."""
    return page.locator(f'#instances tr[data-instance-id="{instance_id}"]')


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in the test's artifacts; its path is printed."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    assert path.stat().st_size > 10_000
    return path


class TestAdmin:
    def test_overview_shows_every_list(
        self,
        cloud: Server,
        context: BrowserContext,
        site: Machine,
        web_group: str,
        key: tuple[str, Path],
        reader: tuple[str, str],
        tmp_path: Path,
    ) -> None:
        """Signed in as admin: the instance with its state, type and addresses, the group
        with its rule, the key pair and the users appear."""
        page = context.new_page()
        admin(page, cloud)
        expect(page.locator("#whoami")).to_contain_text("admin")
        row = instance_row(page, site.instance_id)
        expect(row.locator(".state")).to_have_text("running")
        expect(row.locator(".type")).to_have_text("t3.micro")
        expect(row.locator(".public-ip")).to_have_text(site.ip)
        described = cloud.client("ec2").describe_instances(InstanceIds=[site.instance_id])
        private = described["Reservations"][0]["Instances"][0]["PrivateIpAddress"]
        expect(row.locator(".private-ip")).to_have_text(private)
        group = page.locator(f'#security-groups tr[data-group-id="{web_group}"]')
        expect(group).to_contain_text("web")
        expect(group.locator("li.rule.inbound")).to_have_text("inbound: tcp 80 from 0.0.0.0/0")
        expect(page.locator(f'#key-pairs tr[data-key-name="{key[0]}"]')).to_be_visible()
        expect(page.locator('#users tr[data-user-name="admin"]')).to_be_visible()
        expect(page.locator('#users tr[data-user-name="reader"]')).to_be_visible()
        expect(page.locator(".aws-error")).to_have_count(0)
        screenshot(page, tmp_path, "console-overview")

    def test_overview_lists_roles_and_buckets(self, cloud: Server, context: BrowserContext) -> None:
        """A role and a bucket made through the API appear in the IAM roles and S3 buckets
        lists."""
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
                 "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}  # fmt: skip
        cloud.client("iam").create_role(
            RoleName="web-app", AssumeRolePolicyDocument=json.dumps(trust), Description="media"
        )
        cloud.client("s3").create_bucket(Bucket="console-media")
        page = context.new_page()
        admin(page, cloud)
        expect(page.locator('#roles tr[data-role-name="web-app"]')).to_contain_text("media")
        expect(page.locator('#buckets tr[data-bucket-name="console-media"]')).to_be_visible()

    def test_apps_page(
        self, cloud: Server, context: BrowserContext, site: Machine, tmp_path: Path
    ) -> None:
        """The apps page shows the tagged instance as app "demo": its URL, the release its
        site answers with, and explain reach's verdict for port 80 (nothing blocks)."""
        page = context.new_page()
        admin(page, cloud)
        page.click("#nav-apps")
        expect(page).to_have_url(f"{cloud.endpoint}/console/apps")
        row = page.locator('#apps tr[data-app="demo"]')
        expect(row.locator(".url a")).to_have_attribute("href", f"http://{site.ip}/")
        expect(row.locator(".release code")).to_have_text(RELEASE)
        expect(row.locator(".release .answer")).to_have_text("HTTP 200")
        verdict = row.locator(".verdict [data-layer]")
        expect(verdict).to_have_attribute("data-layer", "none")
        expect(verdict).to_have_class("ok")
        screenshot(page, tmp_path, "console-apps")

    def test_blocked_app_names_the_layer_and_fix(
        self, cloud: Server, context: BrowserContext, closed: Machine
    ) -> None:
        """An app whose groups do not admit port 80 gets no answer, and its verdict names
        the security-group layer with the authorize-security-group-ingress that fixes it."""
        page = context.new_page()
        admin(page, cloud)
        page.goto(f"{cloud.endpoint}/console/apps")
        row = page.locator('#apps tr[data-app="closed"]')
        expect(row.locator(".release .answer")).to_contain_text("no answer")
        expect(row.locator(".release code")).to_have_count(0)
        verdict = row.locator(".verdict [data-layer]")
        expect(verdict).to_have_attribute("data-layer", "security-group")
        expect(verdict).to_have_class("blocked")
        expect(row.locator(".verdict .fix")).to_contain_text("authorize-security-group-ingress")
        expect(row.locator(".verdict .fix")).to_contain_text("--port 80")

    def test_page_headers(self, cloud: Server, context: BrowserContext) -> None:
        """Pages forbid scripts, framing and caching; the stylesheet is served locally."""
        page = context.new_page()
        answer = page.goto(f"{cloud.endpoint}/console/signin")
        assert answer is not None
        headers = answer.headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        css = page.request.get(f"{cloud.endpoint}/console/static/water.min.css")
        assert css.ok
        assert "text/css" in css.headers["content-type"]


class TestIam:
    def test_read_only_user_sees_ec2_not_users(
        self, cloud: Server, context: BrowserContext, site: Machine, reader: tuple[str, str]
    ) -> None:
        """A user with AmazonEC2ReadOnlyAccess sees the instances, groups and key pairs;
        the IAM users section shows IAM's AccessDenied for iam:ListUsers instead."""
        page = context.new_page()
        sign_in(page, cloud, *reader)
        expect(page).to_have_url(f"{cloud.endpoint}/console/")
        expect(page.locator("#whoami")).to_contain_text("reader")
        expect(
            page.locator(f'#instances tr[data-instance-id="{site.instance_id}"]')
        ).to_be_visible()
        expect(page.locator("#security-groups tr[data-group-id]").first).to_be_visible()
        expect(page.locator("#key-pairs tr[data-key-name]").first).to_be_visible()
        error = page.locator("#users .aws-error")
        expect(error.locator(".error-code")).to_have_text("AccessDenied")
        expect(error).to_contain_text(
            "user/reader is not authorized to perform: iam:ListUsers on resource: *"
        )
        expect(page.locator("#users tr[data-user-name]")).to_have_count(0)

    def test_denied_user_sees_the_aws_error(
        self,
        cloud: Server,
        context: BrowserContext,
        site: Machine,
        blind: tuple[str, str],
        tmp_path: Path,
    ) -> None:
        """A user denied ec2:DescribeInstances sees EC2's UnauthorizedOperation with AWS's
        message in place of the instances (and of the apps), and the other lists."""
        page = context.new_page()
        sign_in(page, cloud, *blind)
        expect(page).to_have_url(f"{cloud.endpoint}/console/")
        error = page.locator("#instances .aws-error")
        expect(error.locator(".error-code")).to_have_text("UnauthorizedOperation")
        expect(error).to_contain_text("You are not authorized to perform this operation.")
        expect(error).to_contain_text("with an explicit deny")
        expect(page.locator("#instances tr[data-instance-id]")).to_have_count(0)
        expect(page.locator("#security-groups tr[data-group-id]").first).to_be_visible()
        screenshot(page, tmp_path, "console-denied")
        page.click("#nav-apps")
        expect(page.locator("#apps .aws-error .error-code")).to_have_text("UnauthorizedOperation")
        # the API says the same to the same user
        client = cloud.client("ec2", *blind)
        with pytest.raises(client.exceptions.ClientError) as raised:
            client.describe_instances()
        assert raised.value.response["Error"]["Code"] == "UnauthorizedOperation"

    def test_verdict_withheld_without_describe_security_groups(
        self, cloud: Server, context: BrowserContext, site: Machine, narrow: tuple[str, str]
    ) -> None:
        """A user who may describe instances but not security groups sees the app, its URL
        and release, but not the verdict (it quotes group rules): the page says which
        permission it needs."""
        page = context.new_page()
        sign_in(page, cloud, *narrow)
        expect(page).to_have_url(f"{cloud.endpoint}/console/")
        expect(page.locator("#security-groups .aws-error .error-code")).to_have_text(
            "UnauthorizedOperation"
        )
        page.goto(f"{cloud.endpoint}/console/apps")
        row = page.locator('#apps tr[data-app="demo"]')
        expect(row.locator(".release code")).to_have_text(RELEASE)
        expect(row.locator(".verdict [data-layer]")).to_have_count(0)
        expect(row.locator(".verdict")).to_contain_text(
            "the verdict needs ec2:DescribeSecurityGroups (UnauthorizedOperation)"
        )


class TestSession:
    def test_wrong_secret_cannot_sign_in(self, cloud: Server, context: BrowserContext) -> None:
        """A wrong secret (or an unknown key) is refused with AuthFailure and no session:
        the console still sends the browser to sign in."""
        page = context.new_page()
        for key_id, secret in (
            (cloud.access_key_id, cloud.secret[:-1] + ("x" if cloud.secret[-1] != "x" else "y")),
            ("AKIANOSUCHKEY0000000", cloud.secret),
        ):
            sign_in(page, cloud, key_id, secret)
            expect(page.locator("#signin-error .error-code")).to_have_text("AuthFailure")
            expect(page.locator("#signin-error")).to_contain_text(
                "AWS was not able to validate the provided access credentials"
            )
            page.goto(f"{cloud.endpoint}/console/")
            expect(page).to_have_url(f"{cloud.endpoint}/console/signin")
        assert not [c for c in context.cookies() if c["name"] == "pocketcloud_console"]

    def test_cookie_is_signed_httponly_samesite(
        self, cloud: Server, context: BrowserContext
    ) -> None:
        """The session cookie is HttpOnly, SameSite=Strict, scoped to /console, holds no
        secret, and a tampered cookie is no session."""
        page = context.new_page()
        admin(page, cloud)
        (cookie,) = [c for c in context.cookies() if c["name"] == "pocketcloud_console"]
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/console"
        assert cloud.secret not in cookie["value"]
        assert cloud.access_key_id not in cookie["value"]
        context.clear_cookies()
        context.add_cookies([{**cookie, "value": "x" + cookie["value"][1:]}])  # type: ignore[list-item]
        page.goto(f"{cloud.endpoint}/console/")
        expect(page).to_have_url(f"{cloud.endpoint}/console/signin")

    def test_sign_out_ends_the_session(
        self, cloud: Server, browser: Browser, context: BrowserContext
    ) -> None:
        """Signing out leads back to sign-in, and the old cookie, replayed in another
        browser, no longer opens the console: the server ended the session."""
        page = context.new_page()
        admin(page, cloud)
        (cookie,) = [c for c in context.cookies() if c["name"] == "pocketcloud_console"]
        other = browser.new_context()
        try:
            other.add_cookies([cookie])  # type: ignore[list-item]
            copy = other.new_page()
            copy.goto(f"{cloud.endpoint}/console/")
            expect(copy).to_have_url(f"{cloud.endpoint}/console/")  # the copy works...
            page.click("#signout")
            expect(page).to_have_url(f"{cloud.endpoint}/console/signin")
            page.goto(f"{cloud.endpoint}/console/")
            expect(page).to_have_url(f"{cloud.endpoint}/console/signin")
            copy.goto(f"{cloud.endpoint}/console/")
            expect(copy).to_have_url(f"{cloud.endpoint}/console/signin")  # ...until sign-out
        finally:
            other.close()

    def test_deactivated_key_ends_the_session(self, cloud: Server, context: BrowserContext) -> None:
        """A session whose access key is made Inactive ends at the next page."""
        iam = cloud.client("iam")
        iam.create_user(UserName="leaver")
        iam.attach_user_policy(UserName="leaver", PolicyArn=EC2_READ_ONLY)
        made = iam.create_access_key(UserName="leaver")["AccessKey"]
        page = context.new_page()
        sign_in(page, cloud, made["AccessKeyId"], made["SecretAccessKey"])
        expect(page).to_have_url(f"{cloud.endpoint}/console/")
        iam.update_access_key(UserName="leaver", AccessKeyId=made["AccessKeyId"], Status="Inactive")
        page.reload()
        expect(page).to_have_url(f"{cloud.endpoint}/console/signin")


class TestBeside:
    def test_aws_api_works_beside_the_console(
        self, cloud: Server, context: BrowserContext, site: Machine
    ) -> None:
        """With a console session open on the same port, boto3's EC2, IAM and STS calls
        still work, and the API still answers an unsigned request in AWS's format."""
        page = context.new_page()
        admin(page, cloud)
        ec2 = cloud.client("ec2")
        found = ec2.describe_instances(InstanceIds=[site.instance_id])["Reservations"]
        assert found[0]["Instances"][0]["State"]["Name"] == "running"
        assert "admin" in [u["UserName"] for u in cloud.client("iam").list_users()["Users"]]
        assert cloud.client("sts").get_caller_identity()["Arn"].endswith(":user/admin")
        page.reload()
        expect(
            page.locator(f'#instances tr[data-instance-id="{site.instance_id}"]')
        ).to_be_visible()
        request = urllib.request.Request(f"{cloud.endpoint}/?Action=DescribeRegions")  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=5)  # noqa: S310 (http, the test server)
        assert b"MissingAuthenticationToken" in raised.value.read()


class TestCommand:
    def test_console_prints_the_url(self, cloud: Server, context: BrowserContext) -> None:
        """`pocketcloud console` prints the running cloud's console URL (and nothing else);
        the URL opens the sign-in page."""
        done = subprocess.run(
            [str(BIN / "pocketcloud"), "console"],
            env=cloud.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{cloud.endpoint}/console/\n"
        assert done.stderr == ""
        page = context.new_page()
        page.goto(done.stdout.strip())
        expect(page.locator("#signin-form")).to_be_visible()
