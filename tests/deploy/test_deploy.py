"""``pocketcloud deploy`` end to end, on a real instance of a test cloud: the seed's
walkthrough (key pair, group, instance, copy to /srv/app, venv, run) as one command,
served by gunicorn behind nginx, redeployed without downtime, rolled back, and never
broken by a failing release.

The tests of this module share one instance and run in order, like a user's session.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import Server
from tests.plugin.hosting import User, deploy, get, wait_for

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
APP = "mysite"
VIEWS = Path("django_app/mysite/views.py")


def serving(user: User) -> str:
    """The release id the site's home page names."""
    rec = user.record(APP)
    body = wait_for(rec["host"], rec["host"])
    found = re.search(r"release <code>([^<]+)</code>", body)
    assert found, body
    return found[1]


def edit(project: Path, relative: Path | str, old: str, new: str) -> None:
    """Change a file of the project (a code change a developer makes)."""
    path = project / relative
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def restore(project: Path) -> None:
    """Undo every uncommitted change of the project (git checkout and clean)."""
    subprocess.run(["git", "checkout", "--", "."], cwd=project, check=True)
    subprocess.run(["git", "clean", "-fdq"], cwd=project, check=True)


@pytest.fixture(scope="module")
def first(user: User, project: Path) -> str:
    """The first deploy's output."""
    return deploy(user, project)


