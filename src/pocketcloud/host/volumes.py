"""A detached volume's data on the host: a directory under the state directory."""

from __future__ import annotations

import shutil
from pathlib import Path


def keep(upper: Path, target: Path) -> None:
    """Move an instance's upper layer to ``target`` (an empty one if the instance never
    started); ownership (the shifted uids) and xattrs move with it. Needs write access to
    both (root)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o700)
    if upper.is_dir():
        upper.rename(target)
    else:
        target.mkdir(mode=0o755)


def remove(target: Path) -> None:
    """Delete a volume's data directory, if there is one. Needs root."""
    shutil.rmtree(target, ignore_errors=True)
