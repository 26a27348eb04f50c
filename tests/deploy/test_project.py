"""Finding a Django project in a folder: the layouts a learner ends up with, built by
writing their files (no Django needed)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from pocketcloud.deploy.project import Project, ProjectError, app_name, locate_project

MANAGE_PY = """#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault({quote}DJANGO_SETTINGS_MODULE{quote}, {quote}{module}{quote})
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
"""


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def startproject(outer: Path, name: str = "mysite", *, quote: str = "'") -> Path:
    """What ``django-admin startproject <name>`` makes in ``outer``."""
    write(outer / "manage.py", MANAGE_PY.format(quote=quote, module=f"{name}.settings"))
    for module in ("__init__", "settings", "urls", "wsgi", "asgi"):
        write(outer / name / f"{module}.py")
    return outer


class TestLocateProject:
    def test_scaffold_layout(self, tmp_path: Path) -> None:
        """`pocketcloud django new`'s layout: manage.py in django_app, requirements at the top."""
        top = tmp_path / "mysite"
        startproject(top / "django_app")
        write(top / "requirements.txt", "Django==5.2\n")
        write(top / ".conf" / "settings_common.json", "{}")
        write(top / ".venv" / "pyvenv.cfg")
        assert locate_project(top) == Project(
            root=top,
            manage_dir=PurePosixPath("django_app"),
            settings_module="mysite.settings",
            requirements=PurePosixPath("requirements.txt"),
            name="mysite",
        )

    def test_stock_startproject(self, tmp_path: Path) -> None:
        """A stock startproject folder is its own manage_dir; no requirements → None."""
        project = locate_project(startproject(tmp_path / "mysite"))
        assert project.manage_dir == PurePosixPath(".")
        assert project.settings_module == "mysite.settings"
        assert project.requirements is None
        assert project.root == tmp_path / "mysite"

    def test_seed_layout_by_hand(self, tmp_path: Path) -> None:
        """The seed done by hand: a top folder with django_app inside, requirements beside
        manage.py when the top folder has none, double quotes in manage.py."""
        top = tmp_path / "Blog Site"
        startproject(top / "django_app", "blog", quote='"')
        write(top / "django_app" / "requirements.txt")
        project = locate_project(top)
        assert project.manage_dir == PurePosixPath("django_app")
        assert project.settings_module == "blog.settings"
        assert project.requirements == PurePosixPath("django_app/requirements.txt")
        assert project.name == "blog-site"

    def test_requirements_at_root_win(self, tmp_path: Path) -> None:
        """requirements.txt at the root is preferred over the one beside manage.py."""
        top = tmp_path / "top"
        startproject(top / "django_app")
        write(top / "requirements.txt")
        write(top / "django_app" / "requirements.txt")
        assert locate_project(top).requirements == PurePosixPath("requirements.txt")

    def test_not_django(self, tmp_path: Path) -> None:
        """A folder without manage.py: the error says what is missing and where it looked."""
        write(tmp_path / "site" / "index.html", "<h1>hi</h1>")
        with pytest.raises(ProjectError, match=r"no manage\.py in .*django_app/manage\.py"):
            locate_project(tmp_path / "site")

    def test_not_a_folder(self, tmp_path: Path) -> None:
        """A path that is not a folder is refused."""
        with pytest.raises(ProjectError, match="is not a folder"):
            locate_project(tmp_path / "missing")

    def test_deeper_manage_py(self, tmp_path: Path) -> None:
        """A manage.py further down (here two folders) is found, with its relative folder."""
        startproject(tmp_path / "repo" / "src" / "web", "shop")
        project = locate_project(tmp_path / "repo")
        assert project.manage_dir == PurePosixPath("src/web")
        assert project.settings_module == "shop.settings"

    def test_depth_limit(self, tmp_path: Path) -> None:
        """Three folders down is found; four is too deep."""
        startproject(tmp_path / "three" / "a" / "b" / "c")
        assert locate_project(tmp_path / "three").manage_dir == PurePosixPath("a/b/c")
        startproject(tmp_path / "four" / "a" / "b" / "c" / "d")
        with pytest.raises(ProjectError, match=r"no manage\.py"):
            locate_project(tmp_path / "four")

    def test_shallowest_wins(self, tmp_path: Path) -> None:
        """The manage.py nearest the top is chosen over deeper ones."""
        startproject(tmp_path / "repo" / "site")
        startproject(tmp_path / "repo" / "old" / "copy")
        assert locate_project(tmp_path / "repo").manage_dir == PurePosixPath("site")

    def test_ambiguous(self, tmp_path: Path) -> None:
        """Two manage.py at the same depth: the error lists both."""
        startproject(tmp_path / "repo" / "one")
        startproject(tmp_path / "repo" / "two")
        with pytest.raises(ProjectError, match=r"more than one manage\.py.*one/manage\.py, two/"):
            locate_project(tmp_path / "repo")

    def test_skipped_folders(self, tmp_path: Path) -> None:
        """manage.py files inside venvs, node_modules, .git or site-packages are not looked at."""
        repo = tmp_path / "repo"
        for skipped in (".venv", "venv", "env", "node_modules", ".git", "__pycache__"):
            startproject(repo / skipped)
        startproject(repo / "lib" / "site-packages")
        write(repo / "myenv" / "pyvenv.cfg")
        startproject(repo / "myenv" / "lib")
        with pytest.raises(ProjectError, match=r"no manage\.py"):
            locate_project(repo)
        startproject(repo / "app")
        assert locate_project(repo).manage_dir == PurePosixPath("app")

    def test_settings_beside_manage(self, tmp_path: Path) -> None:
        """Without os.environ.setdefault in manage.py, the one */settings.py beside it counts."""
        outer = startproject(tmp_path / "site", "conf")
        write(outer / "manage.py", "print('custom manage.py')\n")
        write(outer / "static" / "style.css")
        assert locate_project(outer).settings_module == "conf.settings"

    def test_settings_package(self, tmp_path: Path) -> None:
        """A settings package (settings/__init__.py) counts as the settings module."""
        outer = tmp_path / "site"
        write(outer / "manage.py", MANAGE_PY.format(quote='"', module="conf.settings"))
        write(outer / "conf" / "settings" / "__init__.py")
        assert locate_project(outer).settings_module == "conf.settings"

    def test_dotted_settings_module(self, tmp_path: Path) -> None:
        """A deeper module such as conf.settings.production is found as a file."""
        outer = tmp_path / "site"
        write(outer / "manage.py", MANAGE_PY.format(quote="'", module="conf.settings.production"))
        write(outer / "conf" / "settings" / "production.py")
        assert locate_project(outer).settings_module == "conf.settings.production"

    def test_settings_file_missing(self, tmp_path: Path) -> None:
        """manage.py names a settings module whose file is not there: refused, naming it."""
        outer = tmp_path / "site"
        write(outer / "manage.py", MANAGE_PY.format(quote="'", module="gone.settings"))
        with pytest.raises(ProjectError, match=r"'gone\.settings'.*gone/settings\.py"):
            locate_project(outer)

    def test_no_settings_found(self, tmp_path: Path) -> None:
        """Neither setdefault nor a settings.py beside manage.py: refused."""
        write(tmp_path / "site" / "manage.py", "print('hi')\n")
        with pytest.raises(ProjectError, match=r"no \*/settings\.py is beside it"):
            locate_project(tmp_path / "site")

    def test_several_settings_beside(self, tmp_path: Path) -> None:
        """Without setdefault and with two settings packages, the error lists both."""
        outer = startproject(tmp_path / "site", "one")
        write(outer / "two" / "settings.py")
        write(outer / "manage.py", "print('hi')\n")
        with pytest.raises(ProjectError, match=r"one\.settings, two\.settings"):
            locate_project(outer)

    def test_relative_path_is_made_absolute(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A relative path (".") gives an absolute root and the folder's own name."""
        startproject(tmp_path / "mysite")
        monkeypatch.chdir(tmp_path / "mysite")
        project = locate_project(Path())
        assert project.root == tmp_path / "mysite"
        assert project.root.is_absolute()
        assert project.name == "mysite"

    def test_app_name(self) -> None:
        """Lowercased, other characters made '-', trimmed of '-', at most 40 characters."""
        assert app_name("My_Site 2") == "my-site-2"
        assert app_name("--Shop!--") == "shop"
        assert app_name("a" * 39 + "-b") == "a" * 39
        assert len(app_name("x" * 100)) == 40
        assert app_name("___") == "app"
