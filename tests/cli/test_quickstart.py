"""The main job, `pocketcloud quickstart`, against a cloud of the test's own."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.plugin.clouds import BIN, PROFILE, Server

pytestmark = [pytest.mark.live, pytest.mark.needs_root]


def _quickstart(cloud: Server, pem: Path) -> str:
    result = subprocess.run(
        [str(BIN / "pocketcloud"), "quickstart", "--profile", PROFILE, "--key-file", str(pem)],
        env={**cloud.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_quickstart_and_a_lost_private_key(cloud: Server, tmp_path: Path) -> None:
    """The quickstart launches an instance, logs in with the key it saved, and shows
    8080 blocked by the security group until it authorizes it through the API; then the
    main job: a scaffolded Django site deployed behind nginx, its page fetched, a code
    change deployed again as a new release, and the ssh command printed. Run
    again after the private key is lost, it makes a new key pair, replaces the instance
    that only the lost key opened, and logs in again."""
    pem = tmp_path / "quickstart.pem"
    first = _quickstart(cloud, pem)
    address = re.search(r"ssh -i \S+ admin@(\S+)", first)
    assert address is not None, first
    try:
        assert oct(pem.stat().st_mode & 0o777) == "0o400"
        assert "\nroot\n" in first  # sudo id -un, over SSH
        assert "8080 is blocked by the security group" in first
        assert "8080 answers now" in first
        releases = re.findall(r"release <code>([^<]+)</code>", first)
        assert len(set(releases)) == 2, first  # the first deploy's page, then the change's
        assert "and deployed again</p>" in first
        assert first.count("mysite is served at http://") == 2
        assert "log in: ssh -i ~/.ssh/mysite.pem admin@" in first
        pem.chmod(0o600)
        pem.unlink()
        second = _quickstart(cloud, pem)
        assert "its private key was lost" in second
        assert "\nroot\n" in second
        assert "8080 answers now" in second
        assert second.count("mysite is served at http://") == 2
    finally:
        subprocess.run(["ssh-keygen", "-R", address.group(1)], capture_output=True, check=False)
