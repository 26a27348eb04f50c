"""The hosting tool's plans: what exists on a server + what is wanted → the steps.

Pure: facts and wanted releases are built by hand, the plans are compared step by step;
a fake runner (``Runner.run`` replaced) shows where a failure undoes and where it does not.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

from pocketcloud.deploy import commands as cmd
from pocketcloud.deploy import processes
from pocketcloud.deploy.facts import Release, ServerFacts
from pocketcloud.deploy.layout import Layout
from pocketcloud.deploy.nginx import DEFAULT_SERVER, site
from pocketcloud.deploy.plan import PlanError, Wanted, deploy, remove, rollback
from pocketcloud.deploy.ssh import Connection, Runner, StepFailed
from pocketcloud.deploy.steps import Local, Login, Plan, Remote, Step, Sync

LAYOUT = Layout("shop")
NAMES = ("shop.example", "203.0.113.7")
R1, R2, R3, R4 = (f"2024010{n}-120000-abc{n}def" for n in range(1, 5))
NEW = "20240109-090000-0123456"
REQ = "req0a1b2c3d4"
ENABLED = "/etc/pocketcloud/services"


def release(
    rid: str, *, digest: str = "", requirements: str = REQ, mode: str = "gunicorn"
) -> Release:
    return Release(
        release_id=rid, digest=digest or f"digest-{rid}", requirements=requirements, mode=mode,
        manage_dir="django_app", settings_module="mysite.settings",
        wsgi="mysite.wsgi:application", created="2024-01-09T09:00:00+00:00", names=NAMES,
    )  # fmt: skip


def wanted(rel: Release | None = None, **changes: object) -> Wanted:
    base = Wanted(
        layout=LAYOUT, release=rel or release(NEW), source="/home/me/mysite",
        requirements="requirements.txt", wheelhouse=f"/home/me/.cache/pocketcloud/wheels/{REQ}",
        build_wheels=("/usr/bin/python3", "-m", "pip", "wheel", "-w", "/tmp/wh"),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def serving(*rels: Release, units: tuple[str, ...] | None = None, **changes: object) -> ServerFacts:
    """A server whose last release of ``rels`` serves, nginx running, all venvs built."""
    facts = ServerFacts(
        releases=rels,
        current=rels[-1].release_id if rels else None,
        venvs=frozenset(r.requirements for r in rels),
        nginx_running=True,
        commands={"nginx": True, "rsync": True, "curl": True},
        units=tuple(f"gunicorn-shop-{r.release_id}" for r in rels[-1:]) if units is None else units,
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


def name(step: Step) -> str:
    """A step's title without the program a ``start <service>: <program> …`` step names."""
    return step.title.split(": ", 1)[0] if step.title.startswith("start ") else step.title


def titles(steps: tuple[Step, ...]) -> list[str]:
    return [name(s) for s in steps]


def the(plan: Plan, title: str) -> Step:
    """The one step of ``plan`` with ``title``."""
    found = [s for s in plan.steps if name(s) == title]
    assert len(found) == 1, titles(plan.steps)
    return found[0]


def remote(plan: Plan, title: str) -> Remote:
    step = the(plan, title)
    assert isinstance(step, Remote)
    return step


def sync(plan: Plan, title: str) -> Sync:
    step = the(plan, title)
    assert isinstance(step, Sync)
    return step


GUNICORN_START = [
    "start gunicorn-shop-" + NEW,
    "health check on its own socket",
]
SWITCH = [
    "nginx: refuse unknown hosts",
    "nginx site for the release",
    "switch nginx to the release (graceful reload)",
    "check the site through nginx",
    "point current at the release",
]
WHEELHOUSE = "build the wheelhouse for the Python on the server (cached)"
BUILD = [
    "record the release",
    "production settings module",
    "production settings (0600, SECRET_KEY kept)",
    "manage.py check --deploy",
    "manage.py migrate",
]


