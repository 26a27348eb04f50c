"""What a deploy, a rollback or a removal must do: what exists + what is wanted → steps.

Pure: the server's facts come from the probe, the wanted release from the project; the
runner applies the plan. ``--dry-run`` prints it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pocketcloud.deploy import commands as cmd
from pocketcloud.deploy import processes
from pocketcloud.deploy import shell as sh
from pocketcloud.deploy.facts import Release, ServerFacts
from pocketcloud.deploy.layout import RELEASE_META, SETTINGS_MODULE, Layout
from pocketcloud.deploy.nginx import DEFAULT_SERVER, site
from pocketcloud.deploy.steps import Local, Plan, Remote, Step, Sync

WEB_GROUP = "www-data"
RUNSERVER_PORT = 8080
#: never shipped: the local secrets (the seed's settings_local.json), caches, local state
EXCLUDES = (".git/", ".venv/", "venv/", ".conf/settings_local.json", "__pycache__/",
            "*.pyc", "db.sqlite3", "staticfiles/", "media/", ".pocketcloud/")  # fmt: skip


#: the wheelhouse's own notes (its input and pins, with local paths): not shipped
WHEELHOUSE_NOTES = (".complete", "wanted.in", "pins.txt")


class PlanError(ValueError):
    """What was asked cannot be done on this server (e.g. rollback to an unknown release)."""


@dataclass(frozen=True)
class Wanted:
    """The release to deploy and how."""

    layout: Layout
    #: the release, with the names it answers to (nginx's server_name, ALLOWED_HOSTS)
    release: Release
    #: the project folder on this machine, and its requirements file in it (or None)
    source: str
    requirements: str | None
    #: the local wheelhouse, and the command that fills it when it is not built yet
    wheelhouse: str
    build_wheels: tuple[str, ...] | None = None
    #: packages to install beside the requirements (gunicorn, when a project lacks it)
    extra: tuple[str, ...] = ()
    python: str = "python3"
    keep: int = 5
    force: bool = False
    #: settings the release gains beside DEBUG and ALLOWED_HOSTS (its bucket)
    settings: dict[str, str] = field(default_factory=dict)


def deploy(want: Wanted, facts: ServerFacts) -> Plan:
    """The plan that makes ``want.release`` the one serving, or nothing if it already is."""
    current = facts.current_release
    if current and not want.force and _same(current, want.release):
        return Plan(
            steps=(_health(want.layout, facts, current, want.release.names[0]),),
            notes=(f"release {current.release_id} already serves this code: nothing to ship",),
        )
    prepare = _prepare(want, facts)
    build = _build(want, facts)
    rel = want.release
    start, undo = _start(want.layout, facts, rel, rel.names, rel.workers)
    retire = _retire(want.layout, facts, want.release, keep=want.keep)
    steps = (*prepare, *build, *start)
    drop = Remote(
        "remove the failed release", cmd.remove_release(want.layout, want.release.release_id)
    )
    return Plan(steps=(*steps, *retire), undo=(*undo, drop), commit=len(steps))


def rollback(
    layout: Layout, facts: ServerFacts, target: str | None, names: tuple[str, ...]
) -> Plan:
    """Serve an earlier release again without rebuilding it (its venv must still exist),
    under the names it was deployed with (its own settings' ALLOWED_HOSTS; ``names`` for a
    release that recorded none)."""
    release = _rollback_target(facts, target)
    if release.requirements not in facts.venvs:
        raise PlanError(f"release {release.release_id}'s virtualenv was pruned; deploy instead")
    start, undo = _start(layout, facts, release, release.names or names, release.workers)
    retire = _retire(layout, facts, release, keep=len(facts.releases))
    return Plan(steps=(*start, *retire), undo=undo, commit=len(start))


def remove(layout: Layout, facts: ServerFacts) -> Plan:
    """Everything of the app on its server: its services, nginx site and folder."""
    own = [u for u in facts.units if layout.owns(u)]
    steps: list[Step] = []
    if own:
        steps.append(Remote("stop the app's servers", processes.disable(facts.supervisor, own)))
    site = [sh.words("sudo", "rm", "-f", layout.nginx_link, layout.nginx_site,
                     f"{layout.nginx_site}.prev")]  # fmt: skip
    if facts.nginx_running:
        site.append(sh.words("sudo", "nginx", "-s", "reload"))
    steps += [
        Remote("remove the app's nginx site", sh.each(site)),
        Remote("remove the app's folder", sh.words("sudo", "rm", "-rf", layout.root)),
    ]
    return Plan(steps=tuple(steps))


def _rollback_target(facts: ServerFacts, target: str | None) -> Release:
    ids = [r.release_id for r in facts.releases]
    if target is None:
        if facts.current not in ids or ids.index(facts.current) == 0:
            raise PlanError("no earlier release to roll back to")
        target = ids[ids.index(facts.current) - 1]
    release = facts.release(target)
    if release is None:
        raise PlanError(f"no release {target} on the server; releases: {', '.join(ids) or 'none'}")
    if target == facts.current:
        raise PlanError(f"release {target} is already serving")
    return release


def _same(a: Release, b: Release) -> bool:
    """Whether two releases are the same code, requirements, mode, names and workers."""
    return a.meta() | {"id": "", "created": ""} == b.meta() | {"id": "", "created": ""}


def _prepare(want: Wanted, facts: ServerFacts) -> list[Step]:
    layout, gunicorn = want.layout, want.release.mode == "gunicorn"
    steps: list[Step] = []
    fresh = want.release.requirements not in facts.venvs
    if fresh and want.build_wheels:  # first: a requirement that cannot fit changes nothing
        marker = f"{want.wheelhouse}/.complete"
        title = "build the wheelhouse for the Python on the server (cached)"
        steps.append(Local(title, want.build_wheels, marker))
    missing = [p for p in facts.missing_packages() if gunicorn or p != "nginx"]
    if missing:
        steps.append(Remote("install system packages", cmd.install_packages(missing)))
    dirs = cmd.make_dirs(layout, facts.user, web_group=WEB_GROUP if gunicorn else None)
    steps.append(Remote("make the app's folders", dirs))
    if fresh:
        opts = ("-a", "--ignore-existing", "--chmod=Do-rwx,Fo-rwx",
                *(f"--exclude={name}" for name in WHEELHOUSE_NOTES))  # fmt: skip
        steps.append(Sync("ship the wheelhouse", f"{want.wheelhouse}/", f"{layout.wheels}/", opts))
    return steps


def _build(want: Wanted, facts: ServerFacts) -> list[Step]:
    """Ship the code and make it runnable: venv, settings, checks, migrations, static."""
    layout, rel = want.layout, want.release
    folder = layout.release(rel.release_id)
    link = (f"--link-dest=../{facts.current}",) if facts.current else ()
    excludes = tuple(f"--exclude={e}" for e in EXCLUDES)
    # unchanged files become hard links to the serving release's, changed ones are sent
    # whole: Debian 12's rsync 3.2.7 fails to verify a delta made against a --link-dest basis
    options = (
        "-a",
        "--whole-file",
        "--delete",
        "--chmod=Do-rwx,Fo-rwx",
        *link,
        *excludes,
        "--filter=:- .gitignore",
    )
    venv = layout.venv(rel.requirements)
    steps: list[Step] = [Sync("ship the code", f"{want.source}/", f"{folder}/", options)]
    if rel.requirements not in facts.venvs:
        reqs = ["-r", f"{folder}/{want.requirements}"] if want.requirements else []
        line = cmd.build_venv(
            venv, want.python, layout.wheels, [*reqs, *want.extra],
            system_pip=facts.system_pip and want.python == "python3",  # the probe's python
        )  # fmt: skip
        steps.append(Remote("make the virtualenv (pip install --no-index)", line))
    meta = json.dumps(rel.meta(), indent=2) + "\n"
    module = cmd.production_module(rel.settings_module)

    def manage(*args: str) -> str:
        return cmd.manage(layout, rel.release_id, rel.manage_dir, venv, *args)

    steps += [
        Remote("record the release", cmd.write_file(folder / RELEASE_META), meta, RELEASE_META),
        Remote(
            "production settings module",
            cmd.write_file(folder / rel.manage_dir / f"{SETTINGS_MODULE}.py"),
            module,
            f"{SETTINGS_MODULE}.py",
        ),
        Remote(
            "production settings (0600, SECRET_KEY kept)",
            cmd.production_settings(layout, rel.release_id, rel.names, want.settings),
            cmd.remote_script("settings.py"),
            "update_settings.py",
        ),
        Remote("manage.py check --deploy", manage("check", "--deploy")),
        Remote("manage.py migrate", manage("migrate", "--noinput")),
    ]
    if rel.mode == "gunicorn":
        steps.append(Remote("manage.py collectstatic", manage("collectstatic", "--noinput")))
    return steps


def gunicorn(layout: Layout, release: Release, user: str, workers: int) -> processes.Service:
    """The release's gunicorn on its own unix socket, as the login user, group www-data.

    nginx logs every request; gunicorn logs its own errors only."""
    venv = layout.venv(release.requirements)
    argv = (
        f"{venv}/bin/gunicorn", "--bind", f"unix:{layout.socket(release.release_id)}",
        "--workers", str(workers), "--user", user, "--group", WEB_GROUP, "--umask", "007",
        "--error-logfile", "-", "--timeout", "30",
        "--graceful-timeout", "20", release.wsgi,
    )  # fmt: skip
    return processes.Service(
        layout.gunicorn_service(release.release_id),
        argv,
        cwd=str(layout.release(release.release_id) / release.manage_dir),
        env=cmd.django_env(layout, release.release_id),
        description=f"gunicorn for {layout.app} release {release.release_id}",
    )


def runserver(layout: Layout, release: Release) -> processes.Service:
    """The seed's ``./manage.py runserver 0:8080``: Django's development server."""
    venv = layout.venv(release.requirements)
    return processes.Service(
        layout.runserver_service,
        (f"{venv}/bin/python", "manage.py", "runserver", f"0:{RUNSERVER_PORT}"),
        cwd=str(layout.release(release.release_id) / release.manage_dir),
        env=cmd.django_env(layout, release.release_id),
        description=f"Django development server for {layout.app} (not for production)",
    )


def _enable(facts: ServerFacts, service: processes.Service) -> Remote:
    """Start a service and keep it running; the title shows the program it runs."""
    line, spec = processes.enable(facts.supervisor, service)
    name = processes.definition_path(facts.supervisor, service.name).rsplit("/", 1)[1]
    program = " ".join([service.argv[0].rsplit("/", 1)[1], *service.argv[1:]][:4])
    return Remote(f"start {service.name}: {program} …", line, spec, name)


def _start(
    layout: Layout, facts: ServerFacts, rel: Release, names: tuple[str, ...], workers: int
) -> tuple[list[Step], tuple[Step, ...]]:
    """Start ``rel`` beside the serving one, check it, switch to it: (steps, undo)."""
    if rel.mode == "runserver":
        return _start_runserver(layout, facts, rel, names)
    service = gunicorn(layout, rel, facts.user, workers)
    health = cmd.health_socket(layout.socket(rel.release_id), names[0])
    steps: list[Step] = [_enable(facts, service), _check("health check on its own socket", health)]
    if not facts.nginx_running:
        line, spec = processes.nginx(facts.supervisor)
        steps.append(Remote("start nginx", line, spec, "nginx.json" if spec else ""))
        steps.append(_check("wait for nginx", cmd.wait_nginx()))
    rid = rel.release_id
    steps += [
        Remote("nginx: refuse unknown hosts", cmd.default_site(), DEFAULT_SERVER, "default.conf"),
        Remote("nginx site for the release", cmd.install_site(layout), site(layout, rid, names),
               layout.nginx_site.name),
        Remote("switch nginx to the release (graceful reload)", cmd.switch(layout)),
        _check("check the site through nginx", cmd.check_nginx(names[0], rid)),
        Remote("point current at the release", cmd.point_current(layout, rid)),
    ]  # fmt: skip
    undo = (
        Remote("put the previous nginx site back", cmd.restore_site(layout, rid)),
        Remote(f"stop {service.name}", processes.disable(facts.supervisor, [service.name])),
    )
    return steps, undo


def _start_runserver(
    layout: Layout, facts: ServerFacts, rel: Release, names: tuple[str, ...]
) -> tuple[list[Step], tuple[Step, ...]]:
    """The development server replaces the previous one on port 8080 (no overlap possible)."""
    service = runserver(layout, rel)
    steps: list[Step] = [
        _enable(facts, service),
        _check("health check on port 8080", cmd.health_port(RUNSERVER_PORT, names[0])),
        Remote("point current at the release", cmd.point_current(layout, rel.release_id)),
    ]
    previous = facts.current_release
    if previous is not None and previous.mode == "runserver":
        undo: tuple[Step, ...] = (_enable(facts, runserver(layout, previous)),)
    else:
        undo = (
            Remote(f"stop {service.name}", processes.disable(facts.supervisor, [service.name])),
        )
    return steps, undo


def _retire(layout: Layout, facts: ServerFacts, rel: Release, *, keep: int) -> list[Step]:
    """After the switch: stop the app's other gunicorns once nginx drained, prune releases."""
    keep_unit = layout.gunicorn_service(rel.release_id) if rel.mode == "gunicorn" else ""
    keep_unit = keep_unit or layout.runserver_service
    stale = [u for u in facts.units if layout.owns(u) and u != keep_unit]
    steps: list[Step] = []
    if stale:
        steps += [
            _check("let nginx's old workers finish", cmd.drain()),
            Remote("stop the previous release", processes.disable(facts.supervisor, stale)),
        ]
    return steps + _prune(layout, facts, rel, keep)


