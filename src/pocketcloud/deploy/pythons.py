"""The Python a project needs, and where it runs (pure, except ``need_of`` which reads files).

The seed installs the Python its project needs on the server (``pyenv install 3.5.2``, then
a virtualenv from it). A deploy reads the need from the project — ``.python-version``,
``requires-python`` in pyproject.toml — and its pinned requirements tell the rest (a pin whose
``Requires-Python`` the interpreter fails cannot be installed: the wheelhouse's resolution
says so). Then:

- a new instance is launched from the first image whose Python satisfies all of it;
- on an existing server, the first interpreter there that does (python3, python3.N,
  pyenv's versions) makes the venv; with pyenv present the seed's ``pyenv install`` adds one;
  otherwise the deploy stops before shipping, naming the need, what the server has and the
  fixes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pocketcloud.deploy.wheelhouse import Target

#: the images a deploy can launch, oldest Python first, with the interpreter each runs
#: (Debian's python3: version, ABI, glibc); on AWS, Debian's AMIs of the same release
IMAGES: tuple[tuple[str, Target], ...] = (
    ("debian-12", Target("3.11.2", "cp311", "2.36", "x86_64")),
    ("debian-13", Target("3.13.5", "cp313", "2.41", "x86_64")),
)
PYTHON_VERSION_FILE = ".python-version"


class PythonError(RuntimeError):
    """No Python the project can run on: what it needs, what there is, and the fixes."""


@dataclass(frozen=True)
class Need:
    """What the project asks of its Python; ``sources`` say where each part came from."""

    spec: SpecifierSet = field(default_factory=SpecifierSet)
    sources: tuple[str, ...] = ()
    #: the version to install with pyenv when nothing fits (``.python-version``'s, if any)
    install: str = ""

    def admits(self, version: str) -> bool:
        return self.spec.contains(version, prereleases=True)

    def describe(self) -> str:
        return " and ".join(self.sources) if self.sources else "any Python 3"


@dataclass(frozen=True)
class Interpreter:
    """One Python on the server, as the probe found it."""

    path: str  # what runs it: python3, /usr/bin/python3.13, /home/admin/.pyenv/versions/…
    version: str
    abi: str
    venv: bool = True
    #: it is the interpreter ``--python`` named
    asked: bool = False

    def target(self, glibc: str, machine: str) -> Target:
        return Target(self.version, self.abi, glibc, machine or "x86_64")


def need_of(root: Path) -> Need:
    """The need written in the project: ``.python-version`` and pyproject's requires-python
    (PythonError if either cannot be read as a version or specifier)."""
    specs, sources, install = [], [], ""
    version_file = root / PYTHON_VERSION_FILE
    if version_file.is_file():
        words = version_file.read_text().split()
        wanted = words[0] if words else ""
        if not re.fullmatch(r"3\.[0-9]+(\.[0-9]+)?", wanted):
            raise PythonError(f"{version_file}: {wanted!r} is not a Python version like 3.12")
        specs.append(f"=={wanted}" if wanted.count(".") == 2 else f"=={wanted}.*")
        sources.append(f"{PYTHON_VERSION_FILE} {wanted}")
        install = wanted
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            requires = (
                tomllib.loads(pyproject.read_text()).get("project", {}).get("requires-python")
            )
        except tomllib.TOMLDecodeError as exc:
            raise PythonError(f"{pyproject}: {exc}") from exc
        if requires:
            try:
                SpecifierSet(str(requires))
            except InvalidSpecifier as exc:
                raise PythonError(f"{pyproject}: requires-python: {exc}") from exc
            specs.append(str(requires))
            sources.append(f"requires-python {requires}")
    try:
        spec = SpecifierSet(",".join(specs))
    except InvalidSpecifier as exc:
        raise PythonError(f"{root}: {exc}") from exc
    return Need(spec, tuple(sources), install)


def choose_image(need: Need, refusal: Callable[[Target], str | None]) -> tuple[str, list[str]]:
    """The first image whose Python the need admits and whose resolution of the
    requirements ``refusal`` does not refuse; (its name, why earlier ones were passed over).
    PythonError when none does."""
    passed: list[str] = []
    for name, target in IMAGES:
        if not need.admits(target.version):
            passed.append(f"{name} has Python {target.version}, the project needs "
                          f"{need.describe()}")  # fmt: skip
            continue
        why = refusal(target)
        if why is None:
            return name, passed
        passed.append(f"{name}: {why}")
    raise PythonError("no image runs this project: " + "; ".join(passed))


def preference(interpreter: Interpreter) -> tuple[bool, Version]:
    """The order interpreters are tried in: the server's python3, then the oldest first
    (the closest to what the system runs)."""
    try:
        version = Version(interpreter.version)
    except InvalidVersion:
        version = Version("0")
    return interpreter.path != "python3", version


def choose_interpreter(
    need: Need, found: Sequence[Interpreter], refusal: Callable[[Interpreter], str | None]
) -> tuple[Interpreter | None, list[str]]:
    """The first interpreter on the server (in the probe's order: python3 first) that the
    need admits, can make a venv, and can install the requirements; (it or None, why each
    other was passed over)."""
    passed: list[str] = []
    for interpreter in found:
        if not need.admits(interpreter.version):
            passed.append(f"{interpreter.path} is Python {interpreter.version}")
            continue
        if not interpreter.venv:
            passed.append(f"{interpreter.path} cannot make a virtualenv")
            continue
        why = refusal(interpreter)
        if why is None:
            return interpreter, passed
        passed.append(f"{interpreter.path}: {why}")
    return None, passed


def pyenv_install(need: Need, pyenv: str) -> list[str] | None:
    """The seed's step when nothing on the server fits: ``pyenv install`` of the version
    ``.python-version`` names (None without pyenv or without such a version)."""
    if not pyenv or not need.install:
        return None
    return [pyenv, "install", "--skip-existing", need.install]


def no_fit(
    need: Need, passed: Sequence[str], image: str | None, pyenv_failed: str = ""
) -> PythonError:
    """Why nothing on the server fits, and the fixes (``image``: one a new instance could be
    launched from, if any; ``pyenv_failed``: the ``pyenv install`` that was tried and failed).
    """
    pyenv = "pyenv on the server (the seed's `pyenv install`), then deploy again"
    if pyenv_failed:
        pyenv = (
            f"`{pyenv_failed}` working on the server (it downloads CPython's source from "
            "python.org, or $PYTHON_BUILD_MIRROR_URL; ~/.pyenv/cache is looked in first)"
        )
    fixes = ["--python PATH naming an interpreter on the server that fits", pyenv]
    if image:
        fixes.insert(0, f"a new instance from {image} (pocketcloud deploy --image-name {image})")
    tried = f"`{pyenv_failed}` failed on the server (its output is above); " if pyenv_failed else ""
    return PythonError(
        f"{tried}the project needs {need.describe()}; on the server: "
        f"{'; '.join(passed) or 'nothing'}. Fix: {', or '.join(fixes)}"
    )
