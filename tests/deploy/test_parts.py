"""The hosting tool's pure parts: layout, probe facts, shown steps, service files, nginx
sites, cloud decisions, the source digest and this machine's app records.

No server, no network, no root: ``shipped_files`` runs a local ``rsync --dry-run`` on a
temporary folder; the app records live under a temporary $XDG_CONFIG_HOME.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from pocketcloud.deploy import apps, processes
from pocketcloud.deploy import commands as cmd
from pocketcloud.deploy.facts import Release, ServerFacts
from pocketcloud.deploy.layout import Layout, LayoutError
from pocketcloud.deploy.nginx import DEFAULT_SERVER, site
from pocketcloud.deploy.provision import (
    Names,
    ProvisionError,
    Rule,
    addresses,
    authorize_ingress,
    choose_instance,
    host_keys,
    missing_rules,
    ssh_rule,
    web_rules,
)
from pocketcloud.deploy.source import digest, requirements_hash, shipped_files
from pocketcloud.deploy.steps import Local, Login, Remote, Sync

RID = "20240109-090000-0123456"


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class TestLayout:
    def test_paths(self) -> None:
        """Every path of an app lives under /srv/app/<app>; each release has its own socket,
        static folder and service name."""
        layout = Layout("shop")
        assert layout.root == PurePosixPath("/srv/app/shop")
        assert layout.release(RID) == PurePosixPath(f"/srv/app/shop/releases/{RID}")
        assert layout.current == PurePosixPath("/srv/app/shop/current")
        assert layout.venv("abc") == PurePosixPath("/srv/app/shop/venvs/abc")
        assert layout.settings_file == PurePosixPath("/srv/app/shop/shared/settings.json")
        assert layout.socket(RID) == PurePosixPath(f"/srv/app/shop/run/{RID}.sock")
        assert layout.static(RID) == PurePosixPath(f"/srv/app/shop/static/{RID}")
        assert layout.gunicorn_service(RID) == f"gunicorn-shop-{RID}"
        assert layout.runserver_service == "runserver-shop"

    def test_nginx_names(self) -> None:
        """The app's nginx site, its enabled link and its logs are named after the app."""
        layout = Layout("shop")
        assert str(layout.nginx_site) == "/etc/nginx/sites-available/pocketcloud-shop.conf"
        assert str(layout.nginx_link) == "/etc/nginx/sites-enabled/pocketcloud-shop.conf"
        assert str(layout.nginx_log) == "/var/log/nginx/pocketcloud-shop"

    @pytest.mark.parametrize("name", ["a", "my-app2", "a" * 40])
    def test_good_names(self, name: str) -> None:
        """1-40 lowercase letters, digits and '-', starting with a letter."""
        assert Layout(name).app == name

    @pytest.mark.parametrize(
        "name", ["", "Shop", "1app", "-app", "my_app", "a/b", "a b", "../etc", "a" * 41]
    )
    def test_bad_names(self, name: str) -> None:
        """Names that cannot name folders, services and sites are refused, saying the rule."""
        with pytest.raises(LayoutError, match="use 1-40 lowercase letters"):
            Layout(name)


PROBE: dict[str, Any] = {
    "user": "admin",
    "python": "3.11.2",
    "supervisor": "systemd",
    "commands": {"nginx": False, "rsync": True, "curl": True, "sudo": True},
    "venv": False,
    "releases": [
        {"id": "r1", "digest": "d1", "requirements": "q1", "mode": "runserver"},
        {"digest": "half-written"},
        {"id": "r2", "digest": "d2", "requirements": "q2"},
    ],
    "current": "r2",
    "venvs": ["q1", "q2"],
    "nginx_running": False,
    "services": {},
    "units": ["gunicorn-shop-r2", "runserver-blog"],
    "hostname": "ip-10-0-0-5",
}