class TestDeployEmptyServer:
    def test_steps_in_order(self) -> None:
        """An empty server gets the wheelhouse built first (a requirement that cannot fit
        the server stops the deploy before anything changes), then folders, code, venv,
        settings, checks, the new gunicorn, nginx started, the default server, the site
        switched and current pointed."""
        plan = deploy(wanted(), ServerFacts())
        assert titles(plan.steps) == [
            WHEELHOUSE,
            "make the app's folders",
            "ship the wheelhouse",
            "ship the code",
            "make the virtualenv (pip install --no-index)",
            *BUILD,
            "manage.py collectstatic",
            *GUNICORN_START,
            "start nginx",
            "wait for nginx",
            *SWITCH,
        ]
        assert plan.notes == ()

    def test_commit_is_right_after_point_current(self) -> None:
        """Everything up to pointing current is undone on failure; nothing after it is."""
        plan = deploy(wanted(), ServerFacts())
        assert plan.steps[plan.commit - 1].title == "point current at the release"
        assert plan.commit == len(plan.steps)  # nothing to retire or prune on a new server

    def test_undo_restores_site_stops_service_removes_release(self) -> None:
        """Undo: the previous nginx site back, the new gunicorn stopped, its folder gone."""
        plan = deploy(wanted(), ServerFacts())
        assert titles(plan.undo) == [
            "put the previous nginx site back",
            f"stop gunicorn-shop-{NEW}",
            "remove the failed release",
        ]
        restore, stop, drop = (s for s in plan.undo if isinstance(s, Remote))
        assert restore.command == cmd.restore_site(LAYOUT, NEW)
        assert stop.command == f"sudo rm -f {ENABLED}/gunicorn-shop-{NEW}.json && sudo kill -HUP 1"
        assert drop.command == cmd.remove_release(LAYOUT, NEW)
        assert f"rm -rf /srv/app/shop/releases/{NEW} /srv/app/shop/static/{NEW}" in drop.command

    def test_wheelhouse_and_venv(self) -> None:
        """The wheelhouse is built locally (marked complete for the next deploy), shipped
        with --ignore-existing, and the venv is installed from it only, named by the
        requirements hash."""
        plan = deploy(wanted(), ServerFacts())
        build = the(plan, WHEELHOUSE)
        assert isinstance(build, Local)
        assert build.argv == wanted().build_wheels
        assert build.marker == f"/home/me/.cache/pocketcloud/wheels/{REQ}/.complete"
        ship = sync(plan, "ship the wheelhouse")
        assert ship.source == f"/home/me/.cache/pocketcloud/wheels/{REQ}/"
        assert ship.dest == "/srv/app/shop/wheels/"
        assert {"-a", "--ignore-existing", "--exclude=wanted.in", "--exclude=pins.txt"} <= set(
            ship.options
        )
        venv = remote(plan, "make the virtualenv (pip install --no-index)").command
        assert (
            f"rm -rf /srv/app/shop/venvs/{REQ} && python3 -m venv /srv/app/shop/venvs/{REQ}" in venv
        )
        assert "--no-index --find-links /srv/app/shop/wheels" in venv
        assert f"-r /srv/app/shop/releases/{NEW}/requirements.txt" in venv

    def test_code_shipped_without_link_dest(self) -> None:
        """With no release serving, the code is sent whole, with no --link-dest basis."""
        ship = sync(deploy(wanted(), ServerFacts()), "ship the code")
        assert ship.source == "/home/me/mysite/"
        assert ship.dest == f"/srv/app/shop/releases/{NEW}/"
        assert not [o for o in ship.options if o.startswith("--link-dest")]
        assert "--delete" in ship.options

    def test_release_record_and_settings_fed_on_stdin(self) -> None:
        """The .release.json and the production settings go on ssh's stdin, shown by name."""
        plan = deploy(wanted(), ServerFacts())
        record = remote(plan, "record the release")
        assert json.loads(record.stdin or "") == release(NEW).meta()
        assert record.stdin_name == ".release.json"
        settings = remote(plan, "production settings (0600, SECRET_KEY kept)")
        assert settings.stdin == cmd.remote_script("settings.py")
        assert settings.stdin_name == "update_settings.py"
        assert settings.command.startswith("python3 - /srv/app/shop/shared/settings.json ")
        assert '"ALLOWED_HOSTS": ["shop.example", "203.0.113.7"]' in settings.command
        module = remote(plan, "production settings module")
        assert "mysite.settings" in (module.stdin or "")

    def test_manage_commands_run_in_release_with_production_env(self) -> None:
        """check --deploy, migrate and collectstatic run the venv's python in the release."""
        plan = deploy(wanted(), ServerFacts())
        migrate = remote(plan, "manage.py migrate").command
        assert migrate.startswith(f"cd /srv/app/shop/releases/{NEW}/django_app && ")
        assert "DJANGO_SETTINGS_MODULE=pocketcloud_production" in migrate
        assert f"POCKETCLOUD_STATIC_ROOT=/srv/app/shop/static/{NEW}" in migrate
        assert migrate.endswith(f"/srv/app/shop/venvs/{REQ}/bin/python manage.py migrate --noinput")
        assert remote(plan, "manage.py check --deploy").command.endswith("check --deploy")
        assert remote(plan, "manage.py collectstatic").command.endswith("collectstatic --noinput")

    def test_gunicorn_service_and_health_on_socket(self) -> None:
        """The release's gunicorn binds its own socket; the health check asks that socket."""
        plan = deploy(wanted(), ServerFacts(user="admin"))
        start = remote(plan, f"start gunicorn-shop-{NEW}")
        assert start.command == (
            f"sudo tee {ENABLED}/gunicorn-shop-{NEW}.json >/dev/null && sudo kill -HUP 1"
        )
        assert start.stdin_name == f"gunicorn-shop-{NEW}.json"
        spec = json.loads(start.stdin or "")
        assert spec["argv"][:3] == [
            f"/srv/app/shop/venvs/{REQ}/bin/gunicorn", "--bind",
            f"unix:/srv/app/shop/run/{NEW}.sock",
        ]  # fmt: skip
        assert spec["argv"][-1] == "mysite.wsgi:application"
        assert spec["cwd"] == f"/srv/app/shop/releases/{NEW}/django_app"
        health = remote(plan, "health check on its own socket").command
        assert health == f"sh -s -- socket /srv/app/shop/run/{NEW}.sock shop.example /healthz /"

    def test_nginx_started_default_server_and_site(self) -> None:
        """nginx is started when not running; default_server and the site come on stdin."""
        plan = deploy(wanted(), ServerFacts(nginx_running=False))
        start = remote(plan, "start nginx")
        assert start.stdin_name == "nginx.json"
        assert json.loads(start.stdin or "")["argv"] == ["/usr/sbin/nginx", "-g", "daemon off;"]
        assert remote(plan, "nginx: refuse unknown hosts").stdin == DEFAULT_SERVER
        staged = remote(plan, "nginx site for the release")
        assert staged.stdin == site(LAYOUT, NEW, NAMES)
        assert (
            staged.command
            == "sudo tee /etc/nginx/sites-available/pocketcloud-shop.conf.new >/dev/null"
        )
        assert remote(plan, "point current at the release").command == cmd.point_current(
            LAYOUT, NEW
        )

    def test_nginx_already_running_is_not_started(self) -> None:
        """A running nginx is only reloaded by the switch, never started again."""
        plan = deploy(wanted(), ServerFacts(nginx_running=True))
        assert "start nginx" not in titles(plan.steps)

    def test_systemd_server(self) -> None:
        """On a systemd host the service is a unit fed on stdin; nginx is enabled, no stdin."""
        plan = deploy(wanted(), ServerFacts(supervisor="systemd"))
        start = remote(plan, f"start gunicorn-shop-{NEW}")
        assert start.stdin_name == f"gunicorn-shop-{NEW}.service"
        assert (start.stdin or "").startswith("[Unit]\n")
        assert "systemctl enable --now" in start.command
        nginx = remote(plan, "start nginx")
        assert nginx.stdin is None
        assert nginx.command == "sudo systemctl enable --now nginx"
        assert remote(plan, "wait for nginx").command == "sh -s -- nginx-pid"


