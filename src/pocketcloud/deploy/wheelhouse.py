"""A wheelhouse for the server's Python: every requirement as a file the server's interpreter
can install, chosen and built on this machine (the server asks no package index).

Run as a deploy step (``python -m pocketcloud.deploy.wheelhouse …``, see ``command``); three
standard tools, each line echoed:

1. ``uv pip compile``: resolve the requirements for the server's interpreter. Its version
   judges environment markers and ``Requires-Python``, its platform the wheels (pip cannot:
   it evaluates markers for the interpreter it runs in, whatever ``--python-version`` says).
2. ``pip download --no-deps``: each pinned release as the wheel that fits the server's tags
   (Python version, implementation, ABI, glibc and machine), else as its sdist.
3. ``pip wheel --no-deps``: an sdist built here, kept when the wheel fits the server (a
   pure-Python one always does); otherwise the sdist is shipped with the wheels its build
   needs, and the server's pip builds it for its own interpreter (a compiled extension
   needs a compiler and the Python headers there).

A pin that nothing fits stops the deploy before anything is shipped, with one line naming
the package, the version, what it requires and what the server has. Package sources are
this machine's pip configuration (:mod:`.pipconfig`).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging import tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from pocketcloud.deploy.pipconfig import pip_settings, uv_env, uv_index_args

#: glibc minors uv knows a ``--python-platform`` for (x86_64/aarch64-manylinux_2_N)
UV_GLIBC = range(17, 41)
#: the tags older manylinux names stand for (PEP 600)
LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
PINS = "pins.txt"
#: what pip builds a project without a pyproject.toml with
LEGACY_BUILD = ("setuptools>=40.8.0", "wheel")
WANTED = "wanted.in"


class WheelhouseError(RuntimeError):
    """No distribution of a requirement fits the server's Python: one line saying why."""


@dataclass(frozen=True)
class Target:
    """The interpreter the wheels are for, as the server's probe reports it."""

    version: str  # the full version: 3.11.2
    abi: str  # cp311
    glibc: str = ""  # 2.36; empty: not a glibc system
    machine: str = "x86_64"
    implementation: str = "cp"

    @property
    def minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    def platforms(self) -> list[str]:
        """The platform tags the server accepts, best first (PEP 600: a manylinux_2_N
        wheel runs on glibc 2.N and later), then ``linux_<machine>``."""
        out: list[str] = []
        if self.glibc:
            major, minor = (int(part) for part in self.glibc.split(".")[:2])
            for m in range(minor, 4, -1):
                out.append(f"manylinux_{major}_{m}_{self.machine}")
                if major == 2 and m in LEGACY:
                    out.append(f"{LEGACY[m]}_{self.machine}")
        return [*out, f"linux_{self.machine}"]

    def uv_platform(self) -> str:
        """``--python-platform`` for uv: this glibc's manylinux, or the nearest it knows."""
        if not self.glibc or self.machine not in ("x86_64", "aarch64"):
            return "linux"
        minor = int(self.glibc.split(".")[1])
        nearest = min(max(minor, UV_GLIBC.start), UV_GLIBC.stop - 1)
        return f"{self.machine}-manylinux_2_{nearest}"

    def supported(self) -> set[tags.Tag]:
        """Every wheel tag the server's interpreter installs."""
        version = self.minor
        abis = [self.abi, "abi3", "none"]
        found = set(tags.cpython_tags(version, abis, self.platforms()))
        interpreter = f"{self.implementation}{version[0]}{version[1]}"
        found |= set(tags.compatible_tags(version, interpreter, self.platforms()))
        return found

    def fits(self, wheel: str) -> bool:
        """Whether the server can install the wheel file named ``wheel``."""
        try:
            _, _, _, wheel_tags = parse_wheel_filename(wheel)
        except InvalidWheelFilename:
            return False
        return bool(wheel_tags & self.supported())

    def describe(self) -> str:
        platform = f"glibc {self.glibc} {self.machine}" if self.glibc else self.machine
        return f"Python {self.version} ({self.abi}, {platform})"


