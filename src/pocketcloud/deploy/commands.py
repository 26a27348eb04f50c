"""The shell lines of a deploy, one function per named command (pure; runs nothing).

Each returns the text a learner would type after ``ssh -i <pem> admin@<address>``.
"""

from __future__ import annotations

import json
import shlex
from importlib import resources
from pathlib import PurePosixPath

from pocketcloud.deploy.facts import ServerFacts
from pocketcloud.deploy.layout import SETTINGS_MODULE, Layout
from pocketcloud.deploy.nginx import DEFAULT_LINK, DEFAULT_SITE

#: what a health check asks for through a release's own socket, then through nginx
HEALTH_PATHS = ("/healthz", "/")
APT_ENV = "DEBIAN_FRONTEND=noninteractive"


def remote_script(name: str) -> str:
    """A script from ``pocketcloud/deploy/remote`` (sent on ssh's stdin)."""
    return resources.files("pocketcloud.deploy").joinpath("remote", name).read_text()


def install_packages(packages: list[str]) -> str:
    return (
        f"sudo apt-get update -qq && sudo {APT_ENV} apt-get install -y -qq "
        f"--no-install-recommends {' '.join(packages)}"
    )


def make_dirs(layout: Layout, user: str, *, web_group: str | None) -> str:
    """The app's folders, owned by the login user (the seed's ``sudo chown -R``)."""
    own = f"-o {user} -g {user}"
    private = " ".join(str(p) for p in (layout.releases, layout.venvs, layout.wheels))
    lines = [
        f"sudo install -d {own} -m 755 {layout.base} {layout.root} {layout.static_root}",
        f"sudo install -d {own} -m 700 {private} {layout.shared}",
    ]
    if web_group:  # gunicorn makes its socket there, nginx's workers connect to it
        lines.append(f"sudo install -d -o {user} -g {web_group} -m 750 {layout.run}")
    return " && ".join(lines)


def write_file(path: PurePosixPath | str, *, sudo: bool = False, mode: str = "") -> str:
    """Write stdin to ``path`` (by rename, so a reader never sees half a file)."""
    pre, tmp = ("sudo " if sudo else ""), f"{path}.tmp"
    chmod = f" && {pre}chmod {mode} {tmp}" if mode else ""
    line = f"{pre}tee {tmp} >/dev/null{chmod} && {pre}mv -f {tmp} {path}"
    return line if sudo else f"umask 077 && {line}"  # the login user's files are its own


def build_venv(
    venv: PurePosixPath, python: str, wheels: PurePosixPath, reqs: list[str], *, system_pip: bool
) -> str:
    """A fresh virtualenv from the wheelhouse only: no package index is asked. With the
    server's own pip (``--python``) the venv gets no pip of its own, which saves
    installing one each time (seconds)."""
    opts = f"-q --disable-pip-version-check --no-index --find-links {wheels} {' '.join(reqs)}"
    if system_pip:
        make = f"{python} -m venv --without-pip {venv}"
        install = f"{python} -m pip --python {venv}/bin/python install {opts}"
    else:
        make, install = f"{python} -m venv {venv}", f"{venv}/bin/pip install {opts}"
    return f"umask 077 && rm -rf {venv} && {make} && {install} && touch {venv}/.complete"


def django_env(layout: Layout, release_id: str) -> dict[str, str]:
    """The environment every Django process of a release runs with."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "POCKETCLOUD_SETTINGS_FILE": str(layout.settings_file),
        "POCKETCLOUD_RELEASE": release_id,
        "POCKETCLOUD_STATIC_ROOT": str(layout.static(release_id)),
    }


def manage(
    layout: Layout, release_id: str, manage_dir: str, venv: PurePosixPath, *args: str
) -> str:
    """``./manage.py <args>`` in the release with the venv's python and production settings.

    What it writes is the login user's alone (umask 077), except collected static files,
    which nginx's workers must read."""
    env = " ".join(f"{k}={v}" for k, v in django_env(layout, release_id).items())
    workdir = layout.release(release_id) / manage_dir
    umask = "022" if args[:1] == ("collectstatic",) else "077"
    return (
        f"cd {workdir} && umask {umask} && env {env} {venv}/bin/python manage.py {shlex.join(args)}"
    )


def production_settings(layout: Layout, names: tuple[str, ...]) -> str:
    """Update the production settings file (0600): DEBUG off, ALLOWED_HOSTS = the server's
    names; the SECRET_KEY there is kept, or made on the server."""
    values = json.dumps({"DEBUG": False, "ALLOWED_HOSTS": list(names)})
    return f"python3 - {layout.settings_file} {shlex.quote(values)}"


def production_module(settings_module: str) -> str:
    """The settings module the server runs: the project's, then the production file."""
    template = remote_script("production.py.tmpl")
    return template.replace("{settings_module}", settings_module)


def wait_socket(socket: PurePosixPath, tries: int = 200) -> str:
    return f"for i in $(seq {tries}); do test -S {socket} && break; sleep 0.1; done"


def http_check(curl: str, url: str, tries: int = 1) -> str:
    """GET ``url`` until it answers well (``tries`` times, 0.1 s apart), show the status, fail
    unless it is 2xx, 3xx or 404 (the app runs but has no such page): a 5xx, a 400 (Django's
    DisallowedHost: ALLOWED_HOSTS), a 502 from nginx or no answer (000) fail the step."""
    get = f"code=$({curl} -o /dev/null -w '%{{http_code}}' {url})"
    good = "2??|3??|404"
    return (
        f"for i in $(seq {tries}); do {get}; case $code in {good}) break;; esac; sleep 0.1; "
        f'done; echo "GET {url} → $code"; case $code in {good}) ;; *) exit 1;; esac'
    )


