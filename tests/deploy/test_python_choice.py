"""The Python a project needs, on real instances: a Django 6 project (its pins need Python
>= 3.12; Debian 12 has 3.11.2) is launched on a debian-13 instance chosen for it and served;
on a debian-12 server the same project is refused before anything is shipped, with what it
needs, what the server has and the fixes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from pocketcloud.host import images as host_images
from pocketcloud.host.aptsource import debian_mirror
from tests.plugin.hosting import User, deploy, get, wait_for
from tests.plugin.instances import SSH_OPTIONS

pytestmark = [pytest.mark.live, pytest.mark.needs_root]
SETTINGS = """\
SECRET_KEY = "dev-only"
DEBUG = True
ALLOWED_HOSTS: list[str] = []
INSTALLED_APPS = ["django.contrib.staticfiles"]
ROOT_URLCONF = "six.urls"
WSGI_APPLICATION = "six.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
STATIC_URL = "/static/"
"""
URLS = """\
import sys

import django
from django.http import HttpResponse
from django.urls import path


def home(request):
    return HttpResponse(
        f"Hello from Django {django.get_version()} on Python {sys.version.split()[0]}"
    )


urlpatterns = [path("", home)]
"""
MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "six.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""
WSGI = """\
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "six.settings")
application = get_wsgi_application()
"""


#: Django 6 needs Python >= 3.12; MarkupSafe 1.1.1 has no wheel for 3.13 (an sdist with a
#: C extension: built here it would be a cp311 wheel, so the server builds it)
REQUIREMENTS = "asgiref==3.11.0\nDjango==6.0.1\nMarkupSafe==1.1.1\nsqlparse==0.5.5\n"


@pytest.fixture(scope="module")
def debian_13() -> host_images.Image:
    """The debian-13 image in the machine's cache, built once if missing (about a minute)."""
    return host_images.build_image(host_images.cache_dir(), "debian-13")


@pytest.fixture(scope="module")
def django6(user: User) -> Path:
    """A stock-layout Django 6 project, requirements pinned as ``pip freeze`` would: nothing
    says which Python it needs but its pins (Django 6 requires Python >= 3.12)."""
    root = user.home / "six"
    (root / "six").mkdir(parents=True)
    files = {"manage.py": MANAGE, "six/__init__.py": "", "six/settings.py": SETTINGS,
             "six/urls.py": URLS, "six/wsgi.py": WSGI,
             "requirements.txt": REQUIREMENTS}  # fmt: skip
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_launched_on_the_image_its_pins_need(
    user: User, django6: Path, debian_13: host_images.Image
) -> None:
    """deploy passes debian-12 over (Django 6.0.1 requires Python >=3.12), launches from
    debian-13, and serves the site from a venv of its Python 3.13; MarkupSafe, which has
    no wheel for it, is shipped as its sdist and built by the server's pip."""
    out = deploy(user, django6, "--app", "six")
    assert "not debian-12: django 6.0.1 requires python >=3.12" in out.lower(), out
    assert "a new instance from debian-13 (Python 3.13." in out, out
    rec = user.record("six")
    body = wait_for(rec["host"], rec["host"], "Hello from Django 6.0.1")
    assert "on Python 3.13." in body
    assert "MarkupSafe-1.1.1.tar.gz" in user.ssh("six", "ls /srv/app/six/wheels").split()
    built = "/srv/app/six/venvs/*/bin/python -c 'import markupsafe; print(markupsafe.__version__)'"
    assert user.ssh("six", built).strip() == "1.1.1"
    user.run("destroy", "--app", "six", "--yes")


def test_refused_on_a_debian_12_server(user: User, django6: Path) -> None:
    """With debian-12 chosen by hand, the deploy stops before shipping anything, in one
    message: the need, what the server has, and the fixes (debian-13 first)."""
    out = user.fails("deploy", django6, "--profile", "pocketcloud-test", "--app", "old",
                     "--image-name", "debian-12")  # fmt: skip
    message = " ".join(out.split())
    assert (
        "the project needs any python 3; on the server: python3: django 6.0.1 requires "
        "python >=3.12"
    ) in message.lower(), out
    assert "Fix: a new instance from debian-13 (pocketcloud deploy --image-name debian-13)" in (
        message
    ), out
    assert user.ssh("old", "ls /srv/app 2>/dev/null; true") == ""  # nothing shipped
    user.run("destroy", "--app", "old", "--yes")


FREEZE = Path(__file__).parent / "data" / "wagtail-freeze.txt"