class TestDeployPackages:
    def test_missing_commands_one_apt_step(self) -> None:
        """Missing commands and venv become one apt-get step, the first on the server,
        with exactly those."""
        facts = ServerFacts(commands={"nginx": False, "rsync": False, "curl": True}, venv=False)
        plan = deploy(wanted(), facts)
        assert plan.steps[1] == Remote(
            "install system packages", cmd.install_packages(["nginx", "rsync", "python3-venv"])
        )
        assert sum("apt-get" in getattr(s, "command", "") for s in plan.steps) == 1

    def test_nginx_not_installed_for_runserver(self) -> None:
        """runserver mode needs no nginx, so a missing nginx is not installed."""
        facts = ServerFacts(commands={"nginx": False, "rsync": True, "curl": False})
        plan = deploy(wanted(release(NEW, mode="runserver")), facts)
        assert remote(plan, "install system packages").command.endswith(
            "--no-install-recommends curl"
        )

    def test_nothing_missing_no_apt(self) -> None:
        """A server with every command and venv gets no apt-get step."""
        plan = deploy(wanted(), ServerFacts(commands={"nginx": True, "rsync": True, "curl": True}))
        assert "install system packages" not in titles(plan.steps)


class TestDeployOverRelease:
    def test_existing_venv_skips_wheels_and_venv(self) -> None:
        """The requirements hash's venv already exists: no wheelhouse, no venv steps."""
        plan = deploy(wanted(), serving(release(R1)))
        assert titles(plan.steps)[: plan.commit] == [
            "make the app's folders", "ship the code", *BUILD, "manage.py collectstatic",
            *GUNICORN_START, *SWITCH,
        ]  # fmt: skip

    def test_code_linked_against_current(self) -> None:
        """The code is shipped with --link-dest to the serving release, whole files, with the
        secrets and the .git folder excluded and .gitignore honoured."""
        options = sync(deploy(wanted(), serving(release(R1))), "ship the code").options
        assert f"--link-dest=../{R1}" in options
        assert "--whole-file" in options
        assert "--exclude=.conf/settings_local.json" in options
        assert "--exclude=.git/" in options
        assert options[-1] == "--filter=:- .gitignore"

    def test_new_requirements_build_new_venv(self) -> None:
        """Requirements the server has no venv for are shipped and built beside the old one."""
        plan = deploy(wanted(release(NEW, requirements="req-new")), serving(release(R1)))
        assert "ship the wheelhouse" in titles(plan.steps)
        venv = remote(plan, "make the virtualenv (pip install --no-index)").command
        assert "python3 -m venv /srv/app/shop/venvs/req-new &&" in venv

    def test_same_release_only_health_check(self) -> None:
        """Same digest, requirements and mode as the serving release: one health check
        through nginx and a note, nothing shipped."""
        current = release(R1, digest="same")
        plan = deploy(wanted(release(NEW, digest="same")), serving(current))
        assert titles(plan.steps) == ["health check through nginx"]
        check = remote(plan, "health check through nginx").command
        assert check == cmd.check_site("shop.example")
        assert plan.notes == (f"release {R1} already serves this code: nothing to ship",)
        assert plan.undo == ()
        assert plan.commit == 0

    def test_same_runserver_release_checks_port_8080(self) -> None:
        """An unchanged runserver release is checked on port 8080, once."""
        current = release(R1, digest="same", mode="runserver")
        plan = deploy(wanted(release(NEW, digest="same", mode="runserver")), serving(current))
        assert [(s.title, s.command) for s in plan.steps if isinstance(s, Remote)] == [
            ("health check on port 8080", "sh -s -- port 8080 shop.example 1"),
        ]

    def test_new_name_is_a_new_release(self) -> None:
        """Same code answering to another name (a new --domain) is deployed again, so
        nginx's server_name and ALLOWED_HOSTS follow."""
        current = replace(release(R1, digest="same"), names=("shop.example",))
        new = replace(release(NEW, digest="same"), names=("shop.example", "www.shop.example"))
        plan = deploy(wanted(new), serving(current))
        assert "ship the code" in titles(plan.steps)

    def test_force_deploys_same_code(self) -> None:
        """--force ships and switches even when the code is unchanged."""
        current = release(R1, digest="same")
        plan = deploy(wanted(release(NEW, digest="same"), force=True), serving(current))
        assert "ship the code" in titles(plan.steps)
        assert plan.notes == ()

    def test_mode_change_is_a_new_release(self) -> None:
        """Same code in another mode is not 'the same release'."""
        current = release(R1, digest="same", mode="runserver")
        plan = deploy(wanted(release(NEW, digest="same")), serving(current, units=()))
        assert "ship the code" in titles(plan.steps)


