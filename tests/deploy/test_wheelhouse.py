"""The wheelhouse is chosen for the server's interpreter: its tags (pure), the commands that
resolve and fetch for it, the one line that says why a pin cannot fit, and a real
resolution against this machine's package index for a server one patch release behind."""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

import pytest

from pocketcloud.deploy.wheelhouse import (
    Target,
    WheelhouseError,
    build,
    build_requirements,
    command,
    download_command,
    refusal,
    wanted_file,
    why_unresolvable,
)

DEBIAN_12 = Target("3.11.2", "cp311", "2.36", "x86_64")
DEBIAN_13 = Target("3.13.5", "cp313", "2.41", "x86_64")


class TestTags:
    """Which wheels fit which server (PEP 425/600), for several minors and platforms."""

    def test_platforms_best_first_with_legacy_names(self) -> None:
        """glibc 2.36: manylinux_2_36 down to manylinux_2_5, the legacy names at 2.17, 2.12
        and 2.5, then linux_x86_64."""
        platforms = DEBIAN_12.platforms()
        assert platforms[:3] == [
            "manylinux_2_36_x86_64", "manylinux_2_35_x86_64", "manylinux_2_34_x86_64",
        ]  # fmt: skip
        assert (
            platforms.index("manylinux2014_x86_64") == platforms.index("manylinux_2_17_x86_64") + 1
        )
        assert "manylinux2010_x86_64" in platforms
        assert platforms[-3:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"]

    @pytest.mark.parametrize(
        ("target", "wheel", "fits"),
        [
            (DEBIAN_12, "Django-5.2-py3-none-any.whl", True),
            (DEBIAN_12, "pillow-11.0.0-cp311-cp311-manylinux_2_28_x86_64.whl", True),
            (DEBIAN_12, "pillow-11.0.0-cp311-cp311-manylinux2014_x86_64.whl", True),
            (DEBIAN_12, "pillow-11.0.0-cp312-cp312-manylinux_2_28_x86_64.whl", False),
            (DEBIAN_12, "pillow-11.0.0-cp311-cp311-manylinux_2_38_x86_64.whl", False),
            (DEBIAN_12, "pillow-11.0.0-cp311-cp311-musllinux_1_2_x86_64.whl", False),
            (DEBIAN_12, "pillow-11.0.0-cp311-cp311-manylinux_2_28_aarch64.whl", False),
            (DEBIAN_12, "cryptography-44-cp39-abi3-manylinux_2_28_x86_64.whl", True),
            (DEBIAN_12, "psycopg_binary-3.2-cp311-cp311-macosx_11_0_arm64.whl", False),
            (DEBIAN_13, "pillow-11.0.0-cp313-cp313-manylinux_2_28_x86_64.whl", True),
            (DEBIAN_13, "pillow-11.0.0-cp311-cp311-manylinux_2_28_x86_64.whl", False),
            (Target("3.12.3", "cp312", "2.39", "aarch64"),
             "pillow-11.0.0-cp312-cp312-manylinux_2_28_aarch64.whl", True),
            (DEBIAN_12, "not a wheel name.whl", False),
        ],
    )  # fmt: skip
    def test_fits(self, target: Target, wheel: str, fits: bool) -> None:
        """Version, ABI, glibc and machine all have to match; pure wheels always do."""
        assert target.fits(wheel) is fits

    @pytest.mark.parametrize(
        ("target", "platform"),
        [
            (DEBIAN_12, "x86_64-manylinux_2_36"),
            (DEBIAN_13, "x86_64-manylinux_2_40"),  # the newest uv knows
            (Target("3.8.10", "cp38", "2.12", "x86_64"), "x86_64-manylinux_2_17"),
            (Target("3.12.3", "cp312", "2.39", "aarch64"), "aarch64-manylinux_2_39"),
            (Target("3.12.3", "cp312", "", "x86_64"), "linux"),
        ],
    )  # fmt: skip
    def test_uv_platform(self, target: Target, platform: str) -> None:
        """uv resolves for the server's glibc, or the nearest manylinux it knows."""
        assert target.uv_platform() == platform


class TestCommands:
    """The commands, word for word."""

    def test_download_for_the_server(self) -> None:
        """pip download --no-deps with the server's version, implementation, ABIs and every
        platform it accepts."""
        argv = download_command(DEBIAN_12, Path("/c/pins.txt"), Path("/c"))
        assert argv[:14] == [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--python-version", "3.11.2", "--implementation", "cp",
            "--abi", "cp311", "--abi",
        ]  # fmt: skip
        assert argv[-4:] == ["-d", "/c", "-r", "/c/pins.txt"]
        assert argv.count("--platform") == len(DEBIAN_12.platforms())

    def test_deploy_step(self) -> None:
        """The deploy's step runs this module with the target and the requirements."""
        argv = command(DEBIAN_12, [Path("/p/requirements.txt")], ["gunicorn"], Path("/c"))
        assert argv == (
            sys.executable, "-m", "pocketcloud.deploy.wheelhouse", "--python-version", "3.11.2",
            "--abi", "cp311", "--machine", "x86_64", "--glibc", "2.36",
            "-r", "/p/requirements.txt", "-o", "/c", "gunicorn",
        )  # fmt: skip

    def test_wanted_file(self) -> None:
        """The resolution's input: the requirements files, then the extra packages."""
        assert wanted_file([Path("/p/r.txt")], ["gunicorn"]) == "-r /p/r.txt\ngunicorn\n"


class TestBuildRequirements:
    """What an sdist's build needs, read from the archive."""

    def make(self, tmp_path: Path, pyproject: str | None) -> Path:
        """An sdist ``demo-1.0.tar.gz`` with a setup.py and, if given, a pyproject.toml."""
        top = tmp_path / "demo-1.0"
        top.mkdir()
        (top / "setup.py").write_text("from setuptools import setup\nsetup()\n")
        if pyproject is not None:
            (top / "pyproject.toml").write_text(pyproject)
        sdist = tmp_path / "demo-1.0.tar.gz"
        with tarfile.open(sdist, "w:gz") as archive:
            archive.add(top, arcname="demo-1.0")
        return sdist

    def test_build_system_requires(self, tmp_path: Path) -> None:
        """pyproject.toml's build-system.requires, as written."""
        text = '[build-system]\nrequires = ["setuptools>=64", "setuptools_scm>=8"]\n'
        assert build_requirements(self.make(tmp_path, text)) == [
            "setuptools>=64", "setuptools_scm>=8",
        ]  # fmt: skip

    def test_without_pyproject_setuptools_and_wheel(self, tmp_path: Path) -> None:
        """No pyproject.toml (or no build-system in it): what pip itself builds with."""
        assert build_requirements(self.make(tmp_path, None)) == ["setuptools>=40.8.0", "wheel"]


class TestWhy:
    def test_requires_python_in_one_line(self) -> None:
        """uv's explanation becomes: package, version, what it requires, what the server has."""
        uv = (
            "error: No solution found when resolving dependencies\n  cause: Because the current "
            "Python version (3.11.2) does not satisfy Python>=3.11.5 and soupsieve==4.1.4 "
            "depends on Python>=3.11.5, we can conclude that soupsieve==4.1.4 cannot be used.\n"
        )
        assert why_unresolvable(uv) == "soupsieve 4.1.4 requires Python >=3.11.5"

    def test_other_failures_have_no_reason(self) -> None:
        """Anything else (a package that does not exist) is left to the output shown."""
        assert why_unresolvable("error: package foo not found") is None


@pytest.mark.live
class TestAgainstTheIndex:
    """Real resolutions through this machine's pip configuration (the package index)."""

    def test_patch_release_behind_is_refused(self, tmp_path: Path) -> None:
        """soupsieve 4.1.4 needs Python >=3.11.5: for Debian 12's 3.11.2 nothing is
        downloaded and the reason is one line, although this machine's Python could use it."""
        (tmp_path / "requirements.txt").write_text("soupsieve==4.1.4\n")
        with pytest.raises(WheelhouseError) as caught:
            build(DEBIAN_12, [tmp_path / "requirements.txt"], [], tmp_path / "wh")
        assert str(caught.value).startswith(
            "soupsieve 4.1.4 requires Python >=3.11.5; the server runs Python 3.11.2 (cp311, "
            "glibc 2.36 x86_64): pin a release that supports it, or run the project on a newer "
            "Python"
        )
        assert list((tmp_path / "wh").glob("*.whl")) == []

    def test_refusal_without_downloading(self, tmp_path: Path) -> None:
        """The check a deploy makes before choosing an image or an interpreter: the reason
        for Debian 12's Python, none for Debian 13's."""
        (tmp_path / "requirements.txt").write_text("soupsieve==4.1.4\n")
        reqs = [tmp_path / "requirements.txt"]
        assert refusal(DEBIAN_12, reqs, []) == "soupsieve 4.1.4 requires Python >=3.11.5"
        assert refusal(DEBIAN_13, reqs, []) is None

    def test_other_failures_are_not_the_pythons(self, tmp_path: Path) -> None:
        """A requirement that names a missing folder is no reason to pass an interpreter
        over: the wheelhouse step reports it with uv's whole output."""
        (tmp_path / "requirements.txt").write_text("./no-such-folder\n")
        assert refusal(DEBIAN_12, [tmp_path / "requirements.txt"], []) is None
        resolving = r"resolving the requirements for Python 3\.11\.2"
        with pytest.raises(WheelhouseError, match=resolving):
            build(DEBIAN_12, [tmp_path / "requirements.txt"], [], tmp_path / "wh")

    def test_compiled_sdist_is_left_to_the_server(self, tmp_path: Path) -> None:
        """MarkupSafe 1.1.1 has no wheel for Python 3.13: built here it is a cp311 wheel,
        which Debian 13 cannot install, so its sdist is shipped with setuptools and wheel
        (its build needs) for the server's pip to build, and nothing unfit is left."""
        (tmp_path / "requirements.txt").write_text("MarkupSafe==1.1.1\n")
        build(DEBIAN_13, [tmp_path / "requirements.txt"], [], tmp_path / "wh")
        files = sorted(p.name for p in (tmp_path / "wh").iterdir() if p.suffix != ".txt")
        assert [f.lower() for f in files if f.endswith(".tar.gz")] == ["markupsafe-1.1.1.tar.gz"]
        wheels = [f for f in files if f.endswith(".whl")]
        assert {"setuptools", "wheel"} <= {w.split("-")[0] for w in wheels}
        assert not any(w.lower().startswith("markupsafe") for w in wheels)
        assert all(DEBIAN_13.fits(w) for w in wheels)

    def test_wheels_for_another_minor(self, tmp_path: Path) -> None:
        """For a Python 3.13 server the compiled wheel is cp313's (not this machine's
        cp311), markers are judged for 3.13 (tomli is only for < 3.11), and every file
        fits the server."""
        (tmp_path / "requirements.txt").write_text(
            'markupsafe==3.0.2\ntomli==2.2.1; python_version < "3.11"\nsix==1.17.0\n'
        )
        build(DEBIAN_13, [tmp_path / "requirements.txt"], [], tmp_path / "wh")
        wheels = sorted(p.name for p in (tmp_path / "wh").glob("*.whl"))
        assert [w.split("-")[0].lower() for w in wheels] == ["markupsafe", "six"]
        assert "cp313-cp313-manylinux" in wheels[0]
        assert all(DEBIAN_13.fits(w) for w in wheels)
