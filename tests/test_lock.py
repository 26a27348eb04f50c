"""requirements/lock.txt: every package the project asks for is pinned there, with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
LOCK = (REPO / "requirements" / "lock.txt").read_text()


def _pins() -> dict[str, tuple[Version, int]]:
    """{name: (version, number of hashes)} for every pin in the lock."""
    pins = {}
    for block in re.split(r"\n(?=\S)", LOCK):
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if match:
            name, version = match.groups()
            pins[canonicalize_name(name)] = (Version(version), block.count("--hash=sha256:"))
    return pins


def _wanted() -> list[Requirement]:
    """pyproject's runtime and dev requirements, and the installers make uses."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    installers = (REPO / "requirements" / "install.in").read_text().splitlines()
    lines += [line for line in installers if line and not line.startswith("#")]
    return [Requirement(line) for line in lines]


class TestLock:
    def test_every_requirement_is_pinned_within_its_range(self) -> None:
        """Each requirement of pyproject.toml (and each installer) has a pin its range admits."""
        pins = _pins()
        for requirement in _wanted():
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{name} is not in requirements/lock.txt: run make lock"
            version, _ = pins[name]
            assert requirement.specifier.contains(version, prereleases=True), (name, version)

    def test_every_pin_has_a_hash(self) -> None:
        """No pin can be installed unchecked: each carries at least one sha256."""
        pins = _pins()
        assert len(pins) > 50
        assert all(hashes for _, hashes in pins.values()), [
            name for name, (_, hashes) in pins.items() if not hashes
        ]

    def test_the_lock_names_no_index(self) -> None:
        """Where packages come from is the machine's pip configuration, never the lock."""
        assert not re.search(r"https?://|--(extra-)?index-url|--find-links", LOCK)
