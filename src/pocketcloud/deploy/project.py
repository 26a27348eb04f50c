"""Finding the Django project in a folder (reads files only, changes nothing).

:func:`locate_project` accepts the layouts a learner ends up with::

    mysite/                      made by `pocketcloud django new`, or the seed by hand
      requirements.txt
      django_app/manage.py       manage_dir "django_app"
      django_app/mysite/settings.py

    mysite/                      a stock `django-admin startproject mysite`
      manage.py                  manage_dir "."
      mysite/settings.py

and a manage.py anywhere up to three folders down, if it is the only one that deep.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANAGE = "manage.py"
SITE_DIR = "django_app"
REQUIREMENTS = "requirements.txt"
MAX_DEPTH = 3  # folders between the given path and manage.py
SKIPPED_DIRS = frozenset(
    {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages"}
)
NAME_LENGTH = 40
_SETTINGS_DEFAULT = re.compile(
    r"""os\.environ\.setdefault\(\s*(["'])DJANGO_SETTINGS_MODULE\1\s*,\s*(["'])([\w.]+)\2\s*\)"""
)


class ProjectError(Exception):
    """No usable Django project: the message says what is missing and where it looked."""


@dataclass(frozen=True)
class Project:
    """A Django project found on disk, as the deploy tool ships it."""

    root: Path  # the folder that is shipped (what the user pointed at), absolute
    manage_dir: PurePosixPath  # folder of manage.py relative to root
    settings_module: str  # e.g. "mysite.settings"
    requirements: PurePosixPath | None  # requirements.txt relative to root
    name: str  # default app name, from root's folder name


def locate_project(path: Path) -> Project:
    """The Django project in ``path`` (ProjectError if there is none or it is ambiguous)."""
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise ProjectError(f"{root} is not a folder")
    manage = find_manage(root)
    return Project(
        root=root,
        manage_dir=PurePosixPath(manage.parent.relative_to(root).as_posix()),
        settings_module=settings_module(manage),
        requirements=_requirements(root, manage.parent),
        name=app_name(root.name),
    )


def find_manage(root: Path) -> Path:
    """``root/manage.py``, ``root/django_app/manage.py``, or the only manage.py at the
    smallest depth (at most MAX_DEPTH folders down, skipping venvs and VCS folders)."""
    for candidate in (root / MANAGE, root / SITE_DIR / MANAGE):
        if candidate.is_file():
            return candidate
    by_depth: dict[int, list[Path]] = {}
    for folder, subdirs, files in os.walk(root):
        here = Path(folder)
        depth = len(here.relative_to(root).parts)
        subdirs[:] = sorted(d for d in subdirs if not _skipped(here / d, depth))
        if MANAGE in files and (here / MANAGE).is_file():
            by_depth.setdefault(depth, []).append(here / MANAGE)
    if not by_depth:
        raise ProjectError(
            f"no {MANAGE} in {root}: looked at {MANAGE}, {SITE_DIR}/{MANAGE} and up to "
            f"{MAX_DEPTH} folders down (skipping {', '.join(sorted(SKIPPED_DIRS))}); "
            "is this a Django project?"
        )
    found = by_depth[min(by_depth)]
    if len(found) > 1:
        listed = ", ".join(str(p.relative_to(root)) for p in sorted(found))
        raise ProjectError(
            f"more than one {MANAGE} in {root}: {listed}; point at the project's own folder"
        )
    return found[0]


def _skipped(folder: Path, parent_depth: int) -> bool:
    """Folders not searched: too deep, named in SKIPPED_DIRS, or a virtualenv."""
    return (
        parent_depth >= MAX_DEPTH
        or folder.name in SKIPPED_DIRS
        or folder.is_symlink()
        or (folder / "pyvenv.cfg").is_file()
    )


def settings_module(manage: Path) -> str:
    """The settings module manage.py sets (``os.environ.setdefault``), else the one
    settings package beside it; it must exist as a file below manage.py's folder."""
    text = manage.read_text("utf-8", errors="replace")
    match = _SETTINGS_DEFAULT.search(text)
    module = match.group(3) if match else _settings_beside(manage.parent)
    if not _module_file(manage.parent, module):
        relative = module.replace(".", "/")
        raise ProjectError(
            f"{manage} names the settings module {module!r}, but neither "
            f"{relative}.py nor {relative}/__init__.py exists in {manage.parent}"
        )
    return module


def _settings_beside(manage_dir: Path) -> str:
    packages = sorted(
        entry.name
        for entry in manage_dir.iterdir()
        if entry.is_dir() and _module_file(manage_dir, f"{entry.name}.settings")
    )
    if len(packages) == 1:
        return f"{packages[0]}.settings"
    if not packages:
        raise ProjectError(
            f"{manage_dir / MANAGE} does not set DJANGO_SETTINGS_MODULE and no "
            f"*/settings.py is beside it in {manage_dir}"
        )
    raise ProjectError(
        f"{manage_dir / MANAGE} does not set DJANGO_SETTINGS_MODULE and several settings "
        f"modules are beside it: {', '.join(p + '.settings' for p in packages)}"
    )


def _module_file(manage_dir: Path, module: str) -> bool:
    """Whether ``module`` is a file below ``manage_dir`` (``a/b.py`` or ``a/b/__init__.py``)."""
    base = manage_dir.joinpath(*module.split("."))
    return base.with_name(base.name + ".py").is_file() or (base / "__init__.py").is_file()


def _requirements(root: Path, manage_dir: Path) -> PurePosixPath | None:
    for folder in (root, manage_dir):
        if (folder / REQUIREMENTS).is_file():
            return PurePosixPath((folder / REQUIREMENTS).relative_to(root).as_posix())
    return None


def app_name(folder_name: str) -> str:
    """The default app name: the folder's name lowercased, every character other than
    ``a-z``, ``0-9`` and ``-`` made ``-``, trimmed of ``-``, at most 40 characters
    ("app" if nothing is left)."""
    name = re.sub(r"[^a-z0-9-]", "-", folder_name.lower()).strip("-")
    return name[:NAME_LENGTH].strip("-") or "app"
