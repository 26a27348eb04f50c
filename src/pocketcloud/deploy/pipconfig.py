"""This machine's pip configuration, handed to uv as the same settings (stdlib only).

Where packages come from is the machine's own pip configuration (``pip config list``:
index-url, extra-index-url, find-links, cert), never a host name written in the project.
``tools/locked_venv.py`` (before the venv exists) and the deploy's wheelhouse both use it.
"""

from __future__ import annotations

import os
import re
import subprocess


def pip_settings(python: str) -> dict[str, list[str]]:
    """The pip configuration in force on this machine, as {key: [values]} (files and PIP_* env)."""
    out = subprocess.run(
        [python, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    settings: dict[str, list[str]] = {}
    # PIP_* variables (":env:") override the files, as in pip
    for line in sorted(out.splitlines(), key=lambda line: line.startswith(":env:")):
        match = re.fullmatch(r"[^.]*\.([a-z-]+)='(.*)'", line.strip())
        if match:
            key, value = match.groups()
            settings[key] = value.split()
    return settings


def uv_index_args(settings: dict[str, list[str]]) -> list[str]:
    """pip's index settings as uv arguments, with pip's meaning of several indexes."""
    args = ["--index-strategy", "unsafe-best-match"]  # pip: the best version from any index
    for url in settings.get("index-url", []):
        args += ["--default-index", url]
    for url in settings.get("extra-index-url", []):
        args += ["--index", url]
    for place in settings.get("find-links", []):
        args += ["--find-links", place]
    return args


def uv_env(settings: dict[str, list[str]]) -> dict[str, str]:
    """The environment for uv: pip's CA bundle, if pip is given one."""
    env = dict(os.environ)
    if settings.get("cert"):
        env["SSL_CERT_FILE"] = settings["cert"][0]
    return env
