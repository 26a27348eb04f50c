"""Install exactly the locked Python packages into a virtualenv; re-resolve the lock.

    python3 tools/locked_venv.py sync VENV   # VENV holds exactly the lock, and pocketcloud
    python3 tools/locked_venv.py lock VENV   # re-resolve the lock (an upgrade: its own commit)

The lock is a requirements file with a sha256 for every file of every pinned release
(runtime, dev and the installers themselves: uv, pip, setuptools, wheel), made by
`uv pip compile --generate-hashes`. It names no package index: where packages come from is
this machine's own pip configuration (`pip config list`: index-url, extra-index-url,
find-links, cert), handed to uv as the same settings. pip bootstraps uv once (hash-checked,
from the lock); uv installs the rest (a fresh venv in seconds, where pip takes a minute).

Side effects: creates/changes VENV; downloads from the configured indexes. Stdlib only.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the pip-configuration reader is stdlib only, so it serves before pocketcloud is installed
sys.path.insert(0, str(ROOT / "src"))
from pocketcloud.deploy.pipconfig import pip_settings, uv_env, uv_index_args  # noqa: E402

LOCK = ROOT / "requirements" / "lock.txt"
INSTALLERS = ROOT / "requirements" / "install.in"
PYTHON_VERSION = "3.11"  # Debian 12's Python; the lock is resolved for it
# a release younger than this is left out of a new lock: the index's mirrors may not all
# serve it yet (seen: one answer listing typer 0.29.3, the next not)
SETTLE = dt.timedelta(days=1)


def locked_block(name: str, lock_text: str) -> str:
    """One package's pin with its hashes, cut out of the lock text."""
    match = re.search(rf"^{re.escape(name)}==\S+(?: \\\n\s+--hash=\S+)+", lock_text, re.M)
    if not match:
        raise SystemExit(f"{LOCK} pins no {name}")
    return match.group(0)


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    """Run a command, echoed; exit with its status if it fails."""
    print("  $", shlex.join(cmd), flush=True)
    done = subprocess.run(cmd, env=env, check=False)
    if done.returncode:
        raise SystemExit(done.returncode)


def bootstrap_uv(venv: Path) -> Path:
    """The venv's uv at the locked version, installed by pip with its hash checked."""
    uv = venv / "bin" / "uv"
    want = re.search(r"^uv==(\S+)", LOCK.read_text(), re.M)
    if uv.exists() and want:
        have = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False)
        if f"uv {want.group(1)}" in have.stdout:
            return uv
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as pin:
        pin.write(locked_block("uv", LOCK.read_text()) + "\n")
        pin.flush()
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        run([*pip, "--require-hashes", "--no-deps", "-r", pin.name])
    return uv


def sync(venv: Path) -> None:
    """Make VENV hold exactly the lock's packages, then pocketcloud itself (editable)."""
    if not (venv / "bin" / "python").exists():
        run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    settings = pip_settings(python)
    uv = str(bootstrap_uv(venv))
    env = uv_env(settings)
    index = uv_index_args(settings)
    run([uv, "pip", "sync", "-q", "--python", python, "--require-hashes", *index, str(LOCK)], env)
    # built with the locked setuptools already in the venv, not a fresh download of the newest
    editable = ["--no-deps", "--no-build-isolation", "-e", str(ROOT)]
    run([uv, "pip", "install", "-q", "--python", python, *editable], env)


def lock(venv: Path) -> None:
    """Re-resolve requirements/lock.txt from pyproject.toml and requirements/install.in."""
    python = str(venv / "bin" / "python")
    settings = pip_settings(python)
    settled = (dt.datetime.now(dt.UTC) - SETTLE).strftime("%Y-%m-%dT%H:%M:%SZ")
    cmd = [
        str(venv / "bin" / "uv"), "pip", "compile", "-q", "--upgrade",
        str(ROOT / "pyproject.toml"), str(INSTALLERS), "--extra", "dev",
        "--generate-hashes", "--python-version", PYTHON_VERSION, "--python-platform", "linux",
        "--exclude-newer", settled, "--custom-compile-command", "make lock",
        *uv_index_args(settings), "-o", str(LOCK),
    ]  # fmt: skip
    run(cmd, uv_env(settings))


def main(argv: list[str]) -> None:
    """Entry point: `sync VENV` or `lock VENV`."""
    if len(argv) != 2 or argv[0] not in {"sync", "lock"}:
        raise SystemExit(__doc__)
    action, venv = argv
    {"sync": sync, "lock": lock}[action](Path(venv).resolve())


if __name__ == "__main__":
    main(sys.argv[1:])
