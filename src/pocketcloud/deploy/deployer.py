"""``pocketcloud deploy`` and friends: find the project, reach the server, plan, run.

The thin edge around the pure plan: cloud calls (boto3, :mod:`.cloud`), OpenSSH and
rsync (:mod:`.ssh`); nothing here imports the cloud's own services, store or host.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pocketcloud.deploy import apps, cloud, plan, provision, pythons, source, storage
from pocketcloud.deploy import commands as cmd
from pocketcloud.deploy import shell as sh
from pocketcloud.deploy import wheelhouse as wheelhouse_
from pocketcloud.deploy.facts import Release, ServerFacts
from pocketcloud.deploy.layout import Layout
from pocketcloud.deploy.project import Project, locate_project
from pocketcloud.deploy.ssh import Connection, Echo, Runner, StepFailed
from pocketcloud.deploy.steps import Login, Plan, Remote


def wheel_cache() -> Path:
    """``$XDG_CACHE_HOME/pocketcloud/wheels`` (default ~/.cache/pocketcloud/wheels)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pocketcloud" / "wheels"


class DeployError(RuntimeError):
    """A deploy stopped: what failed and what still serves."""


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line."""

    target: str = "pocketcloud"
    app: str | None = None
    profile: str | None = None
    region: str | None = None
    instance_type: str = "t3.micro"
    image_name: str | None = None
    image_owner: str | None = None
    key: str | None = None
    ssh_from: str | None = None
    domains: tuple[str, ...] = ()
    runserver: bool = False
    python: str = "python3"
    #: gunicorn's workers; None: (2 x the server's cores) + 1, as gunicorn's docs advise
    workers: int | None = None
    keep: int = 5
    force: bool = False
    dry_run: bool = False
    #: the app's S3 bucket: made, with a role that may use it, given to the instance
    bucket: str | None = None


DEFAULT_PYTHON = "python3"
#: the interpreter of a plan made before there is a server to ask (a dry run that launches)
PLACEHOLDER = pythons.Interpreter(DEFAULT_PYTHON, "<server's>", "<server's>")


def pem_path(app: str) -> Path:
    """The seed's ``~/.ssh/<key>.pem``."""
    return Path.home() / ".ssh" / f"{app}.pem"


def parse_ssh_target(url: str) -> Login:
    """``ssh://user@host[:port]`` as a login (ValueError if it is not one)."""
    parts = urlsplit(url)
    if parts.scheme != "ssh" or not parts.hostname or not parts.username:
        raise ValueError(f"--target {url!r}: use pocketcloud, aws or ssh://user@host[:port]")
    return Login(parts.username, parts.hostname, parts.port or 22)


def connect(record: apps.AppRecord, echo: Echo) -> Runner:
    """A runner for the app's server, its shared connection open and a login proven (a new
    instance is given two minutes to boot, any other server 20 s)."""
    login = Login(record.user, record.host, record.port, record.key)
    runner = Runner(Connection(login, record.known_hosts, record.strict), echo)
    runner.open()
    runner.wait(timeout=120 if record.instance_id else 20)
    return runner


def probe(runner: Runner, layout: Layout, python: str = "") -> ServerFacts:
    """What the server holds for the app, and its Pythons (``python`` too, if asked for)
    (runs the probe script over ssh)."""
    line = sh.words("python3", "-", layout.root, *([python] if python else []))
    out = runner.capture("look at the server", line, cmd.remote_script("probe.py"))
    try:
        return ServerFacts.parse(out.strip().splitlines()[-1])
    except (ValueError, KeyError, IndexError) as exc:
        raise DeployError(
            f"the server's answer to the probe is not readable: {out[-500:]}"
        ) from exc


@contextlib.contextmanager
def locked(runner: Runner, layout: Layout) -> Iterator[None]:
    """Hold the app's deploy lock on the server while the block runs (one deploy or
    rollback at a time); DeployError naming the holder if another has it."""
    holder = f"{socket.gethostname()} pid {os.getpid()} since {datetime.now(UTC):%H:%M:%S} UTC"
    try:
        lock = cmd.take_lock(layout, holder)
        runner.run(
            Remote("take the app's deploy lock", lock, cmd.remote_script(cmd.CHECKS), cmd.CHECKS)
        )
    except StepFailed as failed:
        raise DeployError(
            f"another deploy or rollback of {layout.app} is running ({failed.tail.strip()}); "
            "if none is, remove its lock: "
            f"{runner.login.shown()} {shlex.quote(cmd.release_lock(layout))}"
        ) from failed
    try:
        yield
    finally:
        with contextlib.suppress(StepFailed):
            runner.run(Remote("release the deploy lock", cmd.release_lock(layout)))