def health_socket(socket: PurePosixPath, host: str) -> str:
    """Ask the release's own gunicorn, through its socket, for each health path."""
    curl = f'curl -sS --max-time 10 --unix-socket {socket} -H "Host: {host}"'
    checks = "; ".join(http_check(curl, f"http://localhost{path}") for path in HEALTH_PATHS)
    return f"{wait_socket(socket)}; {checks}"


def health_port(port: int, host: str, tries: int = 100) -> str:
    """Ask a server on a local TCP port for /healthz, retrying while it starts."""
    curl = f'curl -sS --max-time 5 -H "Host: {host}"'
    return http_check(curl, f"http://127.0.0.1:{port}/healthz", tries)


def check_nginx(host: str, release_id: str, tries: int = 50) -> str:
    """Ask nginx for /healthz with the site's name until ``release_id`` answers (its
    X-Pocketcloud-Release header: after a reload, old workers keep answering with the old
    configuration until the new ones take over); then its status must be good."""
    url = "http://127.0.0.1/healthz"
    head = (
        f"head=$(curl -sS --max-time 5 -o /dev/null -D - -H \"Host: {host}\" {url} | tr -d '\\r')"
    )
    parse = (
        "code=$(echo \"$head\" | head -1 | cut -d' ' -f2); "
        "rel=$(echo \"$head\" | sed -n 's/^X-Pocketcloud-Release: //p')"
    )
    return (
        f'for i in $(seq {tries}); do {head}; {parse}; [ "$rel" = {release_id} ] && break; '
        f'sleep 0.1; done; echo "GET {url} → $code from release $rel"; '
        f'[ "$rel" = {release_id} ] && case $code in 2??|3??|404) ;; *) exit 1;; esac'
    )


def check_site(host: str) -> str:
    """Ask nginx once for /healthz with the site's name."""
    return http_check(f'curl -sS --max-time 5 -H "Host: {host}"', "http://127.0.0.1/healthz")


def default_site() -> str:
    """The ``default_server`` that refuses unknown names; Debian's own default goes."""
    return (
        f"{write_file(DEFAULT_SITE, sudo=True)} && sudo ln -sfn {DEFAULT_SITE} {DEFAULT_LINK} "
        "&& sudo rm -f /etc/nginx/sites-enabled/default"
    )


def install_site(layout: Layout) -> str:
    """Stage the release's server block from stdin beside the live one."""
    return f"sudo tee {layout.nginx_site}.new >/dev/null"


def switch(layout: Layout) -> str:
    """Put the staged block live (the old one kept as .prev), test the whole config, reload
    nginx gracefully: old workers finish their requests, new ones use the new release."""
    site = layout.nginx_site
    return (
        f"(sudo cp -f {site} {site}.prev 2>/dev/null || true) && sudo mv -f {site}.new {site} "
        f"&& sudo ln -sfn {site} {layout.nginx_link} && sudo nginx -t -q && sudo nginx -s reload"
    )


def restore_site(layout: Layout, release_id: str) -> str:
    """If the live block names ``release_id``, put the previous one back and reload."""
    site, link = layout.nginx_site, layout.nginx_link
    back = f"(sudo mv -f {site}.prev {site} 2>/dev/null || sudo rm -f {site} {link})"
    return (
        f"sudo rm -f {site}.new; if grep -qs 'release {release_id}' {site}; then {back}; "
        f"sudo nginx -t -q && sudo nginx -s reload; fi; true"
    )


def take_lock(layout: Layout, holder: str) -> str:
    """Make the app's lock directory, naming its holder; fail naming the one who has it."""
    lock = layout.lock
    return (
        f"mkdir {lock} 2>/dev/null && echo {shlex.quote(holder)} > {lock}/holder || "
        f'{{ echo "held by $(cat {lock}/holder 2>/dev/null || echo someone)"; exit 1; }}'
    )


def release_lock(layout: Layout) -> str:
    return f"rm -rf {layout.lock}"


def point_current(layout: Layout, release_id: str) -> str:
    new = f"{layout.root}/current.new"
    return f"ln -sfn releases/{release_id} {new} && mv -T {new} {layout.current}"


def drain() -> str:
    """Wait (≤ 10 s) until nginx's old workers have finished their requests."""
    busy = "pgrep -f '[n]ginx: worker process is shutting down' >/dev/null"  # [n]: not this shell
    return f"for i in $(seq 100); do {busy} || break; sleep 0.1; done; true"


def remove_release(layout: Layout, release_id: str) -> str:
    return f"rm -rf {layout.release(release_id)} {layout.static(release_id)}"


def remove_venvs(layout: Layout, hashes: list[str]) -> str:
    return "rm -rf " + " ".join(str(layout.venv(h)) for h in hashes)


def logs(layout: Layout, facts: ServerFacts, mode: str, lines: int, follow: bool) -> str:
    """``tail`` (or journalctl, under systemd) of the serving server's log and nginx's logs."""
    unit = layout.runserver_service
    if mode == "gunicorn" and facts.current:
        unit = layout.gunicorn_service(facts.current)
    nginx = (
        ""
        if mode == "runserver"
        else f" {layout.nginx_log}.access.log {layout.nginx_log}.error.log"
    )
    tail = f"sudo tail -n {lines}{' -F' if follow else ''}"
    if facts.supervisor == "systemd":
        journal = f"sudo journalctl -u {unit} -n {lines} --no-pager{' -f' if follow else ''}"
        return f"{journal} & {tail}{nginx}; wait" if nginx else journal
    return f"{tail} /var/log/pocketcloud/{unit}.log{nginx}"