def compile_command(target: Target, wanted: Path, pins: Path, index: list[str]) -> list[str]:
    """``uv pip compile``: the requirements pinned for the server's interpreter."""
    return [
        sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--no-header", "--no-annotate",
        "--python-version", target.version, "--python-platform", target.uv_platform(),
        *index, "-o", str(pins), str(wanted),
    ]  # fmt: skip


def _pip_download(target: Target, mode: str, *args: str) -> list[str]:
    """``pip download <mode>`` for the server's interpreter: its version, implementation,
    ABIs and every platform tag it accepts, then ``args``."""
    platforms = [word for tag in target.platforms() for word in ("--platform", tag)]
    return [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        mode, "--python-version", target.version,
        "--implementation", target.implementation, "--abi", target.abi, "--abi", "abi3",
        "--abi", "none", *platforms, *args,
    ]  # fmt: skip


def download_command(target: Target, pins: Path, wheelhouse: Path) -> list[str]:
    """``pip download --no-deps``: each pin as the wheel fitting the server, else its sdist."""
    return _pip_download(target, "--no-deps", "-d", str(wheelhouse), "-r", str(pins))


def build_command(sdist: Path, wheelhouse: Path) -> list[str]:
    """``pip wheel --no-deps``: one sdist built on this machine."""
    return [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
            "--no-deps", "-w", str(wheelhouse), str(sdist)]  # fmt: skip


def why_unresolvable(output: str) -> str | None:
    """uv's reason, when a pin needs another Python: ``<package> <version> requires Python
    <specifier>``."""
    found = re.search(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) depends on Python(\S+?)[,.]?\s", output)
    if found is None:
        return None
    name, version, spec = found.groups()
    return f"{name} {version} requires Python {spec}"


def refusal(target: Target, requirements: Sequence[Path], extra: Sequence[str]) -> str | None:
    """Why the requirements cannot be installed on ``target`` because of its Python (uv's
    resolution, nothing downloaded but the index's metadata), or None. A failure that is
    not about the Python (a missing package or folder) is left to the wheelhouse step,
    which shows it whole."""
    settings = pip_settings(sys.executable)
    with tempfile.TemporaryDirectory(prefix="pocketcloud-resolve-") as scratch:
        wanted, pins = Path(scratch) / WANTED, Path(scratch) / PINS
        wanted.write_text(wanted_file(requirements, extra))
        argv = compile_command(target, wanted, pins, uv_index_args(settings))
        done = subprocess.run(argv, env=uv_env(settings), capture_output=True, text=True,
                              check=False)  # fmt: skip
    return None if done.returncode == 0 else why_unresolvable(done.stderr + done.stdout)


def wanted_file(requirements: Sequence[Path], extra: Sequence[str]) -> str:
    """The input of the resolution: the project's requirements files and extra packages."""
    lines = [f"-r {path}" for path in requirements] + list(extra)
    return "".join(f"{line}\n" for line in lines)


def sdists(wheelhouse: Path) -> list[Path]:
    return sorted(p for p in wheelhouse.iterdir() if p.name.endswith((".tar.gz", ".zip")))


def build(target: Target, requirements: Sequence[Path], extra: Sequence[str], out: Path) -> None:
    """Fill ``out`` with a wheel for every requirement the server needs (the edge: runs uv
    and pip, echoing each command); WheelhouseError when one cannot fit the server."""
    out.mkdir(parents=True, exist_ok=True)
    settings = pip_settings(sys.executable)
    env = uv_env(settings)
    wanted, pins = out / WANTED, out / PINS
    wanted.write_text(wanted_file(requirements, extra))
    done = _run(compile_command(target, wanted, pins, uv_index_args(settings)), env)
    if done.returncode:
        reason = why_unresolvable(done.stdout)
        if reason is None:
            raise WheelhouseError(f"resolving the requirements for {target.describe()} failed")
        raise WheelhouseError(
            f"{reason}; the server runs {target.describe()}: pin a release that supports it, "
            "or run the project on a newer Python (--python, or a new instance from debian-13)"
        )
    if _run(download_command(target, pins, out), env).returncode:
        raise WheelhouseError(f"downloading the pinned releases for {target.describe()} failed")
    for sdist in sdists(out):
        _build_here_or_there(target, sdist, out, env)