class TestServerFacts:
    def test_parse_probe_report(self) -> None:
        """The probe's JSON becomes facts; releases without an id are skipped."""
        facts = ServerFacts.parse(json.dumps(PROBE))
        assert facts.supervisor == "systemd"
        assert [r.release_id for r in facts.releases] == ["r1", "r2"]
        assert facts.current == "r2"
        assert facts.venvs == frozenset({"q1", "q2"})
        assert facts.units == ("gunicorn-shop-r2", "runserver-blog")
        assert facts.current_release == facts.releases[1]

    def test_units_optional(self) -> None:
        """An older probe without 'units' parses with none."""
        report = {k: v for k, v in PROBE.items() if k != "units"}
        assert ServerFacts.parse(json.dumps(report)).units == ()

    @pytest.mark.parametrize("text", ['{"user": "admin"}', "[]", '"releases"'])
    def test_not_a_probe_report(self, text: str) -> None:
        """Any other JSON is a ValueError naming what came back."""
        with pytest.raises(ValueError, match="not a probe report"):
            ServerFacts.parse(text)

    def test_missing_packages(self) -> None:
        """Missing commands map to their Debian packages, a missing venv to python3-venv;
        a command the probe did not report counts as present."""
        facts = ServerFacts(commands={"nginx": False, "rsync": True}, venv=False)
        assert facts.missing_packages() == ["nginx", "python3-venv"]
        assert ServerFacts().missing_packages() == []

    def test_release_meta_defaults_and_round_trip(self) -> None:
        """A sparse .release.json gets gunicorn mode and '.' manage_dir; meta() round-trips."""
        sparse = Release.from_meta({"id": 7})
        assert (sparse.release_id, sparse.mode, sparse.manage_dir) == ("7", "gunicorn", ".")
        full = Release(RID, "d", "q", "runserver", "app", "m.settings", "m.wsgi:app", "now")
        assert Release.from_meta(full.meta()) == full

    def test_current_release_none(self) -> None:
        """No current link, or one to a release without metadata: no current release."""
        assert ServerFacts().current_release is None
        assert ServerFacts(current="gone").current_release is None


