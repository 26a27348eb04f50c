"""The shell lines of a deploy, one function per named command (pure; runs nothing).

Each returns the text a learner would type after ``ssh -i <pem> admin@<address>``, built
from argument lists by :mod:`.shell` (every value one quoted word); waits and checks are
``sh -s -- KIND ARG…`` lines that run ``remote/checks.sh``, fed on stdin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import PurePosixPath

from pocketcloud.deploy import shell as sh
from pocketcloud.deploy.facts import ServerFacts
from pocketcloud.deploy.layout import SETTINGS_MODULE, Layout
from pocketcloud.deploy.nginx import DEFAULT_LINK, DEFAULT_SITE

#: what a health check asks for through a release's own socket, then through nginx
HEALTH_PATHS = ("/healthz", "/")
APT_ENV = "DEBIAN_FRONTEND=noninteractive"
#: the waits and health checks, sent on ssh's stdin (``sh -s -- KIND ARG…``)
CHECKS = "checks.sh"


def remote_script(name: str) -> str:
    """A script from ``pocketcloud/deploy/remote`` (sent on ssh's stdin)."""
    return resources.files("pocketcloud.deploy").joinpath("remote", name).read_text()


def install_packages(packages: list[str]) -> str:
    return sh.each(
        [
            sh.words("sudo", "apt-get", "update", "-qq"),
            sh.words("sudo", APT_ENV, "apt-get", "install", "-y", "-qq",
                     "--no-install-recommends", *packages),
        ]
    )  # fmt: skip


def make_dirs(layout: Layout, user: str, *, web_group: str | None) -> str:
    """The app's folders, owned by the login user (the seed's ``sudo chown -R``)."""
    own = ("-o", user, "-g", user)
    lines = [
        sh.words("sudo", "install", "-d", *own, "-m", "755",
                 layout.base, layout.root, layout.static_root),
        sh.words("sudo", "install", "-d", *own, "-m", "700",
                 layout.releases, layout.venvs, layout.wheels, layout.shared),
    ]  # fmt: skip
    if web_group:  # gunicorn makes its socket there, nginx's workers connect to it
        lines.append(sh.words("sudo", "install", "-d", "-o", user, "-g", web_group, "-m", "750",
                              layout.run))  # fmt: skip
    return sh.each(lines)


def write_file(path: PurePosixPath | str, *, sudo: bool = False, mode: str = "") -> str:
    """Write stdin to ``path`` (by rename, so a reader never sees half a file)."""
    pre: tuple[str, ...] = ("sudo",) if sudo else ()
    tmp = f"{path}.tmp"
    lines = [sh.silent(sh.words(*pre, "tee", tmp))]
    if mode:
        lines.append(sh.words(*pre, "chmod", mode, tmp))
    lines.append(sh.words(*pre, "mv", "-f", tmp, path))
    if not sudo:  # the login user's files are its own
        lines.insert(0, sh.words("umask", "077"))
    return sh.each(lines)


def build_venv(
    venv: PurePosixPath, python: str, wheels: PurePosixPath, reqs: list[str], *, system_pip: bool
) -> str:
    """A fresh virtualenv from the wheelhouse only: no package index is asked. With the
    server's own pip (``--python``) the venv gets no pip of its own, which saves
    installing one each time (seconds). ``reqs``: pip arguments (``-r FILE``, names)."""
    opts: tuple[sh.Word, ...] = (
        "-q", "--disable-pip-version-check", "--no-index", "--find-links", wheels, *reqs,
    )  # fmt: skip
    if system_pip:
        make = sh.words(python, "-m", "venv", "--without-pip", venv)
        install = sh.words(python, "-m", "pip", "--python", f"{venv}/bin/python", "install", *opts)
    else:
        make = sh.words(python, "-m", "venv", venv)
        install = sh.words(f"{venv}/bin/pip", "install", *opts)
    return sh.each(
        [
            sh.words("umask", "077"),
            sh.words("rm", "-rf", venv),
            make,
            install,
            sh.words("touch", f"{venv}/.complete"),
        ]
    )


def django_env(layout: Layout, release_id: str) -> dict[str, str]:
    """The environment every Django process of a release runs with: the shared settings
    (SECRET_KEY and the user's own values), then the release's own (DEBUG, ALLOWED_HOSTS)."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "POCKETCLOUD_SETTINGS_FILE": str(layout.settings_file),
        "POCKETCLOUD_RELEASE_SETTINGS_FILE": str(layout.release_settings(release_id)),
        "POCKETCLOUD_RELEASE": release_id,
        "POCKETCLOUD_STATIC_ROOT": str(layout.static(release_id)),
    }


def manage(
    layout: Layout, release_id: str, manage_dir: str, venv: PurePosixPath, *args: str
) -> str:
    """``./manage.py <args>`` in the release with the venv's python and production settings.

    What it writes is the login user's alone (umask 077), except collected static files,
    which nginx's workers must read."""
    env = [f"{k}={v}" for k, v in django_env(layout, release_id).items()]
    umask = "022" if args[:1] == ("collectstatic",) else "077"
    return sh.each(
        [
            sh.words("cd", layout.release(release_id) / manage_dir),
            sh.words("umask", umask),
            sh.words("env", *env, f"{venv}/bin/python", "manage.py", *args),
        ]
    )


def production_settings(
    layout: Layout,
    release_id: str,
    names: tuple[str, ...],
    extra: Mapping[str, str] | None = None,
) -> str:
    """The release's own settings file (0600): DEBUG off, ALLOWED_HOSTS = the server's names,
    and ``extra`` (the app's bucket). The shared file only gains a SECRET_KEY if it has none
    (made on the server); a release that fails leaves what the serving one reads as it was."""
    values = json.dumps({"DEBUG": False, "ALLOWED_HOSTS": list(names), **(extra or {})})
    return sh.words(
        "python3", "-", layout.settings_file, layout.release_settings(release_id), values
    )


def production_module(settings_module: str) -> str:
    """The settings module the server runs: the project's, then the production files."""
    template = remote_script("production.py.tmpl")
    return template.replace("{settings_module}", settings_module)


def health_socket(socket: PurePosixPath, host: str) -> str:
    """Ask the release's own gunicorn, through its socket, for each health path (once the
    socket is there)."""
    return sh.script("socket", socket, host, *HEALTH_PATHS)


def health_port(port: int, host: str, tries: int = 100) -> str:
    """Ask a server on a local TCP port for /healthz, retrying while it starts."""
    return sh.script("port", port, host, tries)


def check_nginx(host: str, release_id: str, tries: int = 50) -> str:
    """Ask nginx for /healthz with the site's name until ``release_id`` answers (its
    X-Pocketcloud-Release header: after a reload, old workers keep answering with the old
    configuration until the new ones take over); then its status must be good."""
    return sh.script("release", host, release_id, tries)


def check_site(host: str) -> str:
    """Ask nginx once for /healthz with the site's name."""
    return sh.script("site", host)


def wait_nginx() -> str:
    """Wait (≤ 5 s) until nginx has written its pid file."""
    return sh.script("nginx-pid")


def default_site() -> str:
    """The ``default_server`` that refuses unknown names; Debian's own default goes."""
    return sh.each(
        [
            write_file(DEFAULT_SITE, sudo=True),
            sh.words("sudo", "ln", "-sfn", DEFAULT_SITE, DEFAULT_LINK),
            sh.words("sudo", "rm", "-f", "/etc/nginx/sites-enabled/default"),
        ]
    )


def install_site(layout: Layout) -> str:
    """Stage the release's server block from stdin beside the live one."""
    return sh.silent(sh.words("sudo", "tee", f"{layout.nginx_site}.new"))


def _reload_nginx() -> str:
    return sh.each(
        [sh.words("sudo", "nginx", "-t", "-q"), sh.words("sudo", "nginx", "-s", "reload")]
    )


def switch(layout: Layout) -> str:
    """Put the staged block live (the old one kept as .prev), test the whole config, reload
    nginx gracefully: old workers finish their requests, new ones use the new release."""
    site = layout.nginx_site
    return sh.each(
        [
            sh.anyway(sh.quiet(sh.words("sudo", "cp", "-f", site, f"{site}.prev"))),
            sh.words("sudo", "mv", "-f", f"{site}.new", site),
            sh.words("sudo", "ln", "-sfn", site, layout.nginx_link),
            _reload_nginx(),
        ]
    )


def restore_site(layout: Layout, release_id: str) -> str:
    """If the live block names ``release_id``, put the previous one back and reload."""
    site, link = layout.nginx_site, layout.nginx_link
    back = sh.or_else(
        sh.quiet(sh.words("sudo", "mv", "-f", f"{site}.prev", site)),
        sh.words("sudo", "rm", "-f", site, link),
    )
    names_it = sh.words("grep", "-qs", f"release {release_id}", site)
    return sh.after(
        [
            sh.words("sudo", "rm", "-f", f"{site}.new"),
            f"if {names_it}; then {back}; {_reload_nginx()}; fi",
            "true",
        ]
    )


def take_lock(layout: Layout, holder: str) -> str:
    """Make the app's lock directory, naming its holder; fail naming the one who has it."""
    return sh.script("lock", layout.lock, holder)


def release_lock(layout: Layout) -> str:
    return sh.words("rm", "-rf", layout.lock)


def point_current(layout: Layout, release_id: str) -> str:
    new = f"{layout.root}/current.new"
    return sh.each(
        [
            sh.words("ln", "-sfn", f"releases/{release_id}", new),
            sh.words("mv", "-T", new, layout.current),
        ]
    )


def drain() -> str:
    """Wait (≤ 10 s) until nginx's old workers have finished their requests."""
    return sh.script("drain")


def remove_release(layout: Layout, release_id: str) -> str:
    return sh.words("rm", "-rf", layout.release(release_id), layout.static(release_id))


def remove_venvs(layout: Layout, hashes: list[str]) -> str:
    return sh.words("rm", "-rf", *(layout.venv(h) for h in hashes))


def logs(layout: Layout, facts: ServerFacts, mode: str, lines: int, follow: bool) -> str:
    """``tail`` (or journalctl, under systemd) of the serving server's log and nginx's logs."""
    unit = layout.runserver_service
    if mode == "gunicorn" and facts.current:
        unit = layout.gunicorn_service(facts.current)
    nginx = (
        []
        if mode == "runserver"
        else [f"{layout.nginx_log}.access.log", f"{layout.nginx_log}.error.log"]
    )
    tail = ["sudo", "tail", "-n", str(lines), *(["-F"] if follow else [])]
    if facts.supervisor == "systemd":
        journal = sh.words("sudo", "journalctl", "-u", unit, "-n", lines, "--no-pager",
                           *(["-f"] if follow else []))  # fmt: skip
        return f"{journal} & {sh.words(*tail, *nginx)}; wait" if nginx else journal
    return sh.words(*tail, f"/var/log/pocketcloud/{unit}.log", *nginx)
