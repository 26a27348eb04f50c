"""Run on the server by ``pocketcloud deploy`` (``python3 - <app root> [<--python>]``): what
is there.

Standard library only, read-only, as the login user. Prints one JSON object.
"""

import glob
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import sysconfig
from typing import Any

root = sys.argv[1]
asked = sys.argv[2] if len(sys.argv) > 2 else ""  # the --python a deploy was given
SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])


def release(path: str) -> Any:
    try:
        with open(os.path.join(path, ".release.json")) as meta:
            return json.load(meta)
    except (OSError, ValueError):
        return None


def nginx_running() -> bool:
    try:
        with open("/run/nginx.pid") as pidfile:
            os.kill(int(pidfile.read().strip()), 0)
        return True
    except PermissionError:  # it runs, as root
        return True
    except (OSError, ValueError):
        return False


def supervisor() -> str:
    if os.path.exists("/run/pocketcloud/services.json"):
        return "pocketcloud-init"
    if os.path.isdir("/run/systemd/system"):
        return "systemd"
    return "none"


def services() -> Any:
    try:
        with open("/run/pocketcloud/services.json") as status:
            return json.load(status)
    except (OSError, ValueError):
        return {}


def has_venv() -> bool:
    return (
        subprocess.run(
            [sys.executable, "-c", "import ensurepip, venv"], capture_output=True, check=False
        ).returncode
        == 0
    )


def units() -> list[str]:
    found = glob.glob("/etc/pocketcloud/services/*.json")
    found += glob.glob("/etc/systemd/system/*.service")
    names = (os.path.basename(path).rsplit(".", 1)[0] for path in found)
    return sorted(n for n in names if n.startswith(("gunicorn-", "runserver-")))


def system_pip() -> bool:
    """Whether this python's own pip can install into another environment (--python)."""
    try:
        import pip  # noqa: PLC0415
    except ImportError:
        return False
    major, minor = (int(part) for part in pip.__version__.split(".")[:2])
    return (major, minor) >= (22, 3)


def interpreter() -> dict[str, str]:
    """What a wheel must be built for to run on this python3: ABI, glibc, machine."""
    soabi = sysconfig.get_config_var("SOABI") or ""  # cpython-311-x86_64-linux-gnu
    parts = soabi.split("-")
    abi = f"cp{parts[1]}" if len(parts) > 1 and parts[0] == "cpython" else ""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""  # glibc 2.36
    except (ValueError, OSError):
        libc = ""
    return {
        "abi": abi,
        "glibc": libc.split()[1] if libc.startswith("glibc ") else "",
        "machine": platform.machine(),
    }


DESCRIBE = (
    "import json, platform, sysconfig\n"
    "try:\n    import ensurepip, venv\n    ok = True\nexcept ImportError:\n    ok = False\n"
    "soabi = (sysconfig.get_config_var('SOABI') or '').split('-')\n"
    "abi = 'cp' + soabi[1] if len(soabi) > 1 and soabi[0] == 'cpython' else ''\n"
    "print(json.dumps({'version': platform.python_version(), 'abi': abi, 'venv': ok}))\n"
)


def pythons(asked: str) -> list[Any]:
    """Each Python here (python3 first, then python3.N, pyenv's versions, and ``asked``):
    the path that runs it (``~`` expanded), its version, ABI, whether it makes virtualenvs,
    and whether it is the one ``asked`` for. Broken ones are left out; one interpreter
    reached by two names (python3, /usr/bin/python3.11) is listed once."""
    home = os.path.expanduser("~")
    found = ["python3"]
    for pattern in ("/usr/bin/python3.*", "/usr/local/bin/python3.*"):
        found += sorted(p for p in glob.glob(pattern) if p[-1].isdigit())
    found += sorted(glob.glob(os.path.join(home, ".pyenv", "versions", "*", "bin", "python3")))
    if asked:
        found.append(os.path.expanduser(asked))
    wanted = real_path(os.path.expanduser(asked)) if asked else None
    out, seen = [], set()
    for path in found:
        real = real_path(path)
        if real in seen:
            continue
        seen.add(real)
        try:
            argv = [path, "-c", DESCRIBE]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
            if done.returncode == 0:
                out.append({"path": path, "asked": real == wanted, **json.loads(done.stdout)})
        except (OSError, ValueError, subprocess.SubprocessError):
            continue
    return out


def real_path(command: str) -> str:
    """The file a command or path runs (symlinks resolved), or the name if none does."""
    where = shutil.which(command)
    return os.path.realpath(where) if where else command


def pyenv() -> str:
    """The pyenv command, if there is one (on PATH, or the installer's ~/.pyenv/bin/pyenv)."""
    mine = os.path.expanduser("~/.pyenv/bin/pyenv")
    return shutil.which("pyenv") or (mine if os.access(mine, os.X_OK) else "")


releases = [r for r in map(release, sorted(glob.glob(os.path.join(root, "releases", "*")))) if r]
current = os.path.realpath(os.path.join(root, "current"))
venvs = [
    os.path.basename(os.path.dirname(marker))
    for marker in glob.glob(os.path.join(root, "venvs", "*", ".complete"))
]
print(
    json.dumps(
        {
            "user": os.environ.get("USER") or os.environ.get("LOGNAME") or "",
            "python": platform.python_version(),
            **interpreter(),
            "pythons": pythons(asked),
            "pyenv": pyenv(),
            "supervisor": supervisor(),
            "commands": {
                c: bool(shutil.which(c, path=SEARCH)) for c in ("nginx", "rsync", "curl", "sudo")
            },
            "venv": has_venv(),
            "system_pip": system_pip(),
            "releases": releases,
            "current": os.path.basename(current) if os.path.isdir(current) else None,
            "venvs": venvs,
            "nginx_running": nginx_running(),
            "services": services(),
            "units": units(),
            "hostname": socket.gethostname(),
            "cpus": len(os.sched_getaffinity(0)),
        }
    )
)