class TestDeployRetire:
    def test_previous_gunicorn_stopped_after_drain(self) -> None:
        """After the commit: nginx's old workers drain, then the app's older gunicorns stop;
        other apps' units and the new release's own unit are left alone."""
        units = (f"gunicorn-shop-{R1}", f"gunicorn-shop-{NEW}", "gunicorn-blog-x", "runserver-blog")
        plan = deploy(wanted(), serving(release(R1), units=units))
        assert titles(plan.steps[plan.commit :]) == [
            "let nginx's old workers finish",
            "stop the previous release",
        ]
        assert remote(plan, "let nginx's old workers finish").command == cmd.drain()
        assert remote(plan, "stop the previous release").command == processes.disable(
            "pocketcloud-init", [f"gunicorn-shop-{R1}"]
        )

    def test_runserver_of_same_app_retired_for_gunicorn(self) -> None:
        """Moving to gunicorn stops the app's runserver, not another app's."""
        current = release(R1, mode="runserver")
        plan = deploy(wanted(), serving(current, units=("runserver-shop", "runserver-blog")))
        assert remote(plan, "stop the previous release").command == processes.disable(
            "pocketcloud-init", ["runserver-shop"]
        )

    def test_nothing_to_retire(self) -> None:
        """No other unit of the app: no drain, no stop step."""
        plan = deploy(wanted(), serving(release(R1), units=("gunicorn-blog-x",)))
        assert plan.steps[plan.commit :] == ()

    def test_app_whose_name_extends_this_one_is_not_retired(self) -> None:
        """Deploying 'shop' leaves the gunicorn of an app named 'shop-api' running."""
        units = (f"gunicorn-shop-{R1}", f"gunicorn-shop-api-{R2}")
        plan = deploy(wanted(), serving(release(R1), units=units))
        assert remote(plan, "stop the previous release").command == processes.disable(
            "pocketcloud-init", [f"gunicorn-shop-{R1}"]
        )