class TestSteps:
    def test_login_shows_key_under_home_as_tilde(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A key in the home folder is shown as ~/...; a port other than 22 as -p."""
        monkeypatch.setenv("HOME", "/home/me")
        login = Login("admin", "203.0.113.7", 2222, "/home/me/.ssh/shop.pem")
        assert login.shown() == "ssh -i ~/.ssh/shop.pem -p 2222 admin@203.0.113.7"
        assert Login("ubuntu", "h", key="/keys/k.pem").shown() == "ssh -i /keys/k.pem ubuntu@h"

    def test_remote_shown_quoted_with_stdin_name(self) -> None:
        """A remote step is the ssh line with the command quoted, and '< file' when fed."""
        login = Login("admin", "h")
        step = Remote("t", "sudo tee /x >/dev/null", "data", "x.json")
        assert step.shown(login) == "ssh admin@h 'sudo tee /x >/dev/null' < x.json"
        assert Remote("t", "true").shown(login) == "ssh admin@h true"

    def test_sync_shown_as_rsync_line(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A sync is the rsync line with the same ssh key and port in -e."""
        monkeypatch.setenv("HOME", "/home/me")
        login = Login("admin", "h", 2222, "/home/me/.ssh/k.pem")
        step = Sync("t", "/src/", "/dest/", ("-a", "--exclude=.git/"))
        assert step.shown(login) == (
            "rsync -a --exclude=.git/ -e 'ssh -i ~/.ssh/k.pem -p 2222' /src/ admin@h:/dest/"
        )

    def test_local_shown_as_command(self) -> None:
        """A local step is its argv, shell-quoted."""
        step = Local("t", ("pip", "wheel", "-w", "/a b"))
        assert step.shown(Login("admin", "h")) == "pip wheel -w '/a b'"


SERVICE = processes.Service(
    "gunicorn-shop-1",
    ("/v/bin/gunicorn", "--bind", "unix:/r/1.sock", "m.wsgi:application"),
    cwd="/srv/app/shop/releases/1",
    env={"B": "2", "A": "x y"},
    description="gunicorn for shop",
)


class TestServices:
    def test_init_spec(self) -> None:
        """pocketcloud-init's file: argv, cwd and env as JSON."""
        assert json.loads(SERVICE.init_spec()) == {
            "argv": list(SERVICE.argv),
            "cwd": "/srv/app/shop/releases/1",
            "env": {"A": "x y", "B": "2"},
        }

    def test_systemd_unit(self) -> None:
        """The unit restarts always, starts the argv shell-quoted, environment sorted."""
        unit = SERVICE.unit()
        assert "Description=gunicorn for shop\n" in unit
        assert "ExecStart=/v/bin/gunicorn --bind unix:/r/1.sock m.wsgi:application\n" in unit
        assert "WorkingDirectory=/srv/app/shop/releases/1\n" in unit
        assert 'Environment="A=x y"\nEnvironment="B=2"\n' in unit
        assert "Restart=always\n" in unit
        assert unit.endswith("[Install]\nWantedBy=multi-user.target\n")

    def test_enable_lines(self) -> None:
        """init: the JSON file then HUP to PID 1; systemd: the unit, reload, enable, restart."""
        line, spec = processes.enable("pocketcloud-init", SERVICE)
        assert line == (
            "sudo tee /etc/pocketcloud/services/gunicorn-shop-1.json >/dev/null && sudo kill -HUP 1"
        )
        assert spec == SERVICE.init_spec()
        line, spec = processes.enable("systemd", SERVICE)
        assert line == (
            "sudo tee /etc/systemd/system/gunicorn-shop-1.service >/dev/null && "
            "sudo systemctl daemon-reload && sudo systemctl enable --now gunicorn-shop-1 && "
            "sudo systemctl restart gunicorn-shop-1"
        )
        assert spec == SERVICE.unit()

    def test_disable_lines(self) -> None:
        """Disabling removes the definitions: HUP for init, disable --now for systemd."""
        assert processes.disable("pocketcloud-init", ["a", "b"]) == (
            "sudo rm -f /etc/pocketcloud/services/a.json /etc/pocketcloud/services/b.json "
            "&& sudo kill -HUP 1"
        )
        assert processes.disable("systemd", ["a", "b"]) == (
            "sudo systemctl disable --now a b; sudo rm -f /etc/systemd/system/a.service "
            "/etc/systemd/system/b.service && sudo systemctl daemon-reload"
        )

    def test_nginx_under_each_supervisor(self) -> None:
        """nginx runs in the foreground under init; systemd enables its own unit."""
        line, spec = processes.nginx("pocketcloud-init")
        assert json.loads(spec or "")["argv"] == ["/usr/sbin/nginx", "-g", "daemon off;"]
        assert (
            line == "sudo tee /etc/pocketcloud/services/nginx.json >/dev/null && sudo kill -HUP 1"
        )
        line, spec = processes.nginx("systemd")
        assert spec is None
        assert line == "sudo systemctl enable --now nginx"


class TestNginx:
    def test_site(self) -> None:
        """The server block names every name, proxies to the release's socket and serves
        the release's static folder, with body size and proxy timeouts."""
        text = site(Layout("my-shop"), RID, ("shop.example", "203.0.113.7"))
        assert f"# Written by pocketcloud deploy for app my-shop: release {RID}\n" in text
        assert "upstream pocketcloud_my_shop {" in text
        assert f"server unix:/srv/app/my-shop/run/{RID}.sock fail_timeout=0;" in text
        assert "server_name shop.example 203.0.113.7;" in text
        assert f"alias /srv/app/my-shop/static/{RID}/;" in text
        assert "client_max_body_size 10m;" in text
        assert "proxy_connect_timeout 5s;" in text
        assert "proxy_read_timeout 60s;" in text
        assert "proxy_pass http://pocketcloud_my_shop;" in text
        assert "access_log /var/log/nginx/pocketcloud-my-shop.access.log combined" in text

    def test_body_size(self) -> None:
        """The upload limit is a parameter."""
        assert "client_max_body_size 50m;" in site(Layout("a"), RID, ("x",), body_size="50m")

    def test_default_server_refuses(self) -> None:
        """The default server catches every other name and closes the connection."""
        assert "listen 80 default_server;" in DEFAULT_SERVER
        assert "listen [::]:80 default_server;" in DEFAULT_SERVER
        assert "return 444;" in DEFAULT_SERVER


def instance(iid: str, state: str, key: str = "shop", **more: Any) -> dict[str, Any]:
    return {"InstanceId": iid, "State": {"Name": state}, "KeyName": key, **more}


class TestProvision:
    def test_rules(self) -> None:
        """Port 80 for gunicorn mode, 8080 for runserver; ssh from one address as /32."""
        assert [(r.port, r.cidr) for r in web_rules("gunicorn")] == [(80, "0.0.0.0/0")]
        assert [(r.port, r.cidr) for r in web_rules("runserver")] == [(8080, "0.0.0.0/0")]
        assert ssh_rule("198.51.100.4").cidr == "198.51.100.4/32"
        assert ssh_rule("198.51.100.0/24").cidr == "198.51.100.0/24"

    def test_rule_permission_and_shown(self) -> None:
        """A rule is one IpPermission, and the call that adds it shows as the aws CLI line
        sending that very permission."""
        rule = Rule(22, "198.51.100.4/32", "ssh")
        assert rule.permission() == {
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": "198.51.100.4/32", "Description": "ssh"}],
        }  # fmt: skip
        call = authorize_ingress("sg-1", [rule])
        assert call.params == {"GroupId": "sg-1", "IpPermissions": [rule.permission()]}
        assert call.cli("dev") == (
            "aws --profile dev ec2 authorize-security-group-ingress --group-id sg-1 "
            """--ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"""
            """"IpRanges":[{"CidrIp":"198.51.100.4/32","Description":"ssh"}]}]'"""
        )

    def test_missing_rules_ignores_present(self) -> None:
        """Only rules the group lacks (same port and cidr) are returned."""
        group = {
            "IpPermissions": [
                Rule(80, "0.0.0.0/0").permission(),
                Rule(22, "10.0.0.0/8").permission(),
                {"IpProtocol": "tcp", "FromPort": 1000, "ToPort": 2000,
                 "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            ]
        }  # fmt: skip
        wanted = [Rule(80, "0.0.0.0/0"), Rule(22, "198.51.100.4/32"), Rule(1000, "0.0.0.0/0")]
        assert missing_rules(group, wanted) == wanted[1:]
        assert missing_rules({}, wanted) == wanted

    def test_choose_prefers_running_over_stopped(self) -> None:
        """Running beats pending beats stopped; terminated ones are ignored."""
        found = [
            instance("i-3", "stopped"),
            instance("i-9", "terminated"),
            instance("i-2", "running"),
            instance("i-1", "pending"),
        ]
        assert choose_instance(found, "shop") == found[2]
        assert choose_instance(found[:2], "shop") == found[0]

    def test_choose_none_to_launch(self) -> None:
        """No live instance: None (launch one), even if a terminated one had another key."""
        assert choose_instance([], "shop") is None
        assert choose_instance([instance("i-1", "terminated", "other")], "shop") is None

    def test_choose_other_key_only(self) -> None:
        """Live instances launched with another key pair cannot be reused or replaced."""
        with pytest.raises(ProvisionError, match="i-1 was launched with another key pair"):
            choose_instance([instance("i-1", "running", "other")], "shop")

    def test_choose_ignores_other_key_when_ours_exists(self) -> None:
        """Our instance is chosen even beside a running one with another key."""
        found = [instance("i-1", "running", "other"), instance("i-2", "stopped")]
        assert choose_instance(found, "shop") == found[1]

    def test_addresses(self) -> None:
        """Public, private address and names in that order, duplicates and empties dropped."""
        found = {
            "PublicIpAddress": "203.0.113.7",
            "PrivateIpAddress": "10.0.0.5",
            "PublicDnsName": "",
            "PrivateDnsName": "10.0.0.5",
        }
        assert addresses(found) == ("203.0.113.7", "10.0.0.5")
        assert addresses({}) == ()

    def test_host_keys_from_console(self) -> None:
        """The last host-key block of the console becomes known_hosts lines for the address;
        non-key lines inside it are skipped."""
        console = (
            "[    1.0] booting\n-----BEGIN SSH HOST KEY KEYS-----\nssh-rsa OLD root@x\n"
            "-----END SSH HOST KEY KEYS-----\nreboot\n"
            "-----BEGIN SSH HOST KEY KEYS-----\n"
            "ecdsa-sha2-nistp256 AAAAE2 root@ip\n\nssh-ed25519 AAAAC3 root@ip\n"
            "[   12.3] random: crng init done\n"
            "-----END SSH HOST KEY KEYS-----\nlogin:\n"
        )
        assert host_keys(console, "203.0.113.7") == [
            "203.0.113.7 ecdsa-sha2-nistp256 AAAAE2",
            "203.0.113.7 ssh-ed25519 AAAAC3",
        ]

    def test_host_keys_none_printed(self) -> None:
        """A console without a complete block gives no keys."""
        assert host_keys("", "h") == []
        assert host_keys("-----BEGIN SSH HOST KEY KEYS-----\nssh-rsa AAA\n", "h") == []

    def test_names(self) -> None:
        """Key pair named like the app, group <app>-web, tags Name and pocketcloud:app."""
        names = Names("shop")
        assert (names.key_pair, names.group) == ("shop", "shop-web")
        assert names.tags("instance") == [
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": "shop"},
                    {"Key": "pocketcloud:app", "Value": "shop"},
                ],
            }
        ]


class TestSource:
    def project(self, root: Path) -> Path:
        write(root / "manage.py", "print('hi')\n")
        write(root / "mysite" / "settings.py", "DEBUG = True\n")
        write(root / ".conf" / "settings_common.json", "{}")
        write(root / ".conf" / "settings_local.json", '{"SECRET_KEY": "local"}')
        write(root / ".git" / "HEAD", "ref: refs/heads/main\n")
        write(root / ".venv" / "pyvenv.cfg")
        write(root / "mysite" / "__pycache__" / "settings.cpython-311.pyc")
        write(root / "db.sqlite3", "data")
        write(root / ".gitignore", "notes.txt\n")
        write(root / "notes.txt", "private")
        return root

    def test_shipped_files_excludes_secrets_and_local_state(self, tmp_path: Path) -> None:
        """The dry run lists code and shared config, never local secrets, .git, venvs,
        caches, the local database or what .gitignore names; folders are not listed."""
        root = self.project(tmp_path / "mysite")
        assert shipped_files(root) == [
            ".conf/settings_common.json",
            ".gitignore",
            "manage.py",
            "mysite/settings.py",
        ]

    def test_digest_stable_and_sensitive(self, tmp_path: Path) -> None:
        """The digest is the same for the same files and changes with content, name or mode."""
        root = self.project(tmp_path / "mysite")
        files = shipped_files(root)
        first = digest(root, files)
        assert digest(root, files) == first
        assert len(first) == 64
        (root / "manage.py").chmod(0o755)
        moded = digest(root, files)
        assert moded != first
        write(root / "manage.py", "print('bye')\n")
        assert digest(root, files) != moded
        assert digest(root, [*files, "notes.txt"]) != digest(root, files)

    def test_digest_of_symlink_is_its_target_name(self, tmp_path: Path) -> None:
        """A symlink is hashed by where it points, not by the file it points at."""
        write(tmp_path / "a.txt", "A")
        write(tmp_path / "b.txt", "A")
        (tmp_path / "link").symlink_to("a.txt")
        before = digest(tmp_path, ["link"])
        (tmp_path / "link").unlink()
        (tmp_path / "link").symlink_to("b.txt")
        assert digest(tmp_path, ["link"]) != before
        assert "link" in shipped_files(tmp_path)

    def test_requirements_hash(self, tmp_path: Path) -> None:
        """The venv and wheelhouse name follows the requirements, the extras and the
        interpreter the wheels are for — its patch level too (Requires-Python >=3.11.5
        tells 3.11.2 from 3.11.9)."""
        write(tmp_path / "requirements.txt", "Django==5.2\n")
        server = "Python 3.11.2 (cp311, glibc 2.36 x86_64)"
        base = requirements_hash(tmp_path, "requirements.txt", (), server)
        assert len(base) == 12
        assert requirements_hash(tmp_path, "requirements.txt", (), server) == base
        patched = server.replace("3.11.2", "3.11.9")
        assert requirements_hash(tmp_path, "requirements.txt", (), patched) != base
        assert requirements_hash(tmp_path, "requirements.txt", ("gunicorn",), server) != base
        assert requirements_hash(tmp_path, None, (), server) != base
        write(tmp_path / "requirements.txt", "Django==5.1\n")
        assert requirements_hash(tmp_path, "requirements.txt", (), server) != base


class TestApps:
    @pytest.fixture(autouse=True)
    def config_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
        return tmp_path

    def record(self, **changes: Any) -> apps.AppRecord:
        fields: dict[str, Any] = {
            "app": "shop", "target": "aws", "host": "203.0.113.7", "user": "admin",
            "key": "/home/me/.ssh/shop.pem", "profile": "dev", "region": "eu-west-1",
            "instance_id": "i-1", "names": ["shop.example", "203.0.113.7"],
        }  # fmt: skip
        return apps.AppRecord(**(fields | changes))

    def test_round_trip(self, config_home: Path) -> None:
        """A saved record loads back equal, from $XDG_CONFIG_HOME/pocketcloud/apps."""
        self.record().save()
        assert apps.load("shop") == self.record()
        assert (config_home / "pocketcloud" / "apps" / "shop.json").is_file()

    def test_unknown_keys_are_left_aside(self, config_home: Path) -> None:
        """A record written by another version (a key this one does not know) still loads."""
        self.record().save()
        path = config_home / "pocketcloud" / "apps" / "shop.json"
        path.write_text(json.dumps(json.loads(path.read_text()) | {"future": "x"}))
        assert apps.load("shop") == self.record()

    def test_file_is_private(self, config_home: Path) -> None:
        """The record is 0600 in a folder only its owner can enter."""
        self.record().save()
        folder = config_home / "pocketcloud" / "apps"
        assert stat.S_IMODE((folder / "shop.json").stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0

    def test_list_and_forget(self) -> None:
        """Apps are listed by name; forget removes the record and its known_hosts."""
        assert apps.list_apps() == []
        self.record().save()
        self.record(app="blog").save()
        apps.write_known_hosts(self.record(), ["203.0.113.7 ssh-ed25519 AAAA"])
        assert apps.list_apps() == ["blog", "shop"]
        assert self.record().known_hosts.read_text() == "203.0.113.7 ssh-ed25519 AAAA\n"
        apps.forget("shop")
        assert apps.list_apps() == ["blog"]
        assert not self.record().known_hosts.exists()

    def test_unknown_app(self) -> None:
        """Loading an app never deployed names the ones that were."""
        self.record(app="blog").save()
        with pytest.raises(apps.AppError, match=r"no app 'shop' deployed .*\(known: blog\)"):
            apps.load("shop")

    def test_url(self) -> None:
        """The URL uses the first name; runserver apps add :8080; no names: the host."""
        assert self.record().url == "http://shop.example/"
        assert self.record(mode="runserver").url == "http://shop.example:8080/"
        assert self.record(names=[]).url == "http://203.0.113.7/"


class TestChooseApp:
    """Which app ``app status``, ``releases``, ``rollback``, ``logs`` and ``destroy`` act on:
    ``--app``, else the project you stand in (as git finds its repository), else the only
    app."""

    @pytest.fixture(autouse=True)
    def two_apps(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        """Apps shop (deployed from projects/shop) and blog (from projects/blog)."""
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        for app in ("shop", "blog"):
            (tmp_path / "projects" / app / "django_app").mkdir(parents=True)
            apps.AppRecord(app, "pocketcloud", "10.0.0.5", "admin",
                           project=str(tmp_path / "projects" / app)).save()  # fmt: skip
        return tmp_path / "projects"

    def test_the_project_you_are_in(self, two_apps: Path) -> None:
        """In a project's folder, or any folder below it, the app deployed from it."""
        assert apps.choose(None, two_apps / "shop").app == "shop"
        assert apps.choose(None, two_apps / "blog" / "django_app").app == "blog"

    def test_app_option_wins(self, two_apps: Path) -> None:
        """--app names the app wherever the command runs."""
        assert apps.choose("blog", two_apps / "shop").app == "blog"

    def test_nested_project_the_deepest(self, two_apps: Path) -> None:
        """A project inside another's folder: the innermost one is the one you are in."""
        inner = two_apps / "shop" / "docs-site"
        inner.mkdir()
        apps.AppRecord("docs", "pocketcloud", "10.0.0.6", "admin", project=str(inner)).save()
        assert apps.choose(None, inner).app == "docs"
        assert apps.choose(None, two_apps / "shop").app == "shop"

    def test_outside_every_project_lists_them(self, two_apps: Path) -> None:
        """Elsewhere, with several apps: an error listing each app and its folder."""
        with pytest.raises(apps.AppError) as caught:
            apps.choose(None, two_apps)
        message = str(caught.value)
        assert "say which with --app" in message
        assert f"shop                 {two_apps / 'shop'}" in message
        assert f"blog                 {two_apps / 'blog'}" in message

    def test_one_folder_deployed_as_two_apps(self, two_apps: Path) -> None:
        """A folder deployed again with --app: the app named after the folder is the one
        you stand in; with neither named so, say which."""
        project = str(two_apps / "shop")
        apps.AppRecord("shop-old", "pocketcloud", "10.0.0.7", "admin", project=project).save()
        assert apps.choose(None, two_apps / "shop").app == "shop"
        apps.forget("shop")
        apps.AppRecord("shop-new", "pocketcloud", "10.0.0.8", "admin", project=project).save()
        with pytest.raises(apps.AppError, match=r"several apps \(shop-new, shop-old\)"):
            apps.choose(None, two_apps / "shop")

    def test_only_app_anywhere(self, two_apps: Path) -> None:
        """With one app, every folder acts on it."""
        apps.forget("blog")
        assert apps.choose(None, two_apps / "blog").app == "shop"


def run_checks(line: str, tmp_path: Path, curl: str = "") -> subprocess.CompletedProcess[str]:
    """Run a checks step as ssh would (the line by a real shell, checks.sh on its stdin),
    with a stand-in ``curl`` printing ``curl`` first on PATH."""
    if curl:
        fake = tmp_path / "curl"
        fake.write_text(f"#!/bin/sh\nprintf '{curl}'\n")
        fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    return subprocess.run(
        ["sh", "-c", line], input=cmd.remote_script(cmd.CHECKS), env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip


class TestHttpCheck:
    """The health checks' verdicts, run by a real shell with a stand-in curl."""

    @pytest.mark.parametrize(
        ("code", "ok"),
        [("200", True), ("302", True), ("404", True), ("400", False), ("500", False),
         ("502", False), ("000", False)],
    )  # fmt: skip
    def test_status_verdicts(self, tmp_path: Path, code: str, ok: bool) -> None:
        """2xx, 3xx and 404 pass; DisallowedHost's 400, a 5xx and no answer fail."""
        done = run_checks(cmd.check_site("shop.example"), tmp_path, curl=code)
        assert (done.returncode == 0) is ok
        assert f"GET http://127.0.0.1/healthz → {code}" in done.stdout

    def test_socket_asks_each_path_with_the_host(self, tmp_path: Path) -> None:
        """Through the release's socket: /healthz then /, each with the site's Host (a
        stand-in curl records its arguments, one per line)."""
        sock = tmp_path / "r.sock"
        with socket.socket(socket.AF_UNIX) as listening:
            listening.bind(str(sock))
            fake = tmp_path / "curl"
            fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {tmp_path}/args\nprintf 200\n")
            fake.chmod(0o755)
            done = run_checks(cmd.health_socket(PurePosixPath(sock), "a.example"), tmp_path)
        assert done.returncode == 0, done.stderr
        calls = (tmp_path / "args").read_text().split("-sS\n")[1:]
        assert [c.splitlines()[-1] for c in calls] == [
            "http://localhost/healthz",
            "http://localhost/",
        ]
        assert all(f"--unix-socket\n{sock}\n-H\nHost: a.example\n" in c for c in calls)

    def test_values_are_arguments_not_script(self, tmp_path: Path) -> None:
        """A host with shell syntax in it reaches curl as one argument and runs nothing."""
        marker = tmp_path / "pwned"
        host = f'x"; touch {marker}; echo "'
        done = run_checks(cmd.check_site(host), tmp_path, curl="200")
        assert done.returncode == 0
        assert not marker.exists()


class TestLogs:
    """What ``pocketcloud logs`` runs on the server."""

    def test_init_host_tails_the_serving_release_and_nginx(self) -> None:
        """Under pocketcloud-init: the serving release's service log and nginx's logs."""
        facts = ServerFacts(current="20240109-090000-aaaaaaa")
        line = cmd.logs(Layout("shop"), facts, "gunicorn", 20, follow=True)
        assert line == (
            "sudo tail -n 20 -F /var/log/pocketcloud/gunicorn-shop-20240109-090000-aaaaaaa.log"
            " /var/log/nginx/pocketcloud-shop.access.log /var/log/nginx/pocketcloud-shop.error.log"
        )

    def test_systemd_host_reads_the_journal(self) -> None:
        """Under systemd the service's lines come from journalctl, nginx's from its files."""
        facts = ServerFacts(supervisor="systemd", current="20240109-090000-aaaaaaa")
        line = cmd.logs(Layout("shop"), facts, "gunicorn", 5, follow=False)
        assert line.startswith(
            "sudo journalctl -u gunicorn-shop-20240109-090000-aaaaaaa -n 5 --no-pager & "
        )
        assert line.endswith("pocketcloud-shop.error.log; wait")

    def test_runserver_has_no_nginx(self) -> None:
        """The development server's own log only."""
        line = cmd.logs(Layout("shop"), ServerFacts(), "runserver", 5, follow=False)
        assert line == "sudo tail -n 5 /var/log/pocketcloud/runserver-shop.log"


class TestCheckNginx:
    """The check after a reload waits for the new release's header, run by a real shell."""

    def run(self, tmp_path: Path, headers: str) -> subprocess.CompletedProcess[str]:
        return run_checks(cmd.check_nginx("shop.example", "R2", tries=2), tmp_path, headers)

    def test_new_release_answering_passes(self, tmp_path: Path) -> None:
        """200 from release R2: the switch is done."""
        done = self.run(tmp_path, "HTTP/1.1 200 OK\\r\\nX-Pocketcloud-Release: R2\\r\\n\\r\\n")
        assert done.returncode == 0
        assert "→ 200 from release R2" in done.stdout

    def test_old_release_still_answering_fails(self, tmp_path: Path) -> None:
        """Only the old release answers (the reload did not take): the step fails."""
        done = self.run(tmp_path, "HTTP/1.1 200 OK\\r\\nX-Pocketcloud-Release: R1\\r\\n\\r\\n")
        assert done.returncode == 1
        assert "from release R1" in done.stdout

    def test_new_release_failing_fails(self, tmp_path: Path) -> None:
        """The new release answers through nginx with a 502: the step fails."""
        done = self.run(
            tmp_path, "HTTP/1.1 502 Bad Gateway\\r\\nX-Pocketcloud-Release: R2\\r\\n\\r\\n"
        )
        assert done.returncode == 1


class TestBuildVenv:
    """How the release's virtualenv is made on the server."""

    def test_with_the_servers_pip(self) -> None:
        """A pip that can --python: the venv gets none of its own (seconds saved)."""
        line = cmd.build_venv(
            PurePosixPath("/v/h"),
            "python3",
            PurePosixPath("/w"),
            ["-r", "/r.txt"],
            system_pip=True,
        )
        assert (
            "python3 -m venv --without-pip /v/h && python3 -m pip --python /v/h/bin/python" in line
        )
        assert "--no-index --find-links /w -r /r.txt" in line
        assert line.endswith("touch /v/h/.complete")

    def test_without(self) -> None:
        """No usable system pip: the venv's own pip (from ensurepip) installs."""
        line = cmd.build_venv(
            PurePosixPath("/v/h"), "python3", PurePosixPath("/w"), ["gunicorn"], system_pip=False
        )
        assert "python3 -m venv /v/h && /v/h/bin/pip install -q" in line
        assert "--no-index --find-links /w gunicorn" in line


class TestLock:
    """The deploy lock's shell lines, run by a real shell on a temporary folder."""

    def test_second_taker_is_told_the_holder(self, tmp_path: Path) -> None:
        """The first mkdir wins and records its holder; the second fails naming it;
        after release the lock can be taken again."""
        layout = Layout("shop")
        lock = str(layout.lock)
        here = tmp_path / "shop.lock"

        def sh(line: str) -> subprocess.CompletedProcess[str]:
            return run_checks(line.replace(lock, str(here)), tmp_path)

        assert sh(cmd.take_lock(layout, "laptop pid 1")).returncode == 0
        second = sh(cmd.take_lock(layout, "desktop pid 2"))
        assert second.returncode == 1
        assert second.stdout.strip() == "held by laptop pid 1"
        assert sh(cmd.release_lock(layout)).returncode == 0
        assert sh(cmd.take_lock(layout, "desktop pid 2")).returncode == 0
