"""The Python a project needs (.python-version, requires-python, what its pins demand) and
where it runs: which image a new instance is launched from, which interpreter on a server
makes the venv, and the refusal that names the fixes (pure; resolutions are stand-ins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketcloud.deploy.pythons import (
    Interpreter,
    Need,
    PythonError,
    choose_image,
    choose_interpreter,
    need_of,
    no_fit,
    preference,
    pyenv_install,
)
from pocketcloud.deploy.wheelhouse import Target

DJANGO_6 = "django 6.0.1 requires Python >=3.12"


def needs_312(target: Target) -> str | None:
    """A stand-in for the resolution: pins that need Python 3.12 or later (Django 6)."""
    return DJANGO_6 if target.minor < (3, 12) else None


class TestNeed:
    """What the project's own files ask for."""

    def test_nothing_written(self, tmp_path: Path) -> None:
        """No .python-version, no pyproject: any Python 3."""
        need = need_of(tmp_path)
        assert need.describe() == "any Python 3"
        assert need.admits("3.11.2")

    def test_python_version_file(self, tmp_path: Path) -> None:
        """``3.12`` admits every 3.12 release and nothing else; pyenv would install 3.12."""
        (tmp_path / ".python-version").write_text("3.12\n")
        need = need_of(tmp_path)
        assert (need.admits("3.12.7"), need.admits("3.13.5"), need.admits("3.11.2")) == (
            True, False, False,
        )  # fmt: skip
        assert need.install == "3.12"
        assert need.describe() == ".python-version 3.12"

    def test_requires_python_and_version_together(self, tmp_path: Path) -> None:
        """Both are honoured; the description names both."""
        (tmp_path / ".python-version").write_text("3.13.5")
        (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.12"\n')
        need = need_of(tmp_path)
        assert need.admits("3.13.5")
        assert not need.admits("3.13.4")
        assert need.describe() == ".python-version 3.13.5 and requires-python >=3.12"

    @pytest.mark.parametrize(
        ("name", "text"),
        [(".python-version", "system"), (".python-version", "3.12; rm -rf ~"),
         ("pyproject.toml", '[project]\nrequires-python = "newest"\n'),
         ("pyproject.toml", "[project\n")],
    )  # fmt: skip
    def test_unreadable_need_is_an_error(self, tmp_path: Path, name: str, text: str) -> None:
        """A need that is not a version or a specifier stops the deploy, naming the file."""
        (tmp_path / name).write_text(text)
        with pytest.raises(PythonError, match=name.replace(".", r"\.")):
            need_of(tmp_path)


class TestImage:
    """The image a new instance is launched from."""

    def test_oldest_that_fits(self) -> None:
        """Nothing asked and pins that run anywhere: debian-12."""
        assert choose_image(Need(), lambda target: None) == ("debian-12", [])

    def test_pins_demand_a_newer_python(self) -> None:
        """Django 6's pins refuse Debian 12's Python 3.11: debian-13, saying why."""
        assert choose_image(Need(), needs_312) == ("debian-13", [f"debian-12: {DJANGO_6}"])

    def test_python_version_skips_images(self, tmp_path: Path) -> None:
        """``.python-version 3.13`` passes debian-12 over without resolving for it."""
        (tmp_path / ".python-version").write_text("3.13")
        asked: list[str] = []
        name, passed = choose_image(need_of(tmp_path), lambda t: asked.append(t.version))
        assert (name, asked) == ("debian-13", ["3.13.5"])
        assert passed == ["debian-12 has Python 3.11.2, the project needs .python-version 3.13"]

    def test_nothing_fits(self, tmp_path: Path) -> None:
        """A need no image meets is an error listing each image's reason."""
        (tmp_path / ".python-version").write_text("3.14")
        with pytest.raises(PythonError, match=r"no image runs this project: debian-12 has"):
            choose_image(need_of(tmp_path), lambda t: None)


SERVER = [
    Interpreter("python3", "3.11.2", "cp311"),
    Interpreter("/usr/bin/python3.13", "3.13.5", "cp313", venv=False),
    Interpreter("~/.pyenv/versions/3.12.7/bin/python3", "3.12.7", "cp312"),
]


class TestInterpreter:
    """The interpreter on an existing server that makes the venv."""

    def test_python3_when_it_fits(self) -> None:
        """The server's own python3 comes first."""
        assert choose_interpreter(Need(), SERVER, lambda i: None) == (SERVER[0], [])

    def test_first_that_fits_and_makes_venvs(self) -> None:
        """python3 is too old for the pins, python3.13 has no venv module: pyenv's 3.12."""
        chosen, passed = choose_interpreter(
            Need(), SERVER, lambda i: needs_312(i.target("2.36", "x86_64"))
        )
        assert chosen == SERVER[2]
        assert passed == [f"python3: {DJANGO_6}", "/usr/bin/python3.13 cannot make a virtualenv"]

    def test_none_fits_and_the_refusal_names_the_fixes(self) -> None:
        """On a Debian 12 server alone: the need, what is there, and three fixes."""
        chosen, passed = choose_interpreter(
            Need(), SERVER[:1], lambda i: needs_312(i.target("2.36", "x86_64"))
        )
        assert chosen is None
        assert str(no_fit(Need(), passed, "debian-13")) == (
            f"the project needs any Python 3; on the server: python3: {DJANGO_6}. Fix: a new "
            "instance from debian-13 (pocketcloud deploy --image-name debian-13), or --python "
            "PATH naming an interpreter on the server that fits, or pyenv on the server (the "
            "seed's `pyenv install`), then deploy again"
        )

    def test_a_failed_pyenv_install_is_named_with_the_fixes(self) -> None:
        """When the seed's ``pyenv install`` fails on the server, the refusal says so first
        and the pyenv fix says what pyenv needs."""
        error = no_fit(Need(), ["python3: 3.11.2"], None, "pyenv install --skip-existing 3.13.5")
        assert str(error) == (
            "`pyenv install --skip-existing 3.13.5` failed on the server (its output is above); "
            "the project needs any Python 3; on the server: python3: 3.11.2. Fix: --python PATH "
            "naming an interpreter on the server that fits, or `pyenv install --skip-existing "
            "3.13.5` working on the server (it downloads CPython's source from python.org, or "
            "$PYTHON_BUILD_MIRROR_URL; ~/.pyenv/cache is looked in first)"
        )

    def test_preference_python3_then_oldest(self) -> None:
        """python3 first, then by version (3.9 before 3.10, as numbers, not text)."""
        found = [
            Interpreter("/p/3.10.13", "3.10.13", "cp310"),
            Interpreter("python3", "3.11.2", "cp311"),
            Interpreter("/p/3.9.18", "3.9.18", "cp39"),
        ]
        assert [i.path for i in sorted(found, key=preference)] == [
            "python3", "/p/3.9.18", "/p/3.10.13",
        ]  # fmt: skip

    def test_pyenv_installs_what_python_version_names(self, tmp_path: Path) -> None:
        """With pyenv and a .python-version: the seed's ``pyenv install``; else nothing."""
        (tmp_path / ".python-version").write_text("3.12")
        need = need_of(tmp_path)
        assert pyenv_install(need, "/home/admin/.pyenv/bin/pyenv") == [
            "/home/admin/.pyenv/bin/pyenv", "install", "--skip-existing", "3.12",
        ]  # fmt: skip
        assert pyenv_install(need, "") is None
        assert pyenv_install(Need(), "/usr/bin/pyenv") is None
