"""``explain hosting`` and ``explain key-pair`` after a real ``pocketcloud deploy``: the app,
its URL, nginx on port 80, the release's gunicorn socket, the releases with the serving
one marked, and the private key deploy saved."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import cloud
from tests.plugin.hosting import User, deploy, project, user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")
__all__ = ["cloud", "project", "user"]
APP = "mysite"


@pytest.fixture(scope="module")
def deployed(user: User, project: Path) -> dict[str, Any]:
    """The app deployed once; its record."""
    deploy(user, project)
    return user.record(APP)


def explain(user: User, *args: str) -> str:
    """``pocketcloud explain <args>`` as the developer runs it; exit 0, no traceback."""
    done = user.call("explain", *args)
    assert done.returncode == 0, done.stdout
    assert "Traceback" not in done.stdout, done.stdout
    return done.stdout


class TestAfterDeploy:
    """The topics read what the deploy made."""

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_hosting(self, user: User, deployed: dict[str, Any], lang: str) -> None:
        """The app on its instance, its URL, nginx listening on port 80, gunicorn on the
        serving release's socket, and that release marked as current."""
        current = user.ssh(APP, f"readlink /srv/app/{APP}/current").strip().rpartition("/")[2]
        out = explain(user, "hosting", "--lang", lang)
        assert f"{APP}" in out
        assert deployed["instance_id"] in out
        assert f"http://{deployed['host']}/" in out
        assert "0.0.0.0:80" in out
        assert f"unix:/srv/app/{APP}/run/{current}.sock" in out
        assert f"→ {current}" in out

    def test_hosting_json(self, user: User, deployed: dict[str, Any]) -> None:
        """--json: the app's instance, URL and releases, the current one flagged."""
        answer = json.loads(explain(user, "hosting", "--json"))
        app = next(a for a in answer["facts"]["apps"] if a["name"] == APP)
        assert app["instance_id"] == deployed["instance_id"]
        assert app["url"] == f"http://{deployed['host']}/"
        assert [r["current"] for r in app["releases"]] == [True]
        assert app["unix_sockets"][0][1] == "gunicorn"

    def test_key_pair(self, user: User, deployed: dict[str, Any]) -> None:
        """The app's key pair, the private key deploy saved in ~/.ssh, and the lines that
        log in to the app's instance with it."""
        pem = user.home / ".ssh" / f"{APP}.pem"
        out = explain(user, "key-pair", "--lang", "en")
        assert f"private key here: {pem}" in out
        assert f"chmod 400 {pem}" in out
        assert f"ssh -i {pem} {deployed['user']}@{deployed['host']}" in out
