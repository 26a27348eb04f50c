"""Where an app lives on its server (pure).

The seed copies the project into ``/srv/app``; several apps share a server, so each gets
its own folder there::

    /srv/app/<app>/releases/<id>/   code as shipped, plus .release.json and .settings.json
                                    (its DEBUG and ALLOWED_HOSTS, 0600)
    /srv/app/<app>/current          → releases/<id>, the release nginx serves
    /srv/app/<app>/venvs/<hash>/    one virtualenv per requirements set, shared by releases
    /srv/app/<app>/wheels/          the wheelhouse shipped from the deploying machine
    /srv/app/<app>/shared/          settings.json (0600: SECRET_KEY, your own settings), db.sqlite3
    /srv/app/<app>/run/<id>.sock    each release's gunicorn socket (group www-data)
    /srv/app/<app>/static/<id>/     each release's collected static files, served by nginx

Only ``static`` is readable by others (nginx's workers); the code, the venvs and the
settings are the login user's alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

BASE = PurePosixPath("/srv/app")
SERVICES_DIR = PurePosixPath("/etc/pocketcloud/services")
SERVICES_STATUS = PurePosixPath("/run/pocketcloud/services.json")
NGINX_AVAILABLE = PurePosixPath("/etc/nginx/sites-available")
NGINX_ENABLED = PurePosixPath("/etc/nginx/sites-enabled")
RELEASE_META = ".release.json"
RELEASE_SETTINGS = ".settings.json"
SETTINGS_MODULE = "pocketcloud_production"
APP_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
#: a release id: when it was made (UTC) and the start of its code's digest
RELEASE_ID = r"[0-9]{8}-[0-9]{6}-[0-9a-f]{7}"


class LayoutError(ValueError):
    """An app name that cannot name folders, services and nginx sites."""


@dataclass(frozen=True)
class Layout:
    """The paths and names of one app on its server."""

    app: str
    base: PurePosixPath = BASE

    def __post_init__(self) -> None:
        if not APP_NAME.fullmatch(self.app):
            raise LayoutError(
                f"app name {self.app!r}: use 1-40 lowercase letters, digits and '-', "
                "starting with a letter (--app NAME)"
            )

    @property
    def root(self) -> PurePosixPath:
        return self.base / self.app

    @property
    def releases(self) -> PurePosixPath:
        return self.root / "releases"

    @property
    def current(self) -> PurePosixPath:
        return self.root / "current"

    @property
    def venvs(self) -> PurePosixPath:
        return self.root / "venvs"

    @property
    def wheels(self) -> PurePosixPath:
        return self.root / "wheels"

    @property
    def shared(self) -> PurePosixPath:
        return self.root / "shared"

    @property
    def settings_file(self) -> PurePosixPath:
        return self.shared / "settings.json"

    @property
    def run(self) -> PurePosixPath:
        return self.root / "run"

    def release(self, release_id: str) -> PurePosixPath:
        return self.releases / release_id

    def release_settings(self, release_id: str) -> PurePosixPath:
        """The release's own production settings (0600): what deploy decides for it
        (DEBUG, ALLOWED_HOSTS), read after the shared file."""
        return self.release(release_id) / RELEASE_SETTINGS

    @property
    def static_root(self) -> PurePosixPath:
        return self.root / "static"

    def static(self, release_id: str) -> PurePosixPath:
        """Where ``collectstatic`` puts the release's files (world-readable: nginx serves them)."""
        return self.static_root / release_id

    def venv(self, requirements_hash: str) -> PurePosixPath:
        return self.venvs / requirements_hash

    def socket(self, release_id: str) -> PurePosixPath:
        return self.run / f"{release_id}.sock"

    def gunicorn_service(self, release_id: str) -> str:
        """The supervised service of one release: ``gunicorn-<app>-<id>``."""
        return f"gunicorn-{self.app}-{release_id}"

    def owns(self, unit: str) -> bool:
        """Whether a service name is one of this app's (``shop`` does not own ``shop-api``'s)."""
        own = re.fullmatch(rf"gunicorn-{re.escape(self.app)}-{RELEASE_ID}", unit)
        return own is not None or unit == self.runserver_service

    @property
    def runserver_service(self) -> str:
        return f"runserver-{self.app}"

    @property
    def lock(self) -> PurePosixPath:
        """Held (a directory, made atomically) while a deploy or rollback of the app runs;
        under /tmp so a reboot clears a lock whose holder died."""
        return PurePosixPath("/tmp") / f"pocketcloud-deploy-{self.app}.lock"  # noqa: S108

    @property
    def nginx_site(self) -> PurePosixPath:
        return NGINX_AVAILABLE / f"pocketcloud-{self.app}.conf"

    @property
    def nginx_link(self) -> PurePosixPath:
        return NGINX_ENABLED / f"pocketcloud-{self.app}.conf"

    @property
    def nginx_log(self) -> PurePosixPath:
        return PurePosixPath("/var/log/nginx") / f"pocketcloud-{self.app}"
