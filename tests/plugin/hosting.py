"""Hosting: the ``pocketcloud`` command run as its user would run it (its own HOME and AWS
profile, the module's cloud as ``pocketcloud-test``), a scaffolded project, HTTP checks.

Fixtures: ``user`` and ``project``. Helpers: ``deploy``, ``get``, ``wait_for``.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import BIN, PROFILE, Server
from tests.plugin.instances import SSH_OPTIONS


@dataclass
class User:
    """A developer on this machine: a HOME, AWS config files and the pocketcloud command."""

    env: dict[str, str]

    @property
    def home(self) -> Path:
        return Path(self.env["HOME"])

    def call(
        self, *args: str | Path, cwd: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """``pocketcloud <args>`` (stdout and stderr together), in ``cwd`` (default: HOME)."""
        return subprocess.run(
            [str(BIN / "pocketcloud"), *map(str, args)],
            env={**self.env, "COLUMNS": "250", **env},
            cwd=cwd or self.home,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )

    def run(
        self, *args: str | Path, check: bool = True, cwd: Path | None = None, **env: str
    ) -> str:
        """``pocketcloud <args>``; its output."""
        done = self.call(*args, cwd=cwd, **env)
        if check:
            assert done.returncode == 0, done.stdout
        return done.stdout

    def fails(self, *args: str | Path, code: int = 1, cwd: Path | None = None, **env: str) -> str:
        """``pocketcloud <args>`` that must exit ``code`` without a traceback of ours; its
        output."""
        done = self.call(*args, cwd=cwd, **env)
        assert done.returncode == code, done.stdout
        assert "pocketcloud/cli/" not in done.stdout, done.stdout
        assert "pocketcloud/deploy/" not in done.stdout, done.stdout
        return done.stdout

    def record(self, app: str) -> dict[str, Any]:
        """The app's record this machine keeps."""
        path = self.home / ".config" / "pocketcloud" / "apps" / f"{app}.json"
        return dict(json.loads(path.read_text()))

    def ssh(self, app: str, command: str, *, check: bool = True) -> str:
        """A command on the app's server over OpenSSH with the app's key."""
        rec = self.record(app)
        done = subprocess.run(
            ["ssh", "-i", rec["key"], *SSH_OPTIONS, f"{rec['user']}@{rec['host']}", command],
            capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if check:
            assert done.returncode == 0, (command, done.stdout, done.stderr)
        return done.stdout


def get(
    address: str, host: str, path: str = "/", port: int = 80, timeout: float = 5
) -> tuple[int, str]:
    """One HTTP GET from this machine with a Host header: (status, body); (0, error) if
    the connection fails or is closed without an answer."""
    request = urllib.request.Request(f"http://{address}:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (http only)
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()
    except OSError as exc:
        return 0, str(exc)


def wait_for(address: str, host: str, expect: str = "", timeout: float = 60, port: int = 80) -> str:
    """Poll until GET / answers 200 (containing ``expect``); the body."""
    deadline = time.monotonic() + timeout
    status, body = 0, ""
    while time.monotonic() < deadline:
        status, body = get(address, host, port=port, timeout=2)
        if status == 200 and expect in body:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{address}:{port} gave {status} {body[:300]!r}, not 200 with {expect!r}")


@pytest.fixture(scope="module")
def user(cloud: Server) -> User:
    """The developer, with the cloud's profile as ``pocketcloud-test``; wheel cache shared
    by the session's modules."""
    cache = Path("/var/tmp/pocketcloud-test-cache")
    cache.mkdir(exist_ok=True)
    return User({**cloud.env, "XDG_CACHE_HOME": str(cache), "PIP_CACHE_DIR": str(cache / "pip")})


@pytest.fixture(scope="module")
def project(user: User) -> Path:
    """A project made by ``pocketcloud django new`` (the seed's layout), committed."""
    parent = user.home / "code"
    parent.mkdir()
    user.run("django", "new", "mysite", "--dir", parent)
    return parent / "mysite"


def deploy(user: User, project: Path, *args: str) -> str:
    """``pocketcloud deploy`` of ``project`` to the test cloud; its output."""
    return user.run("deploy", project, "--profile", PROFILE, *args)
