"""What is shipped from the project, and a digest of it (reads files, runs rsync locally).

The list of files comes from rsync itself, run as a local dry run with the same filters
as the real copy, so the digest covers exactly what a deploy would send.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from pocketcloud.deploy.plan import EXCLUDES


class SourceError(RuntimeError):
    """The project's files cannot be listed or read."""


def shipped_files(root: Path) -> list[str]:
    """The files a deploy sends, relative to ``root``, sorted (runs ``rsync --dry-run``)."""
    filters = [f"--exclude={e}" for e in EXCLUDES] + ["--filter=:- .gitignore"]
    argv = ["rsync", "-a", "--dry-run", "--out-format=%n", *filters, f"{root}/", "/nonexistent-pc/"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SourceError(f"cannot list {root} with rsync: {exc}") from exc
    names = (line for line in done.stdout.splitlines() if line and not line.endswith("/"))
    return sorted(n for n in names if (root / n).is_file() or (root / n).is_symlink())


def digest(root: Path, files: list[str]) -> str:
    """sha256 over each file's path, mode and content (hex)."""
    total = hashlib.sha256()
    for name in files:
        path = root / name
        info = path.lstat()
        total.update(f"{name}\0{info.st_mode:o}\0".encode())
        total.update(str(path.readlink()).encode() if path.is_symlink() else path.read_bytes())
        total.update(b"\0")
    return total.hexdigest()


def requirements_hash(
    root: Path, requirements: str | None, extra: tuple[str, ...], target: str
) -> str:
    """The name of a requirements set's venv and wheelhouse: requirements, extras, and the
    interpreter the wheels are for (``target``: the server's version, ABI and platform —
    a patch release can change what resolves, as Requires-Python >=3.11.5 shows)."""
    text = (root / requirements).read_text() if requirements else ""
    seed = f"{text}\0{' '.join(extra)}\0{target}"
    return hashlib.sha256(seed.encode()).hexdigest()[:12]
