"""This machine's record of deployed apps: where each one went and how to log in.

``~/.config/pocketcloud/apps/<app>.json`` (0600) and the app's known_hosts beside it;
``releases``, ``rollback``, ``logs``, ``app status`` and ``destroy`` read it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from pocketcloud.deploy.project import app_name


def apps_dir() -> Path:
    """``$XDG_CONFIG_HOME/pocketcloud/apps`` (default ~/.config/pocketcloud/apps)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pocketcloud" / "apps"


class AppError(LookupError):
    """No record of the app on this machine."""


@dataclass(frozen=True)
class AppRecord:
    """One deployed app."""

    app: str
    target: str  # "pocketcloud", "aws" or the ssh:// URL
    host: str
    user: str
    port: int = 22
    key: str | None = None
    profile: str | None = None
    region: str | None = None
    instance_id: str | None = None
    names: list[str] = field(default_factory=list)
    mode: str = "gunicorn"
    strict: str = "accept-new"
    #: the project folder deployed from (absolute): commands run in it act on this app
    project: str | None = None
    #: the app's S3 bucket (``deploy --bucket``), reached with its instance's role
    bucket: str | None = None

    @property
    def known_hosts(self) -> Path:
        return apps_dir() / f"{self.app}.known_hosts"

    @property
    def url(self) -> str:
        port = ":8080" if self.mode == "runserver" else ""
        return f"http://{self.names[0] if self.names else self.host}{port}/"

    def save(self) -> None:
        """Write the record (0600; creates the folder)."""
        apps_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
        path = apps_dir() / f"{self.app}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(self), out, indent=2)


def load(app: str) -> AppRecord:
    """The app's record; keys this version does not know are left aside."""
    path = apps_dir() / f"{app}.json"
    known_fields = {f.name for f in fields(AppRecord)}
    try:
        data = json.loads(path.read_text())
        return AppRecord(**{k: v for k, v in data.items() if k in known_fields})
    except FileNotFoundError:
        known = ", ".join(list_apps()) or "none"
        raise AppError(f"no app {app!r} deployed from this machine (known: {known})") from None


def list_apps() -> list[str]:
    return sorted(p.stem for p in apps_dir().glob("*.json")) if apps_dir().is_dir() else []


def of_folder(folder: Path) -> AppRecord | None:
    """The app deployed from ``folder`` or a folder it is in (the deepest such project),
    as git finds the repository you stand in; None if there is none."""
    here = folder.resolve()
    found: list[tuple[int, AppRecord]] = []
    for app in list_apps():
        record = load(app)
        if record.project and here.is_relative_to(record.project):
            found.append((len(Path(record.project).parts), record))
    if not found:
        return None
    depth = max(d for d, _ in found)
    deepest = [r for d, r in found if d == depth]
    if len(deepest) == 1:
        return deepest[0]
    # one folder deployed as several apps: the one deploy names after the folder, if any
    named = [r for r in deepest if r.app == default_name(Path(r.project or ""))]
    if len(named) == 1:
        return named[0]
    raise AppError(
        f"{deepest[0].project} was deployed as several apps "
        f"({', '.join(r.app for r in deepest)}): say which with --app"
    )


def default_name(project: Path) -> str:
    """The app name deploy gives a project folder when no --app is given."""
    return app_name(project.name)


def choose(app: str | None, folder: Path) -> AppRecord:
    """The app a command acts on: ``--app`` if given, else the project you stand in, else
    the only app; AppError listing the apps (with their folders) otherwise."""
    if app is not None:
        return load(app)
    here = of_folder(folder)
    if here is not None:
        return here
    known = list_apps()
    if len(known) == 1:
        return load(known[0])
    if not known:
        raise AppError("no app deployed from this machine yet (pocketcloud deploy)")
    listed = "".join(
        f"\n  {app:<20} {load(app).project or '(folder not recorded)'}" for app in known
    )
    raise AppError(
        f"{folder} is in none of these apps' project folders: run the command in one, "
        f"or say which with --app{listed}"
    )


def forget(app: str) -> None:
    """Remove the record and the known_hosts file of ``app``."""
    for suffix in (".json", ".known_hosts"):
        (apps_dir() / f"{app}{suffix}").unlink(missing_ok=True)


def write_known_hosts(record: AppRecord, lines: list[str]) -> None:
    """The host keys the cloud reported for the app's server (replacing older ones)."""
    apps_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    record.known_hosts.write_text("".join(f"{line}\n" for line in lines))