class TestDeployPrune:
    def test_keep_two_of_four(self) -> None:
        """keep=2 with 3 releases on the server + the new one: the two oldest go, and the
        venvs only they used; the serving venv stays."""
        rels = (
            release(R1, requirements="req1"),
            release(R2, requirements="req2"),
            release(R3, requirements=REQ),
        )
        plan = deploy(wanted(keep=2), serving(*rels))
        assert titles(plan.steps[plan.commit :]) == [
            "let nginx's old workers finish",
            "stop the previous release",
            f"remove old releases ({R1}, {R2})",
            "remove unused virtualenvs",
        ]
        assert remote(plan, f"remove old releases ({R1}, {R2})").command == (
            f"{cmd.remove_release(LAYOUT, R1)} && {cmd.remove_release(LAYOUT, R2)}"
        )
        assert remote(plan, "remove unused virtualenvs").command == (
            "rm -rf /srv/app/shop/venvs/req1 /srv/app/shop/venvs/req2"
        )

    def test_new_release_never_pruned(self) -> None:
        """Even when its id sorts first (a clock behind), the new release is kept."""
        rels = (release(R1), release(R2))
        plan = deploy(wanted(release("20230101-000000-0000000"), keep=1), serving(*rels))
        prune = [s for s in plan.steps if s.title.startswith("remove old releases")]
        assert [s.title for s in prune] == [f"remove old releases ({R1})"]

    def test_within_keep_nothing_pruned(self) -> None:
        """Fewer releases than keep: no release or venv removed."""
        plan = deploy(wanted(), serving(release(R1), release(R2)))
        assert not [s for s in plan.steps if s.title.startswith("remove")]

    def test_venv_of_kept_release_kept(self) -> None:
        """A venv is removed only when no kept release uses it."""
        rels = (release(R1, requirements="old"), release(R2, requirements="old"))
        plan = deploy(wanted(keep=2), serving(*rels))
        assert "remove unused virtualenvs" not in titles(plan.steps)
        assert f"remove old releases ({R1})" in titles(plan.steps)


class TestDeployRunserver:
    def runserver_plan(self, facts: ServerFacts | None = None) -> Plan:
        return deploy(wanted(release(NEW, mode="runserver")), facts or ServerFacts())

    def test_steps(self) -> None:
        """runserver mode: no collectstatic, no nginx at all, health on port 8080."""
        plan = self.runserver_plan()
        assert titles(plan.steps) == [
            WHEELHOUSE,
            "make the app's folders",
            "ship the wheelhouse",
            "ship the code",
            "make the virtualenv (pip install --no-index)",
            *BUILD,
            "start runserver-shop",
            "health check on port 8080",
            "point current at the release",
        ]
        assert remote(plan, "health check on port 8080").command == cmd.health_port(
            8080, "shop.example"
        )
        assert "www-data" not in remote(plan, "make the app's folders").command

    def test_service_is_manage_runserver(self) -> None:
        """The service runs the venv's python: ``manage.py runserver 0:8080`` in the release."""
        start = remote(self.runserver_plan(), "start runserver-shop")
        spec = json.loads(start.stdin or "")
        assert spec["argv"] == [
            f"/srv/app/shop/venvs/{REQ}/bin/python", "manage.py", "runserver", "0:8080"
        ]  # fmt: skip
        assert spec["cwd"] == f"/srv/app/shop/releases/{NEW}/django_app"
        assert start.stdin_name == "runserver-shop.json"

    def test_undo_without_previous_stops_it(self) -> None:
        """First runserver release: undo stops it and removes the failed release."""
        plan = self.runserver_plan()
        assert titles(plan.undo) == ["stop runserver-shop", "remove the failed release"]

    def test_undo_restarts_previous_runserver_release(self) -> None:
        """Over a runserver release, undo re-enables runserver on the previous release."""
        previous = release(R1, mode="runserver")
        plan = self.runserver_plan(serving(previous, units=("runserver-shop",)))
        first = plan.undo[0]
        assert isinstance(first, Remote)
        assert name(first) == "start runserver-shop"
        assert json.loads(first.stdin or "")["cwd"] == f"/srv/app/shop/releases/{R1}/django_app"
        assert titles(plan.undo)[1:] == ["remove the failed release"]

    def test_retires_gunicorn_of_same_app(self) -> None:
        """Moving to runserver stops the app's gunicorns after the commit."""
        plan = self.runserver_plan(serving(release(R1)))
        assert remote(plan, "stop the previous release").command == processes.disable(
            "pocketcloud-init", [f"gunicorn-shop-{R1}"]
        )
        assert plan.steps[plan.commit - 1].title == "point current at the release"