@pytest.fixture(scope="module")
def wagtail_site(user: User) -> Path:
    """The issue's project: ``wagtail start``, its requirements written by ``pip freeze`` as
    the seed does (the freeze, taken once on Python 3.11.7, is kept in tests/deploy/data so
    a new release cannot change the test; it pins soupsieve 4.1.4, which needs Python
    >= 3.11.5)."""
    venv = user.home / "wagtail-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(FREEZE)], check=True, env={**os.environ, **user.env})
    root = user.home / "wagsite"
    root.mkdir()
    subprocess.run([str(venv / "bin" / "wagtail"), "start", "wagsite", str(root)], check=True,
                   capture_output=True)  # fmt: skip
    freeze = subprocess.run([str(venv / "bin" / "pip"), "freeze"], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    (root / "requirements.txt").write_text(freeze)
    return root


def test_wagtail_with_pip_freeze_requirements(
    user: User, wagtail_site: Path, debian_13: host_images.Image
) -> None:
    """Debian 12's Python 3.11.2 cannot install soupsieve 4.1.4: the deploy launches from
    debian-13 and the site serves its home page, the admin's login and its static files."""
    out = deploy(user, wagtail_site, "--app", "wagsite")
    assert "not debian-12: soupsieve 4.1.4 requires python >=3.11.5" in out.lower(), out
    rec = user.record("wagsite")
    home = wait_for(rec["host"], rec["host"], "Wagtail")
    assert "Welcome to your new Wagtail site" in home
    status, login = get(rec["host"], rec["host"], "/admin/login/")
    assert status == 200
    assert 'name="password"' in login
    status, css = get(rec["host"], rec["host"], "/static/wagtailadmin/css/core.css")
    assert status == 200
    assert "{" in css
    user.run("destroy", "--app", "wagsite", "--yes")


#: the Python the seed's step installs here, and its source as Debian ships it (the upstream
#: tarball, signed upstream: the checksum is the one in pyenv's definition of 3.13.5)
PYENV_PYTHON = "3.13.5"
CPYTHON_SOURCE = "pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz"
CPYTHON_SHA256 = "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"


@pytest.fixture(scope="module")
def debian_12_build() -> host_images.Image:
    """Debian 12 (Python 3.11.2) with the compiler and headers pyenv builds Python with."""
    return host_images.build_image(host_images.cache_dir(), "debian-12-build")


@pytest.fixture(scope="module")
def cpython_source(user: User) -> Path:
    """CPython 3.13.5's source, fetched once per machine from the host's Debian mirror
    (python.org is not reachable from here) into the tests' shared download cache."""
    cache = Path(user.env["XDG_CACHE_HOME"]) / f"Python-{PYENV_PYTHON}.tar.xz"
    if not cache.is_file() or hashlib.sha256(cache.read_bytes()).hexdigest() != CPYTHON_SHA256:
        url = f"{debian_mirror().rstrip('/')}/{CPYTHON_SOURCE}"
        partial = cache.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=120) as answer:  # noqa: S310 (the mirror)
            partial.write_bytes(answer.read())
        assert hashlib.sha256(partial.read_bytes()).hexdigest() == CPYTHON_SHA256, url
        partial.rename(cache)
    return cache


def pyenv_checkout() -> Path:
    """This machine's pyenv (a checkout, as the seed's ``git clone`` makes one)."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    assert (
        root / "plugins" / "python-build" / "share" / "python-build" / PYENV_PYTHON
    ).is_file(), f"no pyenv knowing Python {PYENV_PYTHON} at {root}"
    return root


def install_pyenv(user: User, app: str, source: Path | None = None) -> None:
    """What the seed's reader does on the server before ``pyenv install``: pyenv in
    ~/.pyenv; with ``source``, its download cache (``~/.pyenv/cache``) holds CPython's
    source, which pyenv otherwise fetches from python.org (not reachable from here)."""
    rec = user.record(app)
    ssh = " ".join(["ssh", "-i", rec["key"], *SSH_OPTIONS])
    where = f"{rec['user']}@{rec['host']}"
    excluded = ["--exclude=/versions", "--exclude=/cache", "--exclude=/.git", "--exclude=/test",
                "--exclude=/shims", "--exclude=/version"]  # fmt: skip
    rsync = ["rsync", "-a", "-e", ssh]
    subprocess.run([*rsync, *excluded, f"{pyenv_checkout()}/", f"{where}:.pyenv/"], check=True)
    if source is not None:
        user.ssh(app, "mkdir -p ~/.pyenv/cache")
        subprocess.run([*rsync, str(source), f"{where}:.pyenv/cache/"], check=True)


def test_the_seeds_pyenv_step(
    user: User, django6: Path, debian_12_build: host_images.Image, cpython_source: Path
) -> None:
    """A project whose .python-version says 3.13.5, on a debian-12 server (Python 3.11.2):
    refused before shipping, pyenv named as a fix; with pyenv but no way to CPython's
    source, refused again, naming the failed ``pyenv install``; with the source reachable,
    deploy runs the seed's ``pyenv install`` (CPython built from source on the server),
    makes the venv from that Python and serves the site on it."""
    (django6 / ".python-version").write_text(f"{PYENV_PYTHON}\n")
    try:
        out = user.fails("deploy", django6, "--profile", "pocketcloud-test", "--app", "seed",
                         "--image-name", "debian-12-build")  # fmt: skip
        message = " ".join(out.split())
        assert f"the project needs .python-version {PYENV_PYTHON};" in message, out
        assert "pyenv on the server (the seed's `pyenv install`)" in message, out
        install_pyenv(user, "seed")
        out = user.fails("deploy", django6, "--profile", "pocketcloud-test", "--app", "seed")
        message = " ".join(out.split())
        install = f"/home/admin/.pyenv/bin/pyenv install --skip-existing {PYENV_PYTHON}"
        assert f"`{install}` failed on the server (its output is above); the project needs " in (
            message
        ), out
        assert user.ssh("seed", "ls /srv/app 2>/dev/null; true") == ""  # nothing shipped
        install_pyenv(user, "seed", cpython_source)
        out = deploy(user, django6, "--app", "seed")
        assert f"pyenv install --skip-existing {PYENV_PYTHON}" in out, out
        rec = user.record("seed")
        body = wait_for(rec["host"], rec["host"], "Hello from Django 6.0.1")
        assert f"on Python {PYENV_PYTHON}" in body
        venv_python = user.ssh("seed", "readlink -f /srv/app/seed/venvs/*/bin/python")
        assert f".pyenv/versions/{PYENV_PYTHON}/bin/python3" in venv_python
    finally:
        (django6 / ".python-version").unlink()
        user.run("destroy", "--app", "seed", "--yes")