def _provision(
    opts: Options, app: str, echo: Echo, release: Callable[[], str]
) -> apps.AppRecord | None:
    """Key pair, group and instance for a cloud target (a new one from ``release()``'s
    image); the record (None: dry run, no server)."""
    extra = {"instance_type": opts.instance_type}
    extra |= {
        k: v for k, v in (("image_name", opts.image_name), ("image_owner", opts.image_owner)) if v
    }
    where = cloud.target(opts.target, opts.profile, opts.region, **extra)
    mode = "runserver" if opts.runserver else "gunicorn"
    ec2 = cloud.CloudApi(where, app, echo)
    pem = pem_path(app)
    ec2.key_pair(pem, dry_run=opts.dry_run)
    group_id = ec2.group(mode, dry_run=opts.dry_run)
    names = storage.StorageNames(app, opts.bucket) if opts.bucket else None
    if names is not None:
        ec2.storage(names, dry_run=opts.dry_run)
    profile = names.profile if names is not None else None
    instance = ec2.instance(group_id, release, profile=profile, dry_run=opts.dry_run)
    if names is not None and instance is not None and not opts.dry_run:
        ec2.give_profile(instance, names)
    if opts.dry_run:
        return (
            None if instance is None or group_id is None else _record_of(opts, app, ec2, instance)
        )
    if instance is None or group_id is None:
        raise DeployError("the cloud returned no instance or group")
    server = ec2.server(instance)
    ec2.open_ssh(group_id, opts.ssh_from or cloud.source_address(server.address))
    record = _record_of(opts, app, ec2, instance)
    record = replace(record, strict="yes" if server.known_hosts else "accept-new")
    apps.write_known_hosts(record, server.known_hosts)
    return record


def _record_of(
    opts: Options, app: str, ec2: cloud.CloudApi, instance: dict[str, Any]
) -> apps.AppRecord:
    names = provision.addresses(instance)
    return apps.AppRecord(
        app=app, target=opts.target, host=names[0] if names else "", user=ec2.where.login_user,
        key=str(pem_path(app)), profile=ec2.where.profile,
        region=opts.region or (ec2.region if opts.bucket else None),
        instance_id=instance["InstanceId"], names=list(dict.fromkeys([*opts.domains, *names])),
        mode="runserver" if opts.runserver else "gunicorn", bucket=opts.bucket,
    )  # fmt: skip


def _ssh_record(opts: Options, app: str) -> apps.AppRecord:
    login = parse_ssh_target(opts.target)
    key = str(Path(opts.key).expanduser().resolve()) if opts.key else None
    return apps.AppRecord(
        app=app, target=opts.target, host=login.host, user=login.user, port=login.port,
        key=key, names=list(dict.fromkeys([*opts.domains, login.host])),
        mode="runserver" if opts.runserver else "gunicorn",
    )  # fmt: skip


def extras(project: Project, mode: str, bucket: bool = False) -> tuple[str, ...]:
    """Packages installed beside the requirements: Django when there are none, gunicorn
    when they lack it, django-storages with boto3 for a bucket when they lack it."""
    reqs = project.root / project.requirements if project.requirements else None
    req_text = reqs.read_text().lower() if reqs else ""
    needs = ["django"] if reqs is None else []
    needs += ["gunicorn"] if mode == "gunicorn" and "gunicorn" not in req_text else []
    needs += ["django-storages[s3]"] if bucket and "django-storages" not in req_text else []
    return tuple(needs)


def _requirement_files(project: Project) -> list[Path]:
    return [project.root / project.requirements] if project.requirements else []


def _cached(project: Project, extra: tuple[str, ...], target: wheelhouse_.Target) -> Path:
    """The local wheelhouse for these requirements and that interpreter."""
    reqs = str(project.requirements) if project.requirements else None
    return wheel_cache() / source.requirements_hash(project.root, reqs, extra, target.describe())


def refusal(
    project: Project, mode: str, target: wheelhouse_.Target, bucket: bool = False
) -> str | None:
    """Why the project's requirements cannot be installed on ``target`` (None: they can;
    a wheelhouse already built for it says so without asking the index)."""
    extra = extras(project, mode, bucket)
    if (_cached(project, extra, target) / ".complete").exists():
        return None
    return wheelhouse_.refusal(target, _requirement_files(project), extra)


