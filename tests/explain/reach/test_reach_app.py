"""``explain reach <app>`` on a Django app deployed by ``pocketcloud deploy`` (gunicorn
behind nginx): healthy, ALLOWED_HOSTS wrong (Django's 400), gunicorn down (nginx's 502).

The module shares one deploy; each broken setup is undone before the next test.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import cloud
from tests.plugin.hosting import User, deploy, get, project, user, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")
__all__ = ["cloud", "project", "user"]
APP = "mysite"
#: the serving release's own settings (DEBUG, ALLOWED_HOSTS), read after shared/settings.json
SETTINGS = f"/srv/app/{APP}/current/.settings.json"
SERVICES = "/etc/pocketcloud/services"


@pytest.fixture(scope="module")
def deployed(user: User, project: Path) -> dict[str, Any]:
    """The app deployed once; its record."""
    deploy(user, project)
    return user.record(APP)


def explain(user: User, *args: str) -> dict[str, Any]:
    """``pocketcloud explain reach <args> --json`` as the developer runs it."""
    done = user.call("explain", "reach", *args, "--json")
    assert done.returncode in (0, 1), done.stdout
    return dict(json.loads(done.stdout))


def wait_status(rec: dict[str, Any], status: int, timeout: float = 30) -> None:
    """Poll the site until it answers ``status``."""
    deadline = time.monotonic() + timeout
    got = (0, "")
    while time.monotonic() < deadline:
        got = get(rec["host"], rec["names"][0], timeout=2)
        if got[0] == status:
            return
        time.sleep(0.3)
    raise AssertionError(f"wanted {status}, got {got[0]} {got[1][:200]!r}")


def write(user: User, settings: str) -> None:
    """Replace the app's production settings file on the server."""
    user.ssh(APP, f"printf %s {shlex.quote(settings)} | sudo tee {SETTINGS} >/dev/null")


def gunicorn(user: User) -> str:
    """The name of the serving release's gunicorn service."""
    services: dict[str, Any] = json.loads(user.ssh(APP, "cat /run/pocketcloud/services.json"))
    return next(name for name in services if name.startswith(f"gunicorn-{APP}-"))


def restart_gunicorn(user: User) -> None:
    """kill -9 gunicorn's master: the instance's init starts it again (rereads settings)."""
    services: dict[str, Any] = json.loads(user.ssh(APP, "cat /run/pocketcloud/services.json"))
    user.ssh(APP, f"sudo kill -9 {services[gunicorn(user)]['pid']}")


class TestApp:
    """A deployed app, named by its app name (the instance's pocketcloud:app tag)."""

    def test_healthy(self, user: User, deployed: dict[str, Any]) -> None:
        """Nothing blocks: port 80 (the default), nginx answers 200 with the release."""
        wait_for(deployed["host"], deployed["names"][0])
        report = explain(user, APP)
        assert report["verdict"]["layer"] == "none", report
        assert report["port"] == 80
        answer = next(x for x in report["layers"] if x["name"] == "answer")
        assert "200" in " ".join(answer["evidence"])
        assert "release" in " ".join(answer["evidence"])
        listener = next(x for x in report["layers"] if x["name"] == "listener")
        assert "nginx" in " ".join(listener["evidence"])

    def test_allowed_hosts_wrong(self, user: User, deployed: dict[str, Any]) -> None:
        """ALLOWED_HOSTS without the app's name: Django answers 400 (DisallowedHost);
        blocked at the answer, fix: add that host to ALLOWED_HOSTS."""
        original = user.ssh(APP, f"sudo cat {SETTINGS}")
        broken = json.loads(original) | {"ALLOWED_HOSTS": ["wrong.example"]}
        write(user, json.dumps(broken))
        try:
            restart_gunicorn(user)
            wait_status(deployed, 400)
            report = explain(user, APP, "80")
            assert report["verdict"]["layer"] == "answer", report
            assert "DisallowedHost" in report["verdict"]["summary"]
            assert "ALLOWED_HOSTS" in report["verdict"]["fix"]
            assert repr(deployed["names"][0]) in report["verdict"]["fix"]
        finally:
            write(user, original)
            restart_gunicorn(user)
            wait_status(deployed, 200)

    def test_gunicorn_down(self, user: User, deployed: dict[str, Any]) -> None:
        """gunicorn's service removed (it stays down): nginx answers 502; blocked at the
        answer, naming the socket nginx proxies to and `pocketcloud logs`."""
        name = gunicorn(user)
        user.ssh(APP, f"sudo mv {SERVICES}/{name}.json /root/ && sudo kill -HUP 1")
        try:
            wait_status(deployed, 502)
            report = explain(user, APP)
            assert report["verdict"]["layer"] == "answer", report
            assert "gunicorn" in report["verdict"]["summary"]
            assert f"unix:/srv/app/{APP}/run/" in report["verdict"]["summary"]
            answer = next(x for x in report["layers"] if x["name"] == "answer")
            assert "socket" in " ".join(answer["evidence"]), answer
            assert f"pocketcloud logs --app {APP}" in report["verdict"]["fix"]
        finally:
            user.ssh(APP, f"sudo mv /root/{name}.json {SERVICES}/ && sudo kill -HUP 1")
            wait_status(deployed, 200)