class TestRollback:
    RELS = (release(R1, requirements="q1"), release(R2, requirements="q2"), release(R3))

    def test_default_target_is_release_before_current(self) -> None:
        """No target: the release before the serving one starts, is switched to, and the
        serving one retired after the commit."""
        plan = rollback(LAYOUT, serving(*self.RELS), None, NAMES)
        assert titles(plan.steps) == [
            f"start gunicorn-shop-{R2}",
            "health check on its own socket",
            *SWITCH,
            "let nginx's old workers finish",
            "stop the previous release",
        ]
        assert plan.steps[plan.commit - 1].title == "point current at the release"
        assert remote(plan, "nginx site for the release").stdin == site(LAYOUT, R2, NAMES)
        assert remote(plan, "point current at the release").command == cmd.point_current(LAYOUT, R2)
        assert remote(plan, "stop the previous release").command == processes.disable(
            "pocketcloud-init", [f"gunicorn-shop-{R3}"]
        )

    def test_served_under_its_own_names(self) -> None:
        """nginx answers for the names the release was deployed with, which its own
        settings' ALLOWED_HOSTS hold, not for names added since."""
        old = replace(release(R1, requirements="q1"), names=("old.example",))
        plan = rollback(LAYOUT, serving(old, release(R2)), None, ("new.example",))
        assert remote(plan, "nginx site for the release").stdin == site(
            LAYOUT, R1, ("old.example",)
        )

    def test_explicit_target_and_nothing_pruned(self) -> None:
        """An explicit target is served with its own venv; no release is pruned."""
        plan = rollback(LAYOUT, serving(*self.RELS), R1, NAMES)
        spec = json.loads(remote(plan, f"start gunicorn-shop-{R1}").stdin or "")
        assert spec["argv"][0] == "/srv/app/shop/venvs/q1/bin/gunicorn"
        assert not [s for s in plan.steps if s.title.startswith("remove")]

    def test_undo_never_removes_the_target(self) -> None:
        """A failed rollback restores the site and stops the target, keeping its folder."""
        plan = rollback(LAYOUT, serving(*self.RELS), None, NAMES)
        assert titles(plan.undo) == ["put the previous nginx site back", f"stop gunicorn-shop-{R2}"]

    def test_unknown_release(self) -> None:
        """An id not on the server is refused, listing the releases there."""
        with pytest.raises(PlanError, match=f"no release nope on the server; releases: {R1}, "):
            rollback(LAYOUT, serving(*self.RELS), "nope", NAMES)

    def test_already_serving(self) -> None:
        """Rolling back to the serving release is refused."""
        with pytest.raises(PlanError, match=f"release {R3} is already serving"):
            rollback(LAYOUT, serving(*self.RELS), R3, NAMES)

    def test_pruned_venv(self) -> None:
        """A release whose venv was pruned cannot be served again without a deploy."""
        facts = serving(*self.RELS, venvs=frozenset({REQ}))
        with pytest.raises(PlanError, match=f"release {R1}'s virtualenv was pruned; deploy"):
            rollback(LAYOUT, facts, R1, NAMES)

    @pytest.mark.parametrize(
        "facts",
        [serving(release(R1)), serving(*RELS, current=None), ServerFacts()],
        ids=["only-one", "none-serving", "empty"],
    )
    def test_no_earlier_release(self, facts: ServerFacts) -> None:
        """No release before the serving one (or none serving): nothing to roll back to."""
        with pytest.raises(PlanError, match="no earlier release to roll back to"):
            rollback(LAYOUT, facts, None, NAMES)


class TestRemove:
    def test_stops_own_units_removes_site_and_folder(self) -> None:
        """Only the app's gunicorn and runserver units are stopped; its site and folder go,
        and a running nginx is reloaded."""
        units = (f"gunicorn-shop-{R1}", f"gunicorn-shop-{R2}", "gunicorn-blog-x", "runserver-shop")
        plan = remove(LAYOUT, serving(release(R1), units=units))
        site_file = "/etc/nginx/sites-available/pocketcloud-shop.conf"
        assert plan.steps == (
            Remote(
                "stop the app's servers",
                processes.disable(
                    "pocketcloud-init",
                    [f"gunicorn-shop-{R1}", f"gunicorn-shop-{R2}", "runserver-shop"],
                ),
            ),
            Remote(
                "remove the app's nginx site",
                f"sudo rm -f /etc/nginx/sites-enabled/pocketcloud-shop.conf {site_file} "
                f"{site_file}.prev && sudo nginx -s reload",
            ),
            Remote("remove the app's folder", "sudo rm -rf /srv/app/shop"),
        )
        assert plan.undo == ()

    def test_nothing_running(self) -> None:
        """No units and no nginx: no stop step, no reload."""
        plan = remove(LAYOUT, ServerFacts(units=("gunicorn-blog-x",)))
        assert titles(plan.steps) == ["remove the app's nginx site", "remove the app's folder"]
        assert "reload" not in remote(plan, "remove the app's nginx site").command

    def test_app_whose_name_extends_this_one_is_spared(self) -> None:
        """Removing 'shop' does not stop the gunicorn of an app named 'shop-api'."""
        plan = remove(LAYOUT, ServerFacts(units=(f"gunicorn-shop-{R1}", f"gunicorn-shop-api-{R2}")))
        assert remote(plan, "stop the app's servers").command == processes.disable(
            "pocketcloud-init", [f"gunicorn-shop-{R1}"]
        )