def _prune(layout: Layout, facts: ServerFacts, rel: Release, keep: int) -> list[Step]:
    """Remove releases beyond the newest ``keep`` (never the serving one) and unused venvs."""
    releases = sorted({*facts.releases, rel}, key=lambda r: r.release_id)
    kept = {r.release_id for r in releases[-keep:]} | {rel.release_id}
    drop = [r.release_id for r in releases if r.release_id not in kept]
    used = {r.requirements for r in releases if r.release_id in kept}
    venvs = sorted(facts.venvs - used)
    steps: list[Step] = []
    if drop:
        line = sh.each(cmd.remove_release(layout, r) for r in drop)
        steps.append(Remote(f"remove old releases ({', '.join(drop)})", line))
    if venvs:
        steps.append(Remote("remove unused virtualenvs", cmd.remove_venvs(layout, venvs)))
    return steps


def _health(layout: Layout, facts: ServerFacts, rel: Release, host: str) -> Step:
    """The serving release, asked once (through nginx, or runserver's port)."""
    del layout, facts
    if rel.mode == "runserver":
        return _check("health check on port 8080", cmd.health_port(RUNSERVER_PORT, host, tries=1))
    return _check("health check through nginx", cmd.check_site(host))


def _check(title: str, line: str) -> Remote:
    """A wait or health check: ``line`` runs the checks script fed on its stdin."""
    return Remote(title, line, cmd.remote_script(cmd.CHECKS), cmd.CHECKS)
