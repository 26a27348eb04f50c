"""``pocketcloud django new``, run for real: a venv with Django and gunicorn from the
package index, startproject, .conf/*.json, git — then the project itself is run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path, PurePosixPath

import pytest

from pocketcloud.deploy.project import locate_project
from tests.plugin.clouds import BIN, free_port

pytestmark = pytest.mark.live

NAME = "mysite"


def pocketcloud(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the pocketcloud command (starts a process)."""
    return subprocess.run(
        [str(BIN / "pocketcloud"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )


def scaffold(parent: Path, name: str, env: dict[str, str] | None = None) -> Path:
    """``pocketcloud django new <name> --dir <parent>``, failing the test if it fails."""
    done = pocketcloud("django", "new", name, "--dir", parent, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return parent / name


def manage(
    project: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``manage.py <args>`` with the project's own venv (starts a process)."""
    return subprocess.run(
        [str(project / ".venv/bin/python"), "manage.py", *args],
        cwd=cwd or project / "django_app",
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def print_settings(project: Path, env: dict[str, str]) -> str:
    """DEBUG and ALLOWED_HOSTS as the project's settings resolve them under ``env``."""
    code = "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)"
    done = manage(project, "shell", "-c", code, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(project), *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scaffolded project for the module (creates a venv; pip installs Django)."""
    return scaffold(tmp_path_factory.mktemp("scaffold"), NAME)


class TestDjangoNew:
    def test_layout(self, project: Path) -> None:
        """The seed's layout: top folder, .venv, .conf, django_app with the package inside."""
        for relative in (
            ".venv/bin/python",
            ".venv/bin/gunicorn",
            ".gitignore",
            "requirements.txt",
            ".conf/settings_common.json",
            ".conf/settings_local.json",
            "django_app/manage.py",
            *(f"django_app/{NAME}/{m}.py" for m in ("settings", "urls", "wsgi", "asgi", "views")),
        ):
            assert (project / relative).is_file(), relative
        assert not (project / NAME).exists(), "startproject's outer folder was renamed"
        ignored = (project / ".gitignore").read_text().split()
        assert {".venv/", ".conf/settings_local.json", "db.sqlite3", "staticfiles/"} <= set(ignored)
        common = json.loads((project / ".conf/settings_common.json").read_text())
        assert common["TIME_ZONE"] == "UTC"
        assert common["INSTALLED_APPS_EXTRA"] == []

    def test_output_shows_the_seed_steps(self, tmp_path: Path) -> None:
        """Each step is echoed as the shell command a learner would type (seen on a failure
        too, which names its step and leaves nothing behind)."""
        done = pocketcloud("django", "new", "other", "--dir", tmp_path, "--python", "/no/python3")
        assert done.returncode == 1
        assert "$ mkdir other && cd other" in done.stdout
        assert "$ /no/python3 -m venv .venv" in done.stdout
        assert "step 'make the virtual environment' failed" in done.stdout
        assert "Traceback" not in done.stdout + done.stderr
        assert list(tmp_path.iterdir()) == []

    def test_requirements_are_pip_freeze(self, project: Path) -> None:
        """requirements.txt is the venv's `pip freeze`: pinned, with Django and gunicorn."""
        frozen = subprocess.run(
            [str(project / ".venv/bin/pip"), "freeze"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        lines = (project / "requirements.txt").read_text().splitlines()
        assert lines == frozen.splitlines()
        assert all("==" in line for line in lines)
        names = {line.split("==")[0].lower() for line in lines}
        assert {"django", "gunicorn", "asgiref", "sqlparse"} <= names

    def test_git_commit_without_local_settings(self, project: Path) -> None:
        """One commit; settings_local.json is not in it, the venv neither; nothing left over."""
        assert len(git(project, "log", "--oneline").splitlines()) == 1
        tracked = git(project, "ls-files").splitlines()
        assert ".conf/settings_common.json" in tracked
        assert f"django_app/{NAME}/settings.py" in tracked
        assert not [path for path in tracked if "settings_local" in path or ".venv" in path]
        assert git(project, "status", "--porcelain") == ""

    def test_fresh_secret_key(self, project: Path, tmp_path: Path) -> None:
        """settings_local.json holds a fresh 50-character SECRET_KEY (another scaffold gets
        another key), readable by its owner only. That other scaffold runs where git has no
        identity: its commit is pocketcloud's, and git's configuration is left alone."""
        local = project / ".conf/settings_local.json"
        settings = json.loads(local.read_text())
        assert len(settings["SECRET_KEY"]) == 50
        assert not settings["SECRET_KEY"].startswith("django-insecure-")
        assert settings["DEBUG"] is True
        assert settings["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= settings.keys()
        assert local.stat().st_mode & 0o777 == 0o600
        no_identity = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        other = scaffold(tmp_path, "othersite", env=no_identity)
        author = git(other, "log", "--format=%an <%ae>")
        assert author.strip() == "pocketcloud <pocketcloud@localhost>"
        assert "user" not in (other / ".git/config").read_text()
        other_key = json.loads((other / ".conf/settings_local.json").read_text())["SECRET_KEY"]
        assert len(other_key) == 50
        assert other_key != settings["SECRET_KEY"]

    def test_manage_check(self, project: Path) -> None:
        """`manage.py check` passes with the project's venv and local settings."""
        done = manage(project, "check")
        assert done.returncode == 0, done.stderr
        assert "no issues" in done.stdout

    def test_production_settings_file(self, project: Path, tmp_path: Path) -> None:
        """POCKETCLOUD_SETTINGS_FILE overrides .conf/*.json (check --deploy sees DEBUG off);
        DJANGO_ALLOWED_HOSTS overrides the file."""
        production = tmp_path / "settings.json"
        production.write_text(
            json.dumps({"DEBUG": False, "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": ["example.test"]})
        )
        env = {"POCKETCLOUD_SETTINGS_FILE": str(production)}
        checked = manage(project, "check", "--deploy", env=env)
        assert checked.returncode == 0, checked.stderr
        assert "security.W018" not in checked.stdout + checked.stderr  # DEBUG is off
        assert print_settings(project, env) == "False ['example.test']"
        env["DJANGO_ALLOWED_HOSTS"] = "a.test, b.test"
        assert print_settings(project, env) == "False ['a.test', 'b.test']"
        env["DJANGO_DEBUG"] = "1"
        assert print_settings(project, env).startswith("True ")

    def test_missing_secret_key(self, project: Path, tmp_path: Path) -> None:
        """Without settings_local.json (as on a server) and nothing else, settings refuse to
        load and say where the SECRET_KEY goes."""
        copy = tmp_path / "copy"
        shutil.copytree(project / "django_app", copy / "django_app")
        shutil.copytree(project / ".conf", copy / ".conf")
        (copy / ".conf/settings_local.json").unlink()
        done = manage(project, "check", cwd=copy / "django_app")
        assert done.returncode != 0
        assert "ImproperlyConfigured: SECRET_KEY is not set" in done.stderr
        assert ".conf/settings_local.json" in done.stderr
        with_env = manage(project, "check", cwd=copy / "django_app", env={"DJANGO_SECRET_KEY": "k"})
        assert with_env.returncode == 0, with_env.stderr

    def test_runserver(self, project: Path) -> None:
        """The dev server answers /healthz with "ok" and / with the release and host."""
        address = f"127.0.0.1:{free_port()}"
        server = subprocess.Popen(
            [str(project / ".venv/bin/python"), "manage.py", "runserver", "--noreload", address],
            cwd=project / "django_app",
            env={**os.environ, "POCKETCLOUD_RELEASE": "r-test-42"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            health = _get_when_up(f"http://{address}/healthz", server)
            assert health == ("text/plain", "ok")
            content_type, page = _get_when_up(f"http://{address}/", server)
            assert content_type.startswith("text/html")
            assert f"<h1>Hello from {NAME}</h1>" in page
            assert "<code>r-test-42</code>" in page
            assert f"<code>{socket.gethostname()}</code>" in page
        finally:
            server.terminate()
            try:
                server.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()

    def test_locate_project(self, project: Path) -> None:
        """The deploy tool finds the scaffold: django_app, mysite.settings, requirements.txt."""
        found = locate_project(project)
        assert found.root == project.resolve()
        assert found.manage_dir == PurePosixPath("django_app")
        assert found.settings_module == f"{NAME}.settings"
        assert found.requirements == PurePosixPath("requirements.txt")
        assert found.name == NAME

    def test_invalid_name(self, tmp_path: Path) -> None:
        """`new 1bad` is refused with Django's rule, exit code 1, nothing made."""
        done = pocketcloud("django", "new", "1bad", "--dir", tmp_path)
        assert done.returncode == 1
        assert "'1bad' is not a valid project name" in done.stdout
        assert "Traceback" not in done.stdout + done.stderr
        assert list(tmp_path.iterdir()) == []

    def test_module_name(self, tmp_path: Path) -> None:
        """A name that is already a Python module (`os`) is refused."""
        done = pocketcloud("django", "new", "os", "--dir", tmp_path)
        assert done.returncode == 1
        assert "conflicts with the name of an existing Python module" in done.stdout

    def test_existing_folder(self, tmp_path: Path) -> None:
        """An existing target folder: exit code 1, a clear message, the folder untouched."""
        (tmp_path / NAME).mkdir()
        (tmp_path / NAME / "keep.txt").write_text("mine")
        done = pocketcloud("django", "new", NAME, "--dir", tmp_path)
        assert done.returncode == 1
        assert f"{tmp_path / NAME} already exists" in done.stdout
        assert [p.name for p in (tmp_path / NAME).iterdir()] == ["keep.txt"]
        assert (tmp_path / NAME / "keep.txt").read_text() == "mine"


def _get_when_up(url: str, server: subprocess.Popen[bytes]) -> tuple[str, str]:
    """GET ``url`` once the server listens: (content type, body)."""
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            _, err = server.communicate()
            raise AssertionError(f"runserver exited: {err.decode(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http to the test's server)
                return response.headers.get_content_type(), response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