class FakeRunner(Runner):
    """The real run_plan with ``run`` replaced: records titles, fails one step."""

    def __init__(self, fail: str) -> None:
        super().__init__(Connection(Login("admin", "h"), Path("/nonexistent")), self.warn)
        self.fail = fail
        self.ran: list[str] = []
        self.warnings: list[str] = []

    def warn(self, kind: str, text: str) -> None:
        del text
        self.warnings.append(kind)

    def run(self, step: Step) -> str:
        self.ran.append(step.title)
        if step.title == self.fail:
            raise StepFailed(step.title, step.shown(self.login), 1, "boom")
        return ""


class TestPlanUnderRunner:
    def test_failure_before_commit_undoes_and_raises(self) -> None:
        """A failure at 'point current' runs the undo steps in order, then raises."""
        plan = deploy(wanted(), serving(release(R1)))
        runner = FakeRunner(fail="point current at the release")
        with pytest.raises(StepFailed, match="step 'point current at the release' failed"):
            runner.run_plan(plan)
        assert runner.ran[-4:] == [
            "point current at the release",
            "put the previous nginx site back",
            f"stop gunicorn-shop-{NEW}",
            "remove the failed release",
        ]

    def test_failure_after_commit_is_returned(self) -> None:
        """A failed retire step is reported back; nothing is undone, later steps still run."""
        plan = deploy(wanted(keep=1), serving(release(R1)))
        runner = FakeRunner(fail="stop the previous release")
        late = runner.run_plan(plan)
        assert [f.title for f in late] == ["stop the previous release"]
        assert runner.ran[-1] == f"remove old releases ({R1})"
        assert "remove the failed release" not in runner.ran
        assert runner.warnings == ["warn"]