def _build_here_or_there(target: Target, sdist: Path, out: Path, env: dict[str, str]) -> None:
    """Build ``sdist`` here; keep the wheel if it fits the server. Otherwise (a compiled
    extension built for this machine's Python) ship the sdist with the wheels its build
    needs, for the server's pip to build it there, for its own interpreter."""
    before = {p.name for p in out.glob("*.whl")}
    if _run(build_command(sdist, out), env).returncode:
        raise WheelhouseError(f"{sdist.name} has no wheel and did not build here")
    made = sorted({p.name for p in out.glob("*.whl")} - before)
    unfit = [name for name in made if not target.fits(name)]
    if not unfit:
        sdist.unlink()
        return
    for name in unfit:
        (out / name).unlink()
    print(f"{sdist.name}: the wheel built here is for this machine's Python, not "
          f"{target.describe()}; the server builds it", flush=True)  # fmt: skip
    needs = build_requirements(sdist)
    if _run(build_deps_command(target, needs, out), env).returncode:
        raise WheelhouseError(
            f"{sdist.name} has no wheel for {target.describe()}, and the wheels its build "
            f"needs ({', '.join(needs)}) could not be fetched for it"
        )


def build_requirements(sdist: Path) -> list[str]:
    """What building ``sdist`` needs: its pyproject.toml's ``build-system.requires``, or
    setuptools and wheel for a project without one (pip's own default)."""
    text = _member_text(sdist, "pyproject.toml")
    if text:
        with contextlib.suppress(tomllib.TOMLDecodeError):
            requires = tomllib.loads(text).get("build-system", {}).get("requires")
            if isinstance(requires, list) and all(isinstance(r, str) for r in requires):
                return requires
    return list(LEGACY_BUILD)


def _member_text(sdist: Path, name: str) -> str:
    """The text of ``<top folder>/<name>`` in an sdist archive, or "" if there is none."""
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                found = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(name)]
                return archive.read(found[0]).decode() if found else ""
        with tarfile.open(sdist) as archive:
            members = [m for m in archive.getmembers() if m.name.count("/") == 1]
            member = next((m for m in members if m.name.endswith("/" + name)), None)
            data = archive.extractfile(member) if member else None
            return data.read().decode() if data else ""
    except (OSError, tarfile.TarError, zipfile.BadZipFile, UnicodeDecodeError):
        return ""


def build_deps_command(target: Target, needs: Sequence[str], out: Path) -> list[str]:
    """``pip download --only-binary=:all:``: a build's requirements, with their
    dependencies, as wheels for the server's interpreter."""
    return _pip_download(target, "--only-binary=:all:", "-d", str(out), *needs)


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    print(f"$ {shlex.join(argv)}", flush=True)
    done = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)  # fmt: skip
    if done.stdout.strip():
        print(done.stdout.rstrip(), flush=True)
    return done


def command(
    target: Target, requirements: Sequence[Path], extra: Sequence[str], out: Path
) -> tuple[str, ...]:
    """The deploy step's argv: this module run for ``target``."""
    args = [sys.executable, "-m", "pocketcloud.deploy.wheelhouse", "--python-version",
            target.version, "--abi", target.abi, "--machine", target.machine]  # fmt: skip
    if target.glibc:
        args += ["--glibc", target.glibc]
    for path in requirements:
        args += ["-r", str(path)]
    return (*args, "-o", str(out), *extra)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pocketcloud.deploy.wheelhouse``: exit 1 with the reason as the last line."""
    parser = argparse.ArgumentParser(prog="python -m pocketcloud.deploy.wheelhouse")
    parser.add_argument("--python-version", required=True)
    parser.add_argument("--abi", required=True)
    parser.add_argument("--glibc", default="")
    parser.add_argument("--machine", default="x86_64")
    parser.add_argument("-r", dest="requirements", action="append", default=[], type=Path)
    parser.add_argument("-o", dest="out", required=True, type=Path)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args(argv)
    target = Target(args.python_version, args.abi, args.glibc, args.machine)
    try:
        build(target, args.requirements, args.extra, args.out)
    except WheelhouseError as error:
        print(f"wheelhouse: {error}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
