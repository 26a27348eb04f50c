"""Run on the server by ``pocketcloud deploy`` (``python3 - <app root>``): what is there.

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