class TestEveryCommandInFull:
    """Each remote step of a first deploy and of its undo, compared word for word with the
    line a reader would type (written out here, not built by the code under test)."""

    def test_first_deploy(self) -> None:
        """Folders, venv, settings, manage.py, gunicorn, checks, nginx and the switch."""
        plan = deploy(wanted(), ServerFacts(user="admin"))
        rel, venv = f"/srv/app/shop/releases/{NEW}", f"/srv/app/shop/venvs/{REQ}"
        env = (
            "env DJANGO_SETTINGS_MODULE=pocketcloud_production "
            "POCKETCLOUD_SETTINGS_FILE=/srv/app/shop/shared/settings.json "
            f"POCKETCLOUD_RELEASE_SETTINGS_FILE={rel}/.settings.json "
            f"POCKETCLOUD_RELEASE={NEW} POCKETCLOUD_STATIC_ROOT=/srv/app/shop/static/{NEW} "
            f"{venv}/bin/python manage.py"
        )
        site = "/etc/nginx/sites-available/pocketcloud-shop.conf"
        default = "/etc/nginx/sites-available/pocketcloud-default.conf"
        assert [(name(s), s.command) for s in plan.steps if isinstance(s, Remote)] == [
            ("make the app's folders",
             "sudo install -d -o admin -g admin -m 755 /srv/app /srv/app/shop "
             "/srv/app/shop/static && sudo install -d -o admin -g admin -m 700 "
             "/srv/app/shop/releases /srv/app/shop/venvs /srv/app/shop/wheels "
             "/srv/app/shop/shared && sudo install -d -o admin -g www-data -m 750 "
             "/srv/app/shop/run"),
            ("make the virtualenv (pip install --no-index)",
             f"umask 077 && rm -rf {venv} && python3 -m venv {venv} && {venv}/bin/pip install "
             "-q --disable-pip-version-check --no-index --find-links /srv/app/shop/wheels "
             f"-r {rel}/requirements.txt && touch {venv}/.complete"),
            ("record the release",
             f"umask 077 && tee {rel}/.release.json.tmp >/dev/null && "
             f"mv -f {rel}/.release.json.tmp {rel}/.release.json"),
            ("production settings module",
             f"umask 077 && tee {rel}/django_app/pocketcloud_production.py.tmp >/dev/null && "
             f"mv -f {rel}/django_app/pocketcloud_production.py.tmp "
             f"{rel}/django_app/pocketcloud_production.py"),
            ("production settings (0600, SECRET_KEY kept)",
             f"python3 - /srv/app/shop/shared/settings.json {rel}/.settings.json "
             """'{"DEBUG": false, "ALLOWED_HOSTS": ["shop.example", "203.0.113.7"]}'"""),
            ("manage.py check --deploy",
             f"cd {rel}/django_app && umask 077 && {env} check --deploy"),
            ("manage.py migrate", f"cd {rel}/django_app && umask 077 && {env} migrate --noinput"),
            ("manage.py collectstatic",
             f"cd {rel}/django_app && umask 022 && {env} collectstatic --noinput"),
            (f"start gunicorn-shop-{NEW}",
             f"sudo tee /etc/pocketcloud/services/gunicorn-shop-{NEW}.json >/dev/null && "
             "sudo kill -HUP 1"),
            ("health check on its own socket",
             f"sh -s -- socket /srv/app/shop/run/{NEW}.sock shop.example /healthz /"),
            ("start nginx",
             "sudo tee /etc/pocketcloud/services/nginx.json >/dev/null && sudo kill -HUP 1"),
            ("wait for nginx", "sh -s -- nginx-pid"),
            ("nginx: refuse unknown hosts",
             f"sudo tee {default}.tmp >/dev/null && sudo mv -f {default}.tmp {default} && "
             f"sudo ln -sfn {default} /etc/nginx/sites-enabled/pocketcloud-default.conf && "
             "sudo rm -f /etc/nginx/sites-enabled/default"),
            ("nginx site for the release", f"sudo tee {site}.new >/dev/null"),
            ("switch nginx to the release (graceful reload)",
             f"{{ sudo cp -f {site} {site}.prev 2>/dev/null || true; }} && "
             f"sudo mv -f {site}.new {site} && "
             f"sudo ln -sfn {site} /etc/nginx/sites-enabled/pocketcloud-shop.conf && "
             "sudo nginx -t -q && sudo nginx -s reload"),
            ("check the site through nginx", f"sh -s -- release shop.example {NEW} 50"),
            ("point current at the release",
             f"ln -sfn releases/{NEW} /srv/app/shop/current.new && "
             "mv -T /srv/app/shop/current.new /srv/app/shop/current"),
        ]  # fmt: skip
        assert [(s.title, s.command) for s in plan.undo if isinstance(s, Remote)] == [
            ("put the previous nginx site back",
             f"sudo rm -f {site}.new; if grep -qs 'release {NEW}' {site}; then "
             f"{{ sudo mv -f {site}.prev {site} 2>/dev/null || sudo rm -f {site} "
             "/etc/nginx/sites-enabled/pocketcloud-shop.conf; }; "
             "sudo nginx -t -q && sudo nginx -s reload; fi; true"),
            (f"stop gunicorn-shop-{NEW}",
             f"sudo rm -f /etc/pocketcloud/services/gunicorn-shop-{NEW}.json && sudo kill -HUP 1"),
            ("remove the failed release",
             f"rm -rf {rel} /srv/app/shop/static/{NEW}"),
        ]  # fmt: skip

    def test_checks_carry_their_script(self) -> None:
        """Every ``sh -s`` step feeds checks.sh on stdin, shown as ``< checks.sh``."""
        plan = deploy(wanted(), ServerFacts(user="admin"))
        checks = [s for s in plan.steps if isinstance(s, Remote) and s.command.startswith("sh -s")]
        assert len(checks) == 3
        for step in checks:
            assert step.stdin == cmd.remote_script("checks.sh")
            assert step.shown(Login("admin", "h")).endswith("< checks.sh")

    def test_a_value_with_shell_syntax_stays_one_word(self) -> None:
        """A name with quotes, ``;`` and ``$()`` reaches every step as one quoted word (a
        validator refuses it earlier; quoting alone must already be safe)."""
        evil = 'x"; touch /tmp/pwned; echo "$(id)'
        rel = replace(release(NEW), names=(evil,))
        plan = deploy(wanted(rel), ServerFacts(user="admin"))
        for step in (*plan.steps, *plan.undo):
            if isinstance(step, Remote) and evil in step.command:
                assert shlex.quote(evil) in step.command, step.command
        health = remote(plan, "health check on its own socket").command
        assert shlex.split(health)[-3] == evil
