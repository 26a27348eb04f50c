"""``pocketcloud deploy --bucket``: the app's media in S3 through the instance's role — the
seed's "AWS-related keys", done the safe way. End to end on a real instance: a file
uploaded through the site's /upload/ form lands in the bucket, and no access key is on
the server.
"""

from __future__ import annotations

import html
import http.client
import json
import re
import secrets
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from pocketcloud.deploy.layout import RELEASE_SETTINGS
from tests.plugin.clouds import Server
from tests.plugin.hosting import User, deploy

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
APP = "mysite"
BUCKET = f"media-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def first(user: User, project: Path) -> str:
    """The first deploy with a bucket: its output."""
    return deploy(user, project, "--bucket", BUCKET)


def upload(address: str, host: str, name: str, content: bytes) -> tuple[int, str]:
    """The /upload/ form as a browser sends it: GET (the CSRF cookie and token), then a
    multipart POST with both. (status, page)."""
    conn = http.client.HTTPConnection(address, 80, timeout=30)
    try:
        return _upload(conn, host, name, content)
    finally:
        conn.close()


def _upload(
    conn: http.client.HTTPConnection, host: str, name: str, content: bytes
) -> tuple[int, str]:
    conn.request("GET", "/upload/", headers={"Host": host})
    page = conn.getresponse()
    form = page.read().decode()
    cookie = page.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert page.status == 200, form
    assert token, form
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f'{token[1]}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "Host": host,
        "Cookie": cookie,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    conn.request("POST", "/upload/", body=body, headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.read().decode()


def test_an_upload_lands_in_the_bucket(user: User, cloud: Server, first: str) -> None:
    """A file posted to the site's /upload/ form is stored in the app's bucket (read back
    with the admin's key) and the page shows its URL, presigned with the role's session
    credentials, which this machine can open."""
    rec = user.record(APP)
    status, page = upload(rec["host"], rec["host"], "notes.txt", b"seed notes\n")
    assert status == 200, page
    assert f"the S3 bucket {BUCKET}" in page
    stored = re.search(r"Stored <code>([^<]+)</code>", page)
    assert stored, page
    assert stored[1].startswith("uploads/notes")
    s3 = cloud.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    env = user.ssh(APP, "sudo cat /proc/$(pgrep -of gunicorn)/environ | tr '\\0' '\\n'; true")
    assert stored[1] in keys, (keys, page, env)
    body = s3.get_object(Bucket=BUCKET, Key=stored[1])["Body"].read()
    assert body == b"seed notes\n"
    assert f"/{BUCKET}/{stored[1]}" in page
    link = re.search(r'<a href="([^"]+)"', page)
    assert link, page
    with urllib.request.urlopen(html.unescape(link[1]), timeout=10) as shown:  # noqa: S310
        assert shown.read() == b"seed notes\n"  # the presigned URL works from this machine


def test_the_role_may_use_that_bucket_only(user: User, cloud: Server, first: str) -> None:
    """The instance has the app's profile; its role is trusted by EC2 alone and its one
    policy names the bucket; each resource was echoed as its AWS CLI line."""
    iam = cloud.client("iam")
    role = iam.get_role(RoleName=f"{APP}-app")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    policy = iam.get_role_policy(RoleName=f"{APP}-app", PolicyName="bucket")["PolicyDocument"]
    resources = {s["Resource"] for s in policy["Statement"]}
    assert resources == {f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"}
    instance = cloud.client("ec2").describe_instances(InstanceIds=[user.record(APP)["instance_id"]])
    profile = instance["Reservations"][0]["Instances"][0]["IamInstanceProfile"]["Arn"]
    assert profile.endswith(f":instance-profile/{APP}-app")
    assert f"s3api create-bucket --bucket {BUCKET}" in first
    assert "iam create-role --role-name mysite-app" in first
    assert "iam add-role-to-instance-profile" in first


def test_no_access_key_is_on_the_server(user: User, first: str) -> None:
    """Neither the app's settings nor any file of the login user or the app (its installed
    packages aside) holds an access key or secret: the app's credentials come from the
    instance's role."""
    settings = user.ssh(
        APP, f"cat /srv/app/{APP}/shared/settings.json /srv/app/{APP}/releases/*/{RELEASE_SETTINGS}"
    )
    assert BUCKET in settings
    assert "AWS_ACCESS_KEY_ID" not in settings
    assert "AWS_SECRET_ACCESS_KEY" not in settings
    found = user.ssh(
        APP,
        "grep -rlE 'AKIA[A-Z0-9]{16}|ASIA[A-Z0-9]{16}|aws_secret_access_key *=' "
        "--exclude-dir=venvs --exclude-dir=wheels ~ /srv/app 2>/dev/null; true",
    )
    assert found.strip() == ""
    assert user.ssh(APP, "test -e ~/.aws/credentials || echo none").strip() == "none"


def test_a_second_deploy_makes_nothing_new(user: User, project: Path, first: str) -> None:
    """Deploying again finds the bucket, role and profile in place: no create call."""
    again = deploy(user, project, "--bucket", BUCKET)
    assert "create-bucket" not in again
    assert "create-role" not in again
    assert "put-role-policy" not in again


SEEDS_WAY = """
import json, os, sys
import django
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
django.setup()
client = Client(HTTP_HOST="localhost")
page = client.post("/upload/", {"file": SimpleUploadedFile("local.txt", b"from my laptop")})
print(json.dumps({"status": page.status_code, "page": page.content.decode()}))
"""


def test_someone_elses_role_is_left_alone(user: User, cloud: Server, project: Path) -> None:
    """A role of the app's name that deploy did not make is refused before any instance is
    launched, and stays as it was."""
    trust = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": ' \
        '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'  # fmt: skip
    cloud.client("iam").create_role(RoleName="other-app", AssumeRolePolicyDocument=trust)
    said = user.fails("deploy", project, "--profile", "pocketcloud-test", "--app", "other",
                      "--bucket", BUCKET)  # fmt: skip
    assert "role other-app exists but was not made by pocketcloud deploy" in said
    assert cloud.client("iam").list_role_policies(RoleName="other-app")["PolicyNames"] == []
    tagged = cloud.client("ec2").describe_instances(
        Filters=[{"Name": "tag:pocketcloud:app", "Values": ["other"]}]
    )
    assert tagged["Reservations"] == []


def test_the_seeds_way_still_works(user: User, cloud: Server, project: Path) -> None:
    """The seed's way — an access key in .conf/settings_local.json — still stores uploads
    in the bucket from the developer's machine; deploy then says a role is safer."""
    iam = cloud.client("iam")
    iam.create_user(UserName="laptop")
    iam.attach_user_policy(
        UserName="laptop", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess"
    )
    key = iam.create_access_key(UserName="laptop")["AccessKey"]
    local = project / ".conf" / "settings_local.json"
    settings = json.loads(local.read_text())
    settings |= {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ENDPOINT_URL": cloud.endpoint,
    }
    local.write_text(json.dumps(settings, indent=4))
    done = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", SEEDS_WAY],
        cwd=project / "django_app",
        env={"PATH": "/usr/bin:/bin", "HOME": str(user.home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200, answer["page"]
    body = cloud.client("s3").get_object(Bucket=BUCKET, Key="uploads/local.txt")["Body"].read()
    assert body == b"from my laptop"
    said = deploy(user, project, "--dry-run")
    assert "a role is safer than a key" in " ".join(said.split())
