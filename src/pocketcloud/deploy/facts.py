"""What a server holds, as the probe reports it (pure parsing)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pocketcloud.deploy.pythons import Interpreter

#: what each missing command costs in Debian packages
PACKAGES = {"nginx": "nginx", "rsync": "rsync", "curl": "curl"}


@dataclass(frozen=True)
class Release:
    """One release folder on the server, from its ``.release.json``."""

    release_id: str
    digest: str
    requirements: str
    mode: str
    manage_dir: str
    settings_module: str
    wsgi: str
    created: str
    #: the names the release answers to, and its gunicorn's worker count
    names: tuple[str, ...] = ()
    workers: int = 3

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Release:
        return cls(
            release_id=str(meta["id"]),
            digest=str(meta.get("digest", "")),
            requirements=str(meta.get("requirements", "")),
            mode=str(meta.get("mode", "gunicorn")),
            manage_dir=str(meta.get("manage_dir", ".")),
            settings_module=str(meta.get("settings_module", "")),
            wsgi=str(meta.get("wsgi", "")),
            created=str(meta.get("created", "")),
            names=tuple(map(str, meta.get("names", ()))),
            workers=int(meta.get("workers", 3)),
        )

    def meta(self) -> dict[str, Any]:
        """The ``.release.json`` content."""
        return {
            "id": self.release_id,
            "digest": self.digest,
            "requirements": self.requirements,
            "mode": self.mode,
            "manage_dir": self.manage_dir,
            "settings_module": self.settings_module,
            "wsgi": self.wsgi,
            "created": self.created,
            "names": list(self.names),
            "workers": self.workers,
        }


@dataclass(frozen=True)
class ServerFacts:
    """What exists on the server for one app (an empty server: ``ServerFacts()``)."""

    user: str = "admin"
    python: str = ""
    #: what wheels must fit to run on the server's python3 (empty when not reported)
    abi: str = ""
    glibc: str = ""
    machine: str = ""
    supervisor: str = "pocketcloud-init"
    commands: dict[str, bool] = field(default_factory=dict)
    venv: bool = True
    #: the server's python3 has a pip that installs into another environment (>= 22.3)
    system_pip: bool = False
    releases: tuple[Release, ...] = ()
    current: str | None = None
    venvs: frozenset[str] = frozenset()
    nginx_running: bool = False
    services: dict[str, Any] = field(default_factory=dict)
    #: gunicorn-* and runserver-* service definitions on the server (any app)
    units: tuple[str, ...] = ()
    hostname: str = ""
    cpus: int = 1
    #: the Pythons found (python3 first) and pyenv's command, if the server has it
    pythons: tuple[Interpreter, ...] = ()
    pyenv: str = ""

    @classmethod
    def parse(cls, text: str) -> ServerFacts:
        """The probe's JSON output as facts (ValueError if it is not the probe's)."""
        data = json.loads(text)
        if not isinstance(data, dict) or "releases" not in data:
            raise ValueError(f"not a probe report: {text[:200]!r}")
        return cls(
            user=str(data["user"]),
            python=str(data["python"]),
            abi=str(data.get("abi", "")),
            glibc=str(data.get("glibc", "")),
            machine=str(data.get("machine", "")),
            supervisor=str(data["supervisor"]),
            commands={str(k): bool(v) for k, v in data["commands"].items()},
            venv=bool(data["venv"]),
            system_pip=bool(data.get("system_pip", False)),
            releases=tuple(Release.from_meta(m) for m in data["releases"] if "id" in m),
            current=data["current"],
            venvs=frozenset(map(str, data["venvs"])),
            nginx_running=bool(data["nginx_running"]),
            services=dict(data["services"]),
            units=tuple(map(str, data.get("units", []))),
            hostname=str(data["hostname"]),
            cpus=int(data.get("cpus", 1)),
            pythons=_pythons(data),
            pyenv=str(data.get("pyenv", "")),
        )

    def missing_packages(self) -> list[str]:
        """Debian packages the deploy needs and the server lacks."""
        missing = [pkg for cmd, pkg in PACKAGES.items() if not self.commands.get(cmd, True)]
        return missing + ([] if self.venv else ["python3-venv"])

    def release(self, release_id: str) -> Release | None:
        return next((r for r in self.releases if r.release_id == release_id), None)

    @property
    def current_release(self) -> Release | None:
        return None if self.current is None else self.release(self.current)


def _pythons(data: dict[str, Any]) -> tuple[Interpreter, ...]:
    """The probe's Pythons (a probe from before it listed them: its own python3)."""
    listed = data.get("pythons")
    if listed is None:
        return (Interpreter("python3", str(data["python"]), str(data.get("abi", ""))),)
    return tuple(
        Interpreter(
            str(p["path"]),
            str(p["version"]),
            str(p.get("abi", "")),
            bool(p["venv"]),
            bool(p.get("asked", False)),
        )
        for p in listed
    )