def wanted(
    project: Project,
    record: apps.AppRecord,
    facts: ServerFacts,
    opts: Options,
    python: pythons.Interpreter = PLACEHOLDER,
) -> plan.Wanted:
    """The release this project's files make, and how to deploy it with ``python``."""
    reqs = str(project.requirements) if project.requirements else None
    mode = record.mode
    extra = extras(project, mode, bool(record.bucket))
    target = python.target(facts.glibc, facts.machine)
    wheelhouse = _cached(project, extra, target)
    req_hash = wheelhouse.name
    build = None
    if not (wheelhouse / ".complete").exists():
        build = wheelhouse_.command(target, _requirement_files(project), extra, wheelhouse)
    files = source.shipped_files(project.root)
    digest = source.digest(project.root, files)
    now = datetime.now(UTC)
    release = Release(
        release_id=f"{now:%Y%m%d-%H%M%S}-{digest[:7]}", digest=digest, requirements=req_hash,
        mode=mode, manage_dir=str(project.manage_dir), settings_module=project.settings_module,
        wsgi=_wsgi(project), created=now.isoformat(timespec="seconds"),
        names=tuple(record.names), workers=opts.workers or 2 * facts.cpus + 1,
    )  # fmt: skip
    return plan.Wanted(
        layout=Layout(record.app), release=release,
        source=str(project.root), requirements=reqs, wheelhouse=str(wheelhouse),
        build_wheels=build, extra=extra, python=python.path,
        keep=opts.keep, force=opts.force, settings=_app_settings(record),
    )  # fmt: skip


def _app_settings(record: apps.AppRecord) -> dict[str, str]:
    """The settings a release gains from where it runs: its bucket, if it has one."""
    if not record.bucket:
        return {}
    return storage.app_settings(record.bucket, record.region or "us-east-1")


def choose_release(project: Project, mode: str, echo: Echo, bucket: bool = False) -> str:
    """The image release a new instance for the project is launched from: the first whose
    Python the project's need admits and its requirements install on."""
    need = pythons.need_of(project.root)
    name, passed = pythons.choose_image(need, partial(refusal, project, mode, bucket=bucket))
    for reason in passed:
        echo("note", f"not {reason}")
    version = dict(pythons.IMAGES)[name].version
    fits = f"it fits {need.describe()}" if need.sources else "the requirements install on it"
    echo("note", f"a new instance from {name} (Python {version}): {fits}")
    return name


class NoPython(Exception):
    """Nothing on the server fits the project (yet: pyenv may add a Python)."""

    def __init__(self, need: pythons.Need, passed: list[str]) -> None:
        super().__init__(need.describe())
        self.need, self.passed = need, passed


def python_for(
    project: Project, runner: Runner, record: apps.AppRecord, opts: Options, echo: Echo
) -> tuple[ServerFacts, pythons.Interpreter]:
    """The server's facts and the interpreter the venv is made with; when none fits and the
    server has pyenv, the seed's ``pyenv install`` first (then the server is asked again)."""
    layout, asked = Layout(record.app), asked_python(opts.python)
    facts = probe(runner, layout, asked)
    try:
        return facts, choose_python(project, facts, opts, record.mode, echo)
    except NoPython as nothing:
        install = pythons.pyenv_install(nothing.need, facts.pyenv)
        if install is None or opts.dry_run:
            raise _no_fit(project, record, nothing) from None
        missing = nothing
    try:
        runner.run(Remote("install the Python the project needs (pyenv)", sh.words(*install)))
    except StepFailed as failed:
        raise _no_fit(project, record, missing, shlex.join(install)) from failed
    facts = probe(runner, layout, asked)
    try:
        return facts, choose_python(project, facts, opts, record.mode, echo)
    except NoPython as nothing:
        raise _no_fit(project, record, nothing) from None


def _no_fit(
    project: Project, record: apps.AppRecord, nothing: NoPython, pyenv_failed: str = ""
) -> pythons.PythonError:
    """The refusal, naming an image a new instance could run the project on (cloud apps)."""
    image = None
    if record.instance_id:
        with contextlib.suppress(pythons.PythonError):
            image, _ = pythons.choose_image(
                nothing.need, partial(refusal, project, record.mode, bucket=bool(record.bucket))
            )
    return pythons.no_fit(nothing.need, nothing.passed, image, pyenv_failed)


def choose_python(
    project: Project, facts: ServerFacts, opts: Options, mode: str, echo: Echo
) -> pythons.Interpreter:
    """The interpreter on the server that makes the venv: ``--python`` if given (it must be
    there), else the first that fits the project (PythonError naming the fixes if none)."""
    need = pythons.need_of(project.root)
    found = sorted(facts.pythons, key=pythons.preference)

    def fits(python: pythons.Interpreter) -> str | None:
        return refusal(project, mode, python.target(facts.glibc, facts.machine), bool(opts.bucket))

    if opts.python != DEFAULT_PYTHON:
        asked = [p for p in found if p.asked]
        if not asked:
            have = ", ".join(f"{p.path} ({p.version})" for p in found) or "none"
            raise pythons.PythonError(f"--python {opts.python}: not on the server (it has {have})")
        found = asked
    chosen, passed = pythons.choose_interpreter(need, found, fits)
    if chosen is None:
        raise NoPython(need, passed)
    if chosen.path != DEFAULT_PYTHON or need.sources:
        echo("note", f"Python {chosen.version} ({chosen.path}) fits {need.describe()}")
    return chosen