class TestFirstDeploy:
    """A scaffolded project, deployed to a new instance of the cloud."""

    def test_serves_the_site_through_nginx(self, user: User, first: str) -> None:
        """The page comes from Django through nginx on port 80, naming its release and
        host; /healthz answers ok; the output ends with the URL and the ssh command."""
        rec = user.record(APP)
        status, body = get(rec["host"], rec["host"])
        assert status == 200
        assert "Hello from mysite" in body
        assert re.search(r"on host <code>ip-", body)
        assert get(rec["host"], rec["host"], "/healthz") == (200, "ok")
        assert f"is served at http://{rec['host']}/" in first
        assert f"ssh -i ~/.ssh/{APP}.pem admin@{rec['host']}" in first
        server = user.ssh(APP, "curl -sI http://127.0.0.1/healthz -H 'Host: x'; true")
        assert "Server: nginx" not in server  # 444: an unknown name gets no answer at all

    def test_made_the_cloud_resources(self, user: User, cloud: Server, first: str) -> None:
        """Key pair (private key 0400 in ~/.ssh, the seed's chmod 400), a group admitting
        80 from anywhere and 22 only from this machine, an instance tagged with the app;
        each echoed as the AWS CLI line that does the same."""
        pem = user.home / ".ssh" / f"{APP}.pem"
        assert oct(pem.stat().st_mode & 0o777) == "0o400"
        ec2 = cloud.client("ec2")
        group = ec2.describe_security_groups(GroupNames=[f"{APP}-web"])["SecurityGroups"][0]
        rules = {
            (p["FromPort"], r["CidrIp"]) for p in group["IpPermissions"] for r in p["IpRanges"]
        }
        assert (80, "0.0.0.0/0") in rules
        assert [cidr for port, cidr in rules if port == 22] == ["169.254.1.1/32"]
        assert 8080 not in {port for port, _ in rules}
        found = ec2.describe_instances(Filters=[{"Name": "tag:pocketcloud:app", "Values": [APP]}])[
            "Reservations"
        ]
        assert len(found) == 1
        assert "aws --profile pocketcloud-test ec2 create-key-pair --key-name mysite" in first
        assert "ec2 run-instances" in first

    def test_echoes_the_seed_steps(self, first: str) -> None:
        """Each step shows the shell line it runs: ssh -i, rsync into /srv/app, the venv
        from the wheelhouse, migrate, collectstatic, check --deploy with its warnings."""
        assert re.search(
            r"\$ rsync .*-e 'ssh -i ~/.ssh/mysite.pem' .* admin@\S+:/srv/app/mysite/releases/",
            first,
        )
        assert "install -q --disable-pip-version-check --no-index --find-links" in first
        assert "manage.py migrate --noinput" in first
        assert "manage.py collectstatic --noinput" in first
        assert "security.W004" in first  # check --deploy's warnings are shown

    def test_secrets_stay_private(self, user: User, project: Path) -> None:
        """settings_local.json is never shipped; the production settings file is 0600
        outside the release; nothing in a release is readable by others; the SECRET_KEY
        appears in no file others can read, and never in git."""
        root = "/srv/app/mysite"
        assert user.ssh(APP, f"find {root}/releases -name settings_local.json") == ""
        assert user.ssh(APP, f"stat -c '%a %U' {root}/shared/settings.json").split() == [
            "600",
            "admin",
        ]
        assert user.ssh(APP, f"find {root}/releases -type f -perm -o=r | head -3") == ""
        others = user.ssh(APP, f"sudo -u nobody find {root} -type f -readable 2>/dev/null; true")
        assert others.split()  # the static files, and nothing else
        assert [p for p in others.split() if not p.startswith(f"{root}/static/")] == []
        key = json.loads(user.ssh(APP, f"cat {root}/shared/settings.json"))["SECRET_KEY"]
        assert len(key) >= 50
        readable = user.ssh(APP, f"sudo -u nobody grep -rl -- '{key}' /srv /etc 2>/dev/null; true")
        assert readable == ""
        local = json.loads((project / ".conf" / "settings_local.json").read_text())["SECRET_KEY"]
        tracked = subprocess.run(
            ["git", "grep", "-l", local], cwd=project, capture_output=True, check=False
        )
        assert tracked.stdout == b""
        assert (
            "settings_local.json"
            not in subprocess.run(
                ["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True
            ).stdout
        )


class TestBadInput:
    """A bad option is refused before anything is contacted: one red line naming the value
    and the rule, exit 2, nothing changed on the server or in the app's record."""

    @pytest.mark.parametrize(
        ("option", "value", "rule"),
        [
            ("--domain", 'x"; touch /tmp/pwned; echo "', "(RFC 1123)"),
            ("--domain", "shop.example;id", "(RFC 1123)"),
            ("--python", "python3; touch /tmp/pwned", "--python"),
            ("--ssh-from", "10.0.0.1/8", "the network is 10.0.0.0/8"),
            ("--target", "ssh://admin@host;touch /tmp/pwned", "ssh://"),
            ("--workers", "0", "1"),
        ],
    )
    def test_refused_before_anything_runs(
        self, user: User, project: Path, first: str, option: str, value: str, rule: str
    ) -> None:
        """The issue's injection and its cousins: nothing ran on the server (no
        /tmp/pwned), the same release serves, the record is unchanged."""
        before, record = serving(user), user.record(APP)
        out = user.fails("deploy", project, "--profile", "pocketcloud-test", option, value,
                         code=2)  # fmt: skip
        lines = out.strip().splitlines()
        assert len(lines) == 1, out
        assert lines[0].startswith(f"{option} "), out
        assert rule in lines[0], out
        assert user.ssh(APP, "ls /tmp/pwned 2>/dev/null; true") == ""
        assert serving(user) == before
        assert user.record(APP) == record


class TestRedeploy:
    """Deploying again: nothing to do, a code change, a rollback."""

    def test_no_change_is_a_health_check(self, user: User, project: Path, first: str) -> None:
        """With nothing changed, a deploy ships nothing and only checks the site."""
        before = serving(user)
        out = deploy(user, project)
        assert "already serves this code: nothing to ship" in out
        assert "rsync" not in out
        assert serving(user) == before

    def test_code_change_is_served(self, user: User, project: Path, first: str) -> None:
        """A changed view makes a new release; nginx switches to it; the venv is reused
        (unchanged requirements) and the old release's gunicorn is stopped."""
        before = serving(user)
        edit(project, VIEWS, "Hello from", "Greetings from")
        try:
            out = deploy(user, project)
        finally:
            restore(project)
        after = serving(user)
        assert after != before
        assert "Greetings from" in wait_for(user.record(APP)["host"], user.record(APP)["host"])
        assert "make the virtualenv" not in out
        assert "--link-dest=../" in out
        services = json.loads(user.ssh(APP, "cat /run/pocketcloud/services.json"))
        assert f"gunicorn-{APP}-{after}" in services
        old = services.get(f"gunicorn-{APP}-{before}", {"state": "stopped"})
        assert old["state"] in ("stopping", "stopped")  # SIGTERM: gunicorn's graceful shutdown

    def test_dry_run_changes_nothing(self, user: User, project: Path) -> None:
        """--dry-run after a change prints the plan (each step and its shell line) and
        leaves the server as it was."""
        before = serving(user)
        listed = user.ssh(APP, "ls /srv/app/mysite/releases")
        edit(project, VIEWS, "Hello from", "Howdy from")
        try:
            out = deploy(user, project, "--dry-run")
        finally:
            restore(project)
        assert "plan (--dry-run: nothing was changed)" in out
        assert re.search(r"\d+\. ship the code\n +\$ rsync ", out)
        assert "switch nginx to the release (graceful reload)" in out
        assert serving(user) == before
        assert user.ssh(APP, "ls /srv/app/mysite/releases") == listed

    def test_one_deploy_at_a_time(self, user: User, project: Path) -> None:
        """While another deploy holds the app's lock, a deploy changes nothing and says who
        holds it and how to clear a stale one; released, the next deploy goes ahead."""
        lock = f"/tmp/pocketcloud-deploy-{APP}.lock"
        user.ssh(APP, f"mkdir {lock} && echo 'laptop pid 42' > {lock}/holder")
        before = serving(user)
        edit(project, VIEWS, "Hello from", "Hey from")
        try:
            out = user.fails("deploy", project, "--profile", "pocketcloud-test")
            assert "another deploy or rollback of mysite is running (held by laptop pid 42)" in out
            assert f"'rm -rf {lock}'" in out
            assert serving(user) == before
            user.ssh(APP, f"rm -r {lock}")
            deploy(user, project)
            assert "Hey from" in wait_for(user.record(APP)["host"], user.record(APP)["host"])
            assert user.ssh(APP, f"ls -d {lock} 2>/dev/null; true") == ""  # released
        finally:
            restore(project)
            user.ssh(APP, f"rm -rf {lock}")  # a failed assertion must not leave it held
        deploy(user, project)

    def test_rollback(self, user: User, project: Path) -> None:
        """rollback switches back to the previous release without building anything."""
        releases = user.run("releases", "--app", APP)
        ids = re.findall(r"\d{8}-\d{6}-[0-9a-f]{7}", releases)
        assert len(ids) >= 2
        current = serving(user)
        out = user.run("rollback", "--app", APP)
        assert "make the virtualenv" not in out
        assert serving(user) == ids[ids.index(current) - 1]
        out = user.run("rollback", current, "--app", APP)
        assert serving(user) == current


FAILURES = [
    pytest.param(
        VIEWS, "from django.http", "import no_such_module  # broken\nfrom django.http",
        "manage.py check --deploy", id="import-error",
    ),
    pytest.param(
        "requirements.txt", "Django==", "./no-such-package-folder\nDjango==",
        "build the wheelhouse", id="bad-requirement",
    ),
    pytest.param(
        VIEWS, 'HttpResponse("ok"', 'HttpResponse("no", status=500', "health check",
        id="failing-health",
    ),
]  # fmt: skip


class TestFailingRelease:
    """A release that fails any step never replaces the one serving."""

    @pytest.mark.parametrize(("path", "old", "new", "step"), FAILURES)
    def test_old_release_keeps_serving(
        self, user: User, project: Path, path: Path, old: str, new: str, step: str
    ) -> None:
        """The deploy exits 1 naming the failing step with its output's tail; the old
        release still answers; the failed release's folder and server are gone."""
        before = serving(user)
        edit(project, path, old, new)
        try:
            out = user.fails("deploy", project, "--profile", "pocketcloud-test")
        finally:
            restore(project)
        assert re.search(rf"step '{step}[^']*' failed \(exit \d+\)", out), out
        assert f"release {before} keeps serving" in out
        assert serving(user) == before
        listed = user.ssh(APP, "ls /srv/app/mysite/releases")
        assert len(listed.split()) == len(set(listed.split()))
        units = user.ssh(APP, "ls /etc/pocketcloud/services")
        assert units.count(f"gunicorn-{APP}-") == 1, units

    def test_settings_survive_a_failed_deploy_and_a_restart(
        self, user: User, project: Path
    ) -> None:
        """A deploy that drops a name and then fails its health check changes no settings
        file the serving release reads: after init restarts that release's killed gunicorn
        (which reads its settings again), the site still answers the name it was deployed
        with — ALLOWED_HOSTS is the serving release's own."""
        deploy(user, project, "--domain", "keep.example")
        before = serving(user)
        rec = user.record(APP)
        assert get(rec["host"], "keep.example")[0] == 200
        root = "/srv/app/mysite"
        files = f"{root}/shared/settings.json {root}/current/.settings.json"
        settings = user.ssh(APP, f"cat {files}")
        assert "keep.example" in user.ssh(APP, f"cat {root}/current/.settings.json")
        edit(project, VIEWS, 'HttpResponse("ok"', 'HttpResponse("no", status=500')
        try:  # without --domain: the new release would answer the addresses only
            out = user.fails("deploy", project, "--profile", "pocketcloud-test")
        finally:
            restore(project)
        assert f"release {before} keeps serving" in out
        assert user.ssh(APP, f"cat {files}") == settings
        services: dict[str, Any] = json.loads(user.ssh(APP, "cat /run/pocketcloud/services.json"))
        pid = services[f"gunicorn-{APP}-{before}"]["pid"]
        user.ssh(APP, f"sudo kill -9 {pid}")
        deadline = time.monotonic() + 30
        while True:
            again = json.loads(user.ssh(APP, "cat /run/pocketcloud/services.json"))
            if again[f"gunicorn-{APP}-{before}"]["pid"] not in (pid, None):
                break
            assert time.monotonic() < deadline, again
            time.sleep(0.2)
        wait_for(rec["host"], "keep.example", before, timeout=30)
        assert get(rec["host"], "keep.example")[0] == 200

    def test_failing_migration(self, user: User, project: Path) -> None:
        """A migration that raises stops the deploy at migrate; the old release serves."""
        before = serving(user)
        app_dir = project / "django_app" / "shop"
        (app_dir / "migrations").mkdir(parents=True)
        (app_dir / "__init__.py").write_text("")
        (app_dir / "migrations" / "__init__.py").write_text("")
        (app_dir / "migrations" / "0001_initial.py").write_text(
            "from django.db import migrations\n\n\ndef fail(apps, schema_editor):\n"
            "    raise RuntimeError('this migration fails on purpose')\n\n\n"
            "class Migration(migrations.Migration):\n"
            "    operations = [migrations.RunPython(fail)]\n"
        )
        common = project / ".conf" / "settings_common.json"
        conf = json.loads(common.read_text())
        conf["INSTALLED_APPS_EXTRA"] = ["shop"]
        common.write_text(json.dumps(conf))
        try:
            out = user.fails("deploy", project, "--profile", "pocketcloud-test")
        finally:
            restore(project)
        assert "step 'manage.py migrate' failed" in out
        assert "this migration fails on purpose" in out
        assert serving(user) == before


class TestSupervised:
    """gunicorn and nginx are kept running by the instance's init."""

    def test_killed_gunicorn_comes_back(self, user: User) -> None:
        """kill -9 of gunicorn's master: the site answers again within seconds."""
        release = serving(user)
        services: dict[str, Any] = json.loads(user.ssh(APP, "cat /run/pocketcloud/services.json"))
        pid = services[f"gunicorn-{APP}-{release}"]["pid"]
        user.ssh(APP, f"sudo kill -9 {pid}")
        started = time.monotonic()
        rec = user.record(APP)
        wait_for(rec["host"], rec["host"], release, timeout=15)
        assert time.monotonic() - started < 10
        again = json.loads(user.ssh(APP, "cat /run/pocketcloud/services.json"))
        assert again[f"gunicorn-{APP}-{release}"]["pid"] != pid

    def test_back_after_reboot_and_stop_start(self, user: User, cloud: Server) -> None:
        """reboot-instances, then stop-instances + start-instances: the same release
        serves again each time, with nobody logging in."""
        release = serving(user)
        rec = user.record(APP)
        ec2 = cloud.client("ec2")
        ec2.reboot_instances(InstanceIds=[rec["instance_id"]])
        time.sleep(1)
        wait_for(rec["host"], rec["host"], release, timeout=60)
        ec2.stop_instances(InstanceIds=[rec["instance_id"]])
        waiter = {"Delay": 0.5, "MaxAttempts": 240}
        ec2.get_waiter("instance_stopped").wait(
            InstanceIds=[rec["instance_id"]], WaiterConfig=waiter
        )
        assert get(rec["host"], rec["host"], timeout=2)[0] != 200
        ec2.start_instances(InstanceIds=[rec["instance_id"]])
        wait_for(rec["host"], rec["host"], release, timeout=60)

    def test_status_and_logs(self, user: User) -> None:
        """app status names the instance, URL, release and health; logs shows gunicorn's
        and nginx's lines."""
        release = serving(user)
        status = user.run("app", "status", "--app", APP)
        assert release in status
        assert "healthy" in status
        logs = user.run("logs", "--app", APP, "-n", "5")
        assert f"gunicorn-{APP}-" in logs
        assert "pocketcloud-mysite.access.log" in logs