def asked_python(python: str) -> str:
    """The command ``--python`` names on the server: a command or path as given; a version
    ``3.N`` is ``python3.N``, ``3.N.M`` pyenv's build of it (``~/.pyenv/versions/…``)."""
    if re.fullmatch(r"3\.[0-9]+", python):
        return f"python{python}"
    if re.fullmatch(r"3\.[0-9]+\.[0-9]+", python):
        return f"~/.pyenv/versions/{python}/bin/python3"
    return python


def _wsgi(project: Project) -> str:
    """``<package>.wsgi:application`` when the project has one, else Django's factory."""
    package = project.settings_module.split(".")[0]
    if (project.root / project.manage_dir / package / "wsgi.py").is_file():
        return f"{package}.wsgi:application"
    return "django.core.wsgi:get_wsgi_application()"


def deploy(path: Path, opts: Options, echo: Echo) -> tuple[apps.AppRecord | None, Plan]:
    """Deploy the project at ``path``; (the app's record, the plan that ran or would run)."""
    project = locate_project(path)
    app = opts.app or project.name
    Layout(app)  # the name and the project's Python need are read before anything is made
    pythons.need_of(project.root)
    mode = "runserver" if opts.runserver else "gunicorn"
    _note_local_key(project, opts, echo)
    if opts.target in ("pocketcloud", "aws"):
        record = _provision(
            opts, app, echo, lambda: choose_release(project, mode, echo, bool(opts.bucket))
        )
    else:
        record = _ssh_record(opts, app)
    if record is not None:
        record = replace(record, project=str(project.root))
    if record is None:  # a dry run on a cloud with no server yet: an empty one
        placeholder = apps.AppRecord(
            app, opts.target, "<new instance>", "admin", names=["<new instance>"]
        )
        return None, plan.deploy(wanted(project, placeholder, ServerFacts(), opts), ServerFacts())
    facts: ServerFacts | None = None
    try:
        runner = connect(record, echo)
    except StepFailed as failed:
        hint = ""
        if record.instance_id and not opts.ssh_from:
            hint = (
                "\nthe group admits SSH only from this machine's own address toward the "
                "server; behind NAT, pass --ssh-from <your public address>/32"
            )
        raise DeployError(
            f"{failed}\n\nthe deploy stopped before changing the server{hint}"
        ) from failed
    try:
        if opts.dry_run:
            facts, python = python_for(project, runner, record, opts, echo)
            return record, plan.deploy(wanted(project, record, facts, opts, python), facts)
        record.save()  # where the app lives, even if this deploy fails: destroy finds it
        with locked(runner, Layout(app)):
            facts, python = python_for(project, runner, record, opts, echo)
            the_plan = plan.deploy(wanted(project, record, facts, opts, python), facts)
            for line in the_plan.notes:
                echo("note", line)
            late = runner.run_plan(the_plan)
    except StepFailed as failed:
        current = facts.current if facts else None
        serving = f"release {current} keeps serving" if current else "nothing was serving"
        raise DeployError(f"{failed}\n\nthe deploy stopped; {serving}") from failed
    finally:
        runner.close()
    if late:
        echo("warn", f"{len(late)} step(s) after the switch failed; the new release serves")
    return record, the_plan


def _note_local_key(project: Project, opts: Options, echo: Echo) -> None:
    """Say a role is safer when the project keeps an access key locally (and no --bucket)."""
    note = None if opts.bucket else storage.key_note(_local_settings(project))
    if note:
        echo("note", note)


def _local_settings(project: Project) -> dict[str, Any]:
    """The project's .conf/settings_local.json ({} when it has none or it is unreadable)."""
    path = project.root / ".conf" / "settings_local.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remove_from_server(record: apps.AppRecord, echo: Echo) -> None:
    """Stop the app's servers and remove its nginx site and folder (ssh targets)."""
    runner = connect(record, echo)
    try:
        runner.run_plan(plan.remove(Layout(record.app), probe(runner, Layout(record.app))))
    finally:
        runner.close()


def fetch(record: apps.AppRecord, path: str = "/", timeout: float = 10) -> tuple[int, str]:
    """GET the site from this machine with the app's first name as Host: (status, body)."""
    port = 8080 if record.mode == "runserver" else 80
    request = urllib.request.Request(
        f"http://{record.host}:{port}{path}", headers={"Host": record.names[0]}
    )
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                return int(answer.status), answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode("utf-8", "replace")
        except OSError:
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.2)
